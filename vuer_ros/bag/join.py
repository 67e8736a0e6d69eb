"""The join: a bag rendered in segments (segments.py) written out as one run writes it.

The output bag is byte for byte the one a whole run writes: rosbags lays out
connections (their ids) and messages in the order of the writer's calls, in mcap
and sqlite3 alike, so the join makes the calls a whole run makes, in the same
order. That order is the offline loop's (vuer_ros/view/offline.py): the input
messages up to tick 0, the camera's /tf_static, frame 0, the input messages of
(tick 0, tick 1], frame 1, ..., the last frame, the input messages after it. A
tick without a camera pose has no frame (its segment's spool has no record of it).
The video gets every frame in order from one encoder (the same bytes as a whole
run's: outputs.py's VideoOutput makes x264's output depend on its input only), and ``timestamps.csv`` indexes the PNGs
the segments wrote.

Segments are joined in order, each while its worker may still be rendering it:
the spool is read as it grows. A segment that stopped early (Ctrl-C) ends the
join at its first tick not gone through, as a whole run that stopped there: the
bag and the video hold every frame before it, the input copied up to that tick;
the frames of later segments stay as PNGs, indexed too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..view.offline import Plan, RenderSummary, camera_tf, plan
from ..view.options import RenderOptions
from .errors import OutputError
from .outputs import OutputWriter, frames_dirs, video_paths
from .reader import BagInput
from .render import prepare_path
from .segments import split
from .spool import SpooledFrame, SpoolReader

COPY_BATCH = 2000


@dataclass
class JoinedSegment:
    ticks: range
    spool: Path
    # None while the segment's worker runs; once it finished, how many of its ticks it
    # went through (all of them unless it was stopped). Raises when the worker failed.
    finished: Callable[[], int | None]


def join_segments(bag: BagInput, the_plan: Plan, options: RenderOptions, writer: OutputWriter,
                  segments: Sequence[JoinedSegment], summary: RenderSummary, *,
                  wait: Callable[[], None]) -> None:
    """Write the segments' frames and ``bag``'s messages into ``writer`` (started) in a
    whole run's order, filling ``summary`` (frames, skipped, stamps, interrupted).
    ``wait()`` is called while a spool has nothing new yet: it sleeps a little (and
    may raise to give up)."""
    clock = the_plan.clock
    copying = writer.wants_copies
    messages: Iterator[Any] = iter(bag.messages((), the_plan.copy_until)) if copying else iter(())
    pending = next(messages, None)

    def take(until_ns: int) -> list[Any]:
        nonlocal pending
        batch: list[Any] = []
        while pending is not None and pending[1] <= until_ns:
            batch.append(pending)
            pending = next(messages, None)
        return batch

    def put_frames(frames: list[SpooledFrame]) -> None:
        for frame in frames:   # the tick's cameras, in the whole run's order
            writer.put(("spooled", frame))
            summary.cameras[frame.camera] = summary.cameras.get(frame.camera, 0) + 1
        summary.frames += 1
        summary.stamps.append(frames[0].stamp_ns)

    flight: list[SpooledFrame] | None = None
    readers = [SpoolReader(s.spool) for s in segments]
    try:
        for seg, reader in zip(segments, readers):
            def finished(seg: JoinedSegment = seg) -> bool:
                return seg.finished() is not None

            ahead = reader.next(finished, wait)
            for k in seg.ticks:
                frames: list[SpooledFrame] = []
                while ahead is not None and ahead.index == k:
                    frames.append(ahead)
                    ahead = reader.next(finished, wait)
                if ahead is not None and ahead.index < k:
                    raise OutputError(f"segment spool {seg.spool}: frame {ahead.index} out of order")
                if not frames and ahead is None:
                    went = seg.finished()
                    assert went is not None
                    if k >= seg.ticks.start + went:   # stopped before this tick
                        summary.interrupted = True
                        break
                tick = clock.time(k)
                if frames and frames[0].stamp_ns != tick:
                    raise OutputError(f"segment spool {seg.spool}: frame {k} stamped "
                                      f"{frames[0].stamp_ns}, its tick is {tick}")
                batch = take(tick)
                if flight is not None:
                    put_frames(flight)
                    flight = None
                if batch:
                    writer.put(("copy", batch))
                if k == 0 and (static_tf := camera_tf(options, tick)) is not None:
                    writer.put(("camera_tf", tick, static_tf))
                if frames:
                    flight = frames
                else:
                    summary.skipped += 1
            if summary.interrupted:
                break
        if flight is not None:
            put_frames(flight)
        if summary.interrupted:
            _index_the_rest(segments, readers, writer, wait)
        elif copying:
            rest: list[Any] = []   # the input after the last tick
            while pending is not None:
                rest.append(pending)
                pending = next(messages, None)
                if len(rest) >= COPY_BATCH or pending is None:
                    writer.put(("copy", rest))
                    rest = []
    finally:
        for reader in readers:
            reader.close()


def _index_the_rest(segments: Sequence[JoinedSegment], readers: Sequence[SpoolReader],
                    writer: OutputWriter, wait: Callable[[], None]) -> None:
    """After a stop: the PNGs the segments wrote past the join's end, into the index."""
    if not writer.wants_index:
        return
    for seg, reader in zip(segments, readers):
        def finished(seg: JoinedSegment = seg) -> bool:
            return seg.finished() is not None

        while (frame := reader.next(finished, wait)) is not None:
            writer.put(("index", frame))


