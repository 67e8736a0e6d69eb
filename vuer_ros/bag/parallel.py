"""``render-bag --jobs N``: one bag rendered in N segments by N local worker
processes, each with its own browser, and joined here while they render.

    summary = render_bag_jobs("run.mcap", "rendered.mcap", video="run.mp4", jobs=4)

The window's ticks are cut into N runs (segments.py); worker i renders run i
(reading the bag from its start, so its frames are a whole run's) into a spool
beside the outputs, and writes its PNGs; this process joins the spools in order
as they grow (join.py) into the output bag (byte for byte a one-job run's), the
video (one encoder: the same frames, the same bytes) and the PNG index. The
spools are removed at the end; they hold at most what the output bag holds (the
images of the frames not joined yet).

Speed (bench/bag_many.py): splitting costs about a quarter more CPU per frame (the
frames cross a spool; each worker reads the bag up to its run, far cheaper than
rendering it), and the join, one process, takes about a third of a one-job run's
own CPU per frame (writing the bag, encoding the video). So N workers give up to
about N/1.25 times the frames per second where the cores are free, until the join's
cap (about 166 frames/s at 640x480 with a bag and a video).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..view.errors import RenderError
from ..view.offline import ProgressInfo, RenderSummary, check_some_frame, plan
from ..view.options import RenderOptions
from ..view.ticks import NS_PER_S
from .executors import LocalPool
from .join import join_bag
from .outputs import bag_layout, frames_dirs, video_paths
from .reader import BagInput
from .render import prepare_frames_dir, prepare_path
from .tasks import SegmentTask, TaskResult

logger = logging.getLogger("vuer_ros.bag")


class SegmentError(RenderError):
    """A segment's worker failed; ``exit_code`` is its error's."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def render_bag_jobs(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
                    *, video: str | os.PathLike[str] | None = None,
                    frames: str | os.PathLike[str] | None = None,
                    options: RenderOptions | None = None, jobs: int = 2,
                    progress: Callable[..., None] | None = None,
                    should_stop: Callable[[], bool] | None = None,
                    should_abort: Callable[[], bool] | None = None,
                    overwrite: bool = False) -> RenderSummary:
    """:func:`~vuer_ros.bag.render_bag` in ``jobs`` worker processes (see the module
    docstring). ``should_stop()``: every worker stops after its current frame and the
    outputs end at the first tick not rendered; ``should_abort()``: the workers stop
    at once. Raises :class:`BagRenderError` subclasses with one-line messages;
    outputs are closed and readable whatever happens."""
    options = options or RenderOptions.create()
    started = time.monotonic()
    out_path = Path(output) if output is not None else None
    if out_path is not None:
        bag_layout(out_path, options.storage)
    with BagInput(Path(input)) as bag:
        the_plan = plan(bag, options)     # bad input fails here, before any worker starts
        ticks = len(the_plan.clock)
        window_s = (the_plan.clock.end_ns - the_plan.clock.start_ns) / NS_PER_S
    parts = max(1, min(jobs, ticks))
    cameras = options.settings.camera_specs
    out_path = prepare_path(out_path, overwrite, "output bag")
    video_path = Path(video) if video is not None else None
    frames_path = Path(frames) if frames is not None else None
    for p in (video_paths(video_path, cameras) if video_path else {}).values():
        prepare_path(p, overwrite, "video")
    for p in (frames_dirs(frames_path, cameras) if frames_path else {}).values():
        prepare_frames_dir(p, overwrite)   # the segments write into them
        p.mkdir(parents=True, exist_ok=True)
    beside = next(p.parent for p in (out_path, video_path, frames_path) if p is not None) \
        if any(p is not None for p in (out_path, video_path, frames_path)) else None
    spool_dir = Path(tempfile.mkdtemp(prefix=".vuer-segments-", dir=beside))
    tasks = [SegmentTask(key=f"segment {i}", input=str(input), options=options, part=i,
                         parts=parts, spool=str(spool_dir / f"segment-{i:04d}.spool"),
                         frames=str(frames_path) if frames_path is not None else None,
                         spool_messages=out_path is not None,
                         spool_rgb=video_path is not None and out_path is None)
             for i in range(parts)]
    results: dict[str, TaskResult] = {}
    done: dict[str, int] = {}
    seen: set[tuple[int, str]] = set()
    stopping = aborting = False
    pool = LocalPool(parts)

    def pump() -> None:
        nonlocal stopping, aborting
        for kind, key, payload in pool.poll(0.02):
            if kind == "progress":
                done[key] = payload[0]
            elif kind == "log":
                if payload not in seen:   # each worker reads the same bag: say it once
                    seen.add(payload)
                    logger.log(*payload)
            elif kind == "done":
                results[key] = payload
                done[key] = payload.frames
        if should_abort is not None and not aborting and should_abort():
            aborting = True
            pool.abort()
        elif should_stop is not None and not stopping and should_stop():
            stopping = True
            pool.stop()
        if progress is not None and ticks:
            n = sum(done.values())
            progress(ProgressInfo(n, ticks, window_s * n / ticks, window_s,
                                  time.monotonic() - started))

    def finished(i: int) -> int | None:
        result = results.get(tasks[i].key)
        if result is None:
            return None
        if result.status == "failed":
            raise SegmentError(f"segment {i + 1} of {parts}: {result.error}", result.exit_code)
        return result.went

    try:
        for task in tasks:
            pool.submit(task)
        summary = join_bag(input, options, output=out_path, video=video_path, frames=frames_path,
                           spools=[Path(t.spool) for t in tasks], finished=finished, wait=pump,
                           overwrite=overwrite)
    except BaseException:
        pool.abort()
        raise
    finally:
        pool.close()
        shutil.rmtree(spool_dir, ignore_errors=True)
    summary.elapsed_s = time.monotonic() - started
    check_some_frame(summary, options)
    summary.problems = list(dict.fromkeys(p for t in tasks if t.key in results
                                          for p in results[t.key].problems))
    if progress is not None and ticks:
        progress(ProgressInfo(summary.frames, ticks, window_s, window_s, summary.elapsed_s),
                 final=True)
    return summary


__all__ = ["SegmentError", "render_bag_jobs"]
