"""render_bag: a recorded bag in, rendered frames out (a new bag, a video, PNGs).

The bag edge of offline rendering: it opens the bag (reader.py), prepares the
outputs (outputs.py: a new bag, an MP4, PNGs, written on their own thread),
and runs the core's render loop over it (vuer_ros/view/offline.py: one frame
per tick of bag time, exactly what the live node shows at that sim time)
with a :class:`~vuer_ros.view.render_session.RenderSession` (server and
headless Chromium) of its own or one passed in to reuse across bags.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from ..view.offline import Plan, RenderSummary, plan, render_recording
from ..view.options import RenderOptions
from ..view.render_session import RenderSession
from .errors import BagRenderError, OutputError
from .outputs import OutputWriter, bag_layout, frames_dirs, video_paths
from .reader import BagInput

logger = logging.getLogger("vuer_ros.bag")


class Renderer(RenderSession):
    """A scene server on a free local port and a headless Chromium rendering it;
    reusable for several bags (each render starts with one SET of its scene).

        async with Renderer(640, 480) as renderer:
            await render_bag_async(bag, "out.mcap", renderer=renderer)
    """

    def __init__(self, width: int = 640, height: int = 480, *,
                 executable: str | os.PathLike[str] | None = None) -> None:
        super().__init__(host="127.0.0.1", port=0, headless=True, width=width, height=height,
                         executable=executable)


def prepare_path(path: Path | None, overwrite: bool, what: str) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise OutputError(f"{what} {path} exists; remove it, choose another path, "
                              "or pass --overwrite")
        if path.is_dir() and not path.is_symlink():
            if any(path.iterdir()) and not (path / "metadata.yaml").is_file():
                raise OutputError(f"{what} {path} is a folder that is not a bag; --overwrite only "
                                  "replaces bags, remove it yourself")
            shutil.rmtree(path)
        else:
            path.unlink()
    if not path.parent.is_dir():
        raise OutputError(f"{what} {path}: folder {path.parent} does not exist")
    return path


def prepare_frames_dir(path: Path | None, overwrite: bool) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--frames {path} is a file, not a folder")
    if path.is_dir() and any(path.glob("frame_*.png")):
        if not overwrite:
            raise OutputError(f"--frames {path} already holds frame_*.png files; empty it, choose "
                              "another folder, or pass --overwrite")
        for old in path.glob("frame_*.png"):
            old.unlink()
    return path


# -- the render ----------------------------------------------------------------------------------------
async def render_bag_async(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
                           *, video: str | os.PathLike[str] | None = None,
                           frames: str | os.PathLike[str] | None = None,
                           options: RenderOptions | None = None, renderer: RenderSession | None = None,
                           progress: Callable[..., None] | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           overwrite: bool = False) -> RenderSummary:
    """Render ``input`` (a ROS 2 bag) tick by tick; see vuer_ros/view/offline.py.

    Outputs (any combination, or none to only count): ``output`` a new bag
    (``.mcap``/``.db3`` file, else a rosbag2 folder), ``video`` an MP4,
    ``frames`` a folder of PNGs; with listed cameras (``render.cameras``) a video and
    a folder per camera (``<video stem>_<name>.mp4``, ``<frames>/<name>/``).
    ``renderer``: a started :class:`Renderer` to
    reuse (default: one of its own). ``progress(info, final=False)`` is called
    after each frame; ``should_stop()`` is checked before each tick (True: stop
    cleanly, ``summary.interrupted``). Raises :class:`BagRenderError`
    subclasses with one-line messages; outputs are closed and readable whatever
    happens.
    """
    options = options or RenderOptions.create()
    settings = options.settings
    out_path = Path(output) if output is not None else None
    if out_path is not None:
        bag_layout(out_path, options.storage)   # a contradictory --storage fails here
    cameras = settings.camera_specs
    summary = RenderSummary(input=str(input), rate=settings.rate, width=cameras[0].width,
                            height=cameras[0].height, optical_frame=cameras[0].optical_frame)
    with BagInput(input) as bag:
        the_plan = plan(bag, options)     # topics, window, frames: checked before any output
        out_path = prepare_path(out_path, overwrite, "output bag")
        video_path = Path(video) if video is not None else None
        frames_path = Path(frames) if frames is not None else None
        for name, p in (video_paths(video_path, cameras) if video_path else {}).items():
            prepare_path(p, overwrite, "video")
            summary.outputs["video" + (f" {name}" if name else "")] = str(p)
        for name, p in (frames_dirs(frames_path, cameras) if frames_path else {}).items():
            prepare_frames_dir(p, overwrite)
            summary.outputs["frames" + (f" {name}" if name else "")] = str(p)
        writer = OutputWriter(source=bag, bag=out_path, video=video_path, frames=frames_path,
                              storage=options.storage, depth=settings.depth,
                              jpeg_quality=settings.jpeg_quality, rate=settings.rate,
                              cameras=cameras)
        if out_path is not None:
            summary.outputs = {"bag": str(out_path), **summary.outputs}
        await render_into(bag, the_plan, options, writer, summary, renderer=renderer,
                          progress=progress, should_stop=should_stop)
    return summary


async def render_into(bag: BagInput, the_plan: Plan, options: RenderOptions, writer: OutputWriter,
                      summary: RenderSummary, *, renderer: RenderSession | None = None,
                      progress: Callable[..., None] | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      ticks: range | None = None) -> None:
    """Start ``writer``, render ``ticks`` of ``bag`` (all by default) into it with
    ``renderer`` (or one of its own), and close everything, whatever happens."""
    writer.start()
    own = renderer is None
    try:
        if renderer is None:
            cameras = options.settings.camera_specs
            renderer = await Renderer(max(c.width for c in cameras),
                                      max(c.height for c in cameras)).start(wait=True)
        await render_recording(bag, options, renderer, writer, summary, the_plan=the_plan,
                               progress=progress, should_stop=should_stop, ticks=ticks)
    finally:
        try:
            if own and renderer is not None:
                await asyncio.shield(renderer.stop())
        finally:
            writer.close()
            if writer.bag is not None:
                summary.copied = writer.bag.copied


def render_bag(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
               **kw: Any) -> RenderSummary:
    """Synchronous :func:`render_bag_async` (runs its own event loop)."""
    return asyncio.run(render_bag_async(input, output, **kw))


__all__ = ["BagRenderError", "RenderSummary", "Renderer", "render_bag", "render_bag_async"]
