"""Offline rendering of recorded ROS 2 bags (rosbags and mcap; no rclpy).

    from vuer_ros.bag import RenderOptions, render_bag
    summary = render_bag("run.mcap", "rendered.mcap", video="run.mp4",
                         options=RenderOptions.create("config/viewer.yaml", rate=10))

- ``render.py``: :func:`render_bag` / :func:`render_bag_async`, :class:`Renderer`;
- ``ticks.py``: :class:`TickClock`, the tick convention (``[start, end)`` at ``rate``);
- ``reader.py``: :class:`BagInput`, streaming a sqlite3/mcap bag with its own definitions;
- ``mcap_file.py``: MCAP files rosbags refuses (the Foxglove SDK's), with the mcap package;
- ``outputs.py``: the output bag, MP4 video and PNG folder, on a writer thread;
- ``options.py``: :class:`RenderOptions` from the viewer node's parameters;
- ``progress.py``: progress on stderr; ``cli.py``: ``vuer-ros render-bag``;
- ``errors.py``: one-line errors that say what to do.
"""

from .errors import BagReadError, BagRenderError, FrameError, OutputError, RendererError, TopicError
from .options import RenderOptions
from .reader import BagInput
from .render import Renderer, RenderSummary, render_bag, render_bag_async
from .ticks import TickClock

__all__ = ["BagInput", "BagReadError", "BagRenderError", "FrameError", "OutputError",
           "RenderOptions", "RenderSummary", "Renderer", "RendererError", "TickClock",
           "TopicError", "render_bag", "render_bag_async"]
