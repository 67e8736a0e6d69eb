"""Progress of a bag render on stderr: frames done, frames/s, bag time, time left
(render-bags: bags done, frames, time left).

On a terminal it is one line rewritten in place (at most 5 times a second);
otherwise (a log file, CI) a plain line every ``interval`` seconds. Log records
printed meanwhile (scene problems) clear the line first, so they never mix.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Callable, TextIO

from ..view.offline import ProgressInfo


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_progress(p: ProgressInfo) -> str:
    pct = 100.0 * p.done / p.total if p.total else 100.0
    return (f"render-bag: {p.done}/{p.total} frames ({pct:.0f}%), {p.rate:.1f} frames/s, "
            f"bag time {p.bag_time_s:.1f}/{p.window_s:.1f} s, left {_clock(p.remaining_s)}")


def format_batch(p: Any) -> str:
    """A render-bags line (batch.py's BatchProgress)."""
    failed = f", {p.failed} failed" if p.failed else ""
    return (f"render-bags: {p.finished}/{p.bags} bags{failed}, {p.running} in work, "
            f"{p.frames} frames ({p.rate:.1f} frames/s), left {_clock(p.remaining_s)}")


class StderrProgress:
    """Callable progress reporter for :func:`render_bag` (``progress=StderrProgress()``)."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None,
                 tty: bool | None = None, format: Callable[[Any], str] = format_progress) -> None:
        self.format = format
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self._last = float("-inf")
        self._shown = False   # a line is on screen without its newline (tty)

    def __call__(self, info: Any, final: bool = False) -> None:
        """Show ``info`` (a ProgressInfo, or what ``format`` takes)."""
        now = time.monotonic()
        if not final and now - self._last < self.interval:
            return
        self._last = now
        line = self.format(info)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K" + ("\n" if final else ""))
            self._shown = not final
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Take the in-place line off the screen (before a log line)."""
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


class ProgressAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stderr log handler that clears the progress line before each record."""

    def __init__(self, progress: StderrProgress) -> None:
        super().__init__(progress.stream)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.clear()
        super().emit(record)


def log_above(progress: StderrProgress) -> Callable[[], None]:
    """The package's warnings and errors to stderr as ``[LEVEL] message`` lines above the
    progress line (not through the root logger); returns what undoes it."""
    handler = ProgressAwareHandler(progress)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logs = logging.getLogger("vuer_ros")
    logs.addHandler(handler)
    logs.setLevel(logging.WARNING)
    logs.propagate = False
    return lambda: logs.removeHandler(handler)
