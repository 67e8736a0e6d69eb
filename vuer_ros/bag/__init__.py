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
- in parallel (docs/render-bag.md, "Many processes, many bags, a cluster"):
  ``segments.py`` (a bag's window cut into runs of ticks, one worker's part),
  ``spool.py`` (a segment's frames on their way to the join), ``join.py`` (the
  segments written out as one run writes them), ``parallel.py``
  (:func:`render_bag_jobs`: ``render-bag --jobs``), ``tasks.py`` (units of work as
  data, run in a worker), ``executors.py`` (local worker processes, Ray),
  ``inputs.py`` (the bags INPUTS name), ``manifest.py`` (OUTDIR/manifest.json),
  ``batch.py`` (:func:`render_bags`), ``batch_cli.py``: ``vuer-ros render-bags``;
- ``synthetic.py``: demo bags for tests and benchmarks;
- ``errors.py``: one-line errors that say what to do.
"""

from ..view.offline import RenderSummary
from ..view.options import RenderOptions
from .errors import BagReadError, BagRenderError, FrameError, OutputError, RendererError, TopicError
from .reader import BagInput
from .render import Renderer, render_bag, render_bag_async
from .batch import OutputKinds, render_bags
from .inputs import find_bags
from .parallel import render_bag_jobs

__all__ = ["BagInput", "BagReadError", "BagRenderError", "FrameError", "OutputError",
           "OutputKinds", "RenderOptions", "RenderSummary", "Renderer", "RendererError",
           "TopicError", "find_bags", "render_bag", "render_bag_async", "render_bag_jobs",
           "render_bags"]

