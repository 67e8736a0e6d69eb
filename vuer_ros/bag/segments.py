"""Segments: one bag's window cut into runs of consecutive ticks, each rendered by its
own worker (a process and a browser), and what one worker does.

    split(600, 4)  ->  [range(0, 150), range(150, 300), range(300, 450), range(450, 600)]
    await render_segment_async("run.mcap", options, part=2, parts=4, spool=..., frames=...)

A worker opens the bag itself and makes the same plan a whole run makes (the plan
depends only on the bag and the options), takes its part of the ticks, and reads
the bag from the start: the ticks before its part are read without rendering
(vuer_ros/view/offline.py's ``ticks``), so each of its frames is the one a whole
run renders at that tick. It writes its PNGs into the shared frames folder and
its frames into a spool (spool.py); the join (join.py) writes the output bag, the
video and the PNG index from the spools, in tick order.
"""

from __future__ import annotations

import os
from itertools import pairwise
from collections.abc import Callable
from pathlib import Path

from ..view.offline import RenderSummary, plan
from ..view.options import RenderOptions
from ..view.render_session import RenderSession
from .outputs import OutputWriter
from .reader import BagInput
from .render import render_into


def split(ticks: int, parts: int) -> list[range]:
    """``parts`` runs of consecutive tick indices covering ``range(ticks)`` in order,
    their lengths differing by at most one (some empty when ``parts > ticks``)."""
    if parts < 1:
        raise ValueError(f"parts {parts}: at least 1")
    size, extra = divmod(ticks, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return [range(a, b) for a, b in pairwise(bounds)]


async def render_segment_async(input: str | os.PathLike[str], options: RenderOptions, *,
                               part: int, parts: int, spool: Path, frames: Path | None = None,
                               spool_messages: bool = False, spool_rgb: bool = False,
                               renderer: RenderSession | None = None,
                               progress: Callable[..., None] | None = None,
                               should_stop: Callable[[], bool] | None = None) -> RenderSummary:
    """Render part ``part`` of ``parts`` of ``input``'s window: its frames into
    ``spool`` (the bag's messages with ``spool_messages``, the image with
    ``spool_rgb``), its PNGs into ``frames`` (each camera's folder made ready by the
    caller).
    ``summary.total`` is the part's tick count; ``frames + skipped`` the ticks it
    went through (all of them unless interrupted)."""
    settings = options.settings
    cameras = settings.camera_specs
    summary = RenderSummary(input=str(input), rate=settings.rate, width=cameras[0].width,
                            height=cameras[0].height, optical_frame=cameras[0].optical_frame)
    with BagInput(Path(input)) as bag:
        the_plan = plan(bag, options)
        ticks = split(len(the_plan.clock), parts)[part]
        writer = OutputWriter(source=bag, frames=frames, frames_index=False, spool=spool,
                              spool_messages=spool_messages, spool_rgb=spool_rgb,
                              depth=settings.depth, jpeg_quality=settings.jpeg_quality,
                              rate=settings.rate, cameras=cameras)
        if len(ticks) == 0:
            writer.start()
            writer.close()
            return summary
        await render_into(bag, the_plan, options, writer, summary, renderer=renderer,
                          progress=progress, should_stop=should_stop, ticks=ticks)
    return summary


__all__ = ["render_segment_async", "split"]
