"""RenderStats: what the live view counts, and the DEBUG report made from it.

Plain counters written by the view's threads and read by the demo, the tests
and the periodic report (a torn read of an int is harmless)."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

# Period of the render statistics logged at DEBUG level (s).
STATS_PERIOD_S = 5.0


@dataclass
class RenderStats:
    ticks: int = 0
    grabs: int = 0
    grab_failures: int = 0
    published: int = 0
    dropped: int = 0            # frames the publisher thread dropped (the sink fell behind)
    messages: int = 0
    last_grab_ms: float = 0.0
    publish_times: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    grab_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    browser_render_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    browser_apply_ms: float = 0.0   # the browser's time applying scene events (its report)
    apply_s: float = 0.0        # time spent applying messages to the scene model
    drain_s: float = 0.0        # time spent draining and broadcasting scene events
    dropped_messages: int = 0   # inbox overflow (the scene model fell behind)
    resets: int = 0             # scene resets after the ROS clock jumped back
    coalesced: int = 0          # messages skipped because a waiting one replaced them

    def rate(self, window: float = 2.0) -> float:
        """Frames published per second over the last ``window`` seconds."""
        now = time.monotonic()
        times = [t for t in list(self.publish_times) if now - t <= window]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-6)


class StatsReport:
    """The DEBUG line every STATS_PERIOD_S: rates and shares over the last period."""

    def __init__(self, stats: RenderStats) -> None:
        self.stats = stats
        self._since = time.monotonic()
        self._last = self._snapshot()

    def _snapshot(self) -> tuple[int, float, float, int, int, float]:
        st = self.stats
        return (st.grab_failures, st.apply_s, st.drain_s, st.messages, st.coalesced,
                st.browser_apply_ms)

    def due(self) -> bool:
        return time.monotonic() - self._since >= STATS_PERIOD_S

    def line(self) -> str:
        """The report since the last one (and start a new period)."""
        st, last = self.stats, self._last
        now = time.monotonic()
        span = max(now - self._since, 1e-6)
        grabs, draws = sorted(st.grab_ms), sorted(st.browser_render_ms)
        text = (f"last {span:.0f} s: {st.rate(span):.1f} images/s, grab median "
                f"{grabs[len(grabs) // 2] if grabs else math.nan:.0f} ms "
                f"(max {grabs[-1] if grabs else math.nan:.0f}), {st.grab_failures - last[0]} grab "
                f"failures, {100 * (st.apply_s - last[1]) / span:.0f}% of a core applying "
                f"{st.messages - last[3]} messages ({st.coalesced - last[4]} arrays superseded), "
                f"{100 * (st.drain_s - last[2]) / span:.0f}% draining/sending; browser: drawing "
                f"median {draws[len(draws) // 2] if draws else math.nan:.0f} ms, "
                f"{100 * (st.browser_apply_ms - last[5]) / 1000.0 / span:.0f}% of its main thread "
                "applying scene events")
        st.grab_ms.clear()
        st.browser_render_ms.clear()
        self._since, self._last = now, self._snapshot()
        return text
