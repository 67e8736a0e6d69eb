"""Tasks: the units of work of a render spread over processes or machines, as plain
data, and what a worker does with one (``render-bag --jobs``, ``render-bags``).

- :class:`BagTask`: render one bag whole into its outputs (render.py);
- :class:`SegmentTask`: render part i of n of a bag's window into a spool and PNGs
  (segments.py);
- :class:`JoinTask`: write a bag's outputs from its finished segments (join.py).

A task is picklable (it goes to a process or a Ray worker, which imports this
package). :func:`run_task` runs one in the worker and always returns a
:class:`TaskResult`: a bag that cannot be rendered gives a result with its
one-line error and exit code, never an exception, so the other tasks go on. The
:class:`Channel` carries progress and log lines back to the driver and tells a
task to stop after its current frame (its outputs are then closed and readable).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..view.errors import RenderError
from ..view.offline import ProgressInfo, RenderSummary
from ..view.options import RenderOptions

# progress lines from one task at most this often (seconds)
REPORT_INTERVAL_S = 0.5


class Channel(Protocol):
    """A task's line to the driver (executors.py has one per kind of pool)."""

    def report(self, key: str, done: int, total: int) -> None:
        """Frames done of ``total``."""

    def log(self, key: str, level: int, message: str) -> None:
        """A log line of the task's render (WARNING and above)."""

    def should_stop(self) -> bool:
        """The driver asked every task to stop (checked before each frame)."""


@dataclass(frozen=True)
class BagOutputs:
    """Where one bag's outputs go (None: not written)."""

    bag: str | None = None
    video: str | None = None
    frames: str | None = None


@dataclass(frozen=True)
class BagTask:
    key: str
    input: str
    outputs: BagOutputs
    options: RenderOptions
    overwrite: bool = False


@dataclass(frozen=True)
class SegmentTask:
    key: str
    input: str
    options: RenderOptions
    part: int
    parts: int
    spool: str
    frames: str | None          # the bag's PNG folder (made ready by the driver)
    spool_messages: bool        # the join writes a bag: spool the frames' messages
    spool_rgb: bool             # the join writes a video and no bag: spool the images


@dataclass(frozen=True)
class JoinTask:
    key: str
    input: str
    outputs: BagOutputs
    options: RenderOptions
    spools: tuple[str, ...]
    went: tuple[int, ...]       # ticks each segment went through
    overwrite: bool = False


Task = BagTask | SegmentTask | JoinTask


@dataclass
class TaskResult:
    key: str
    status: str                  # "done", "failed", "interrupted", "not started"
    frames: int = 0              # frames rendered (a join: written)
    total: int = 0               # ticks in its window (a segment: in its part)
    skipped: int = 0             # ticks without a camera pose (no frame)
    elapsed_s: float = 0.0       # wall time of the task
    render_s: float = 0.0        # of which the render loop (a join: the join)
    error: str = ""              # one line, when failed
    error_type: str = ""         # its class (BagReadError, RendererError, ...)
    exit_code: int = 0           # render-bag's exit code for that error
    problems: list[str] = field(default_factory=list)
    copied: int = 0              # input messages copied into the output bag
    host: str = ""               # the machine that ran it

    @property
    def went(self) -> int:
        """Ticks gone through (a segment that was not stopped: all of them)."""
        return self.frames + self.skipped


class _ChannelLog(logging.Handler):
    def __init__(self, channel: Channel, key: str) -> None:
        super().__init__(logging.WARNING)
        self.channel, self.key = channel, key

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.channel.log(self.key, record.levelno, record.getMessage())
        except Exception:   # a driver gone away must not stop the render
            pass


class _Reporter:
    """``progress(info, final=False)`` for the render, rate-limited onto the channel."""

    def __init__(self, channel: Channel, key: str) -> None:
        self.channel, self.key = channel, key
        self._last = float("-inf")

    def __call__(self, info: ProgressInfo, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self._last >= REPORT_INTERVAL_S:
            self._last = now
            self.channel.report(self.key, info.done, info.total)


def run_task(task: Task, channel: Channel) -> TaskResult:
    """Run ``task`` here (in a worker); its result, also when it failed or stopped."""
    started = time.monotonic()
    host = socket.gethostname()
    if channel.should_stop() and not isinstance(task, JoinTask):   # a join writes what was rendered
        return TaskResult(task.key, "not started", host=host)
    logs = logging.getLogger("vuer_ros")
    handler = _ChannelLog(channel, task.key)
    saved = logs.level, logs.propagate
    logs.addHandler(handler)
    logs.setLevel(logging.WARNING)
    logs.propagate = False
    try:
        result = asyncio.run(_run(task, channel))
    except RenderError as e:
        result = TaskResult(task.key, "failed", error=str(e), error_type=type(e).__name__,
                            exit_code=e.exit_code)
    except (KeyboardInterrupt, asyncio.CancelledError):
        result = TaskResult(task.key, "interrupted", error="stopped at once (outputs closed)")
    except Exception as e:   # a bug or an unexpected failure: still one bag's result
        result = TaskResult(task.key, "failed", error=f"{type(e).__name__}: {e}",
                            error_type=type(e).__name__, exit_code=1)
    finally:
        logs.removeHandler(handler)
        logs.setLevel(saved[0])
        logs.propagate = saved[1]
    result.elapsed_s = time.monotonic() - started
    result.host = host
    return result


def _from_summary(key: str, summary: RenderSummary) -> TaskResult:
    return TaskResult(key, "interrupted" if summary.interrupted else "done", frames=summary.frames,
                      total=summary.total, skipped=summary.skipped, problems=summary.problems,
                      copied=summary.copied, render_s=summary.elapsed_s)


async def _run(task: Task, channel: Channel) -> TaskResult:
    progress = _Reporter(channel, task.key)
    if isinstance(task, BagTask):
        from .render import render_bag_async

        o = task.outputs
        summary = await render_bag_async(task.input, o.bag, video=o.video, frames=o.frames,
                                         options=task.options, progress=progress,
                                         should_stop=channel.should_stop, overwrite=task.overwrite)
        return _from_summary(task.key, summary)
    if isinstance(task, SegmentTask):
        from .segments import render_segment_async

        summary = await render_segment_async(
            task.input, task.options, part=task.part, parts=task.parts, spool=Path(task.spool),
            frames=Path(task.frames) if task.frames else None, spool_messages=task.spool_messages,
            spool_rgb=task.spool_rgb, progress=progress, should_stop=channel.should_stop)
        return _from_summary(task.key, summary)
    from .join import join_bag

    o = task.outputs
    went = list(task.went)
    summary = await asyncio.to_thread(
        join_bag, task.input, task.options, output=o.bag, video=o.video, frames=o.frames,
        spools=[Path(s) for s in task.spools], finished=lambda i: went[i],
        overwrite=task.overwrite)
    return _from_summary(task.key, summary)


__all__ = ["BagOutputs", "BagTask", "Channel", "JoinTask", "SegmentTask", "Task", "TaskResult",
           "run_task"]