def _sleep() -> None:
    time.sleep(0.02)


def join_bag(input: str | os.PathLike[str], options: RenderOptions, *,
             output: str | os.PathLike[str] | None, video: str | os.PathLike[str] | None,
             frames: str | os.PathLike[str] | None, spools: Sequence[Path],
             finished: Callable[[int], int | None], wait: Callable[[], None] = _sleep,
             overwrite: bool = False) -> RenderSummary:
    """Join ``input``'s segments (one spool each, in order) into its outputs.
    ``finished(i)``: segment i's ticks gone through once it finished, else None (may
    raise). The frames folder, if any, was made ready before the segments started
    (they write the PNGs); here only its index is written."""
    settings = options.settings
    cameras = settings.camera_specs
    summary = RenderSummary(input=str(input), rate=settings.rate, width=cameras[0].width,
                            height=cameras[0].height, optical_frame=cameras[0].optical_frame)
    summary.cameras = {spec.name: 0 for spec in cameras}
    started = time.monotonic()
    with BagInput(Path(input)) as bag:
        the_plan = plan(bag, options)
        clock = the_plan.clock
        summary.total = len(clock)
        summary.start_ns, summary.end_ns = clock.start_ns, clock.end_ns
        summary.bag_start_ns = bag.start_ns
        summary.camera_parent = settings.camera_parent(options.fixed_frame)
        summary.marker_topics = the_plan.marker_topics
        out_path = prepare_path(Path(output) if output is not None else None, overwrite,
                                "output bag")
        if out_path is not None:
            summary.outputs["bag"] = str(out_path)
        video_path = Path(video) if video is not None else None
        frames_path = Path(frames) if frames is not None else None
        for name, p in (video_paths(video_path, cameras) if video_path else {}).items():
            prepare_path(p, overwrite, "video")
            summary.outputs["video" + (f" {name}" if name else "")] = str(p)
        for name, p in (frames_dirs(frames_path, cameras) if frames_path else {}).items():
            summary.outputs["frames" + (f" {name}" if name else "")] = str(p)
        writer = OutputWriter(source=bag, bag=out_path, video=video_path, frames=frames_path,
                              frames_pngs=False, storage=options.storage, depth=settings.depth,
                              jpeg_quality=settings.jpeg_quality, rate=settings.rate,
                              cameras=cameras)
        parts = split(len(clock), len(spools))
        segments = [JoinedSegment(ticks, spool, lambda i=i: finished(i))   # type: ignore[misc]
                    for i, (ticks, spool) in enumerate(zip(parts, spools))]
        writer.start()
        try:
            join_segments(bag, the_plan, options, writer, segments, summary, wait=wait)
        finally:
            try:
                writer.close()
            finally:
                summary.elapsed_s = time.monotonic() - started
                if writer.bag is not None:
                    summary.copied = writer.bag.copied
    return summary


__all__ = ["JoinedSegment", "join_bag", "join_segments"]
