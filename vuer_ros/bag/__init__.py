"""Offline rendering of recorded ROS 2 bags: the bag edge of the core (no rclpy).

    from vuer_ros.bag import RenderOptions, render_bag
    summary = render_bag("run.mcap", "rendered.mcap", video="run.mp4",
                         options=RenderOptions.create("config/viewer.yaml", rate=10))

- ``reader.py``: :class:`BagInput`, streaming a bag of any ROS 2 writer with its own definitions;
- ``mcap_file.py``: MCAP files rosbags refuses (the Foxglove SDK's), with the mcap package;
- ``outputs.py``: the output bag, MP4 video and PNG folder, on a writer thread;
- ``render.py``: :func:`render_bag` / :func:`render_bag_async`, :class:`Renderer`: a bag
  through the core's offline loop (vuer_ros/view/offline.py) into the outputs;
- ``progress.py``: progress on stderr; ``cli.py``: ``vuer-ros render-bag``;
- ``synthetic.py``: demo bags for tests and benchmarks;
- ``errors.py``: one-line errors that say what to do.
"""

from ..view.offline import RenderSummary
from ..view.options import RenderOptions
from .errors import BagReadError, BagRenderError, FrameError, OutputError, RendererError, TopicError
from .reader import BagInput
from .render import Renderer, render_bag, render_bag_async

__all__ = ["BagInput", "BagReadError", "BagRenderError", "FrameError", "OutputError",
           "RenderOptions", "RenderSummary", "Renderer", "RendererError", "TopicError",
           "render_bag", "render_bag_async"]
