"""TickClock: the render ticks of a time window, in integer nanoseconds.

The convention of offline rendering (its ticks are bag time):
ticks are at ``start + k / rate`` for k = 0, 1, ... while the tick is before
``end``: the window is half-open, ``[start, end)``. A window of D seconds at
R Hz therefore has exactly D x R ticks when D x R is a whole number, and
ceil(D x R) otherwise. Tick times are rounded to the nearest nanosecond from
exact rational arithmetic (``rate`` as its shortest decimal, 10 Hz = 1/10 s
steps, 7.5 Hz = 2/15 s), so they never drift with k.

The scene rendered at tick t holds every message with bag time <= t (received
at its bag time), as a live viewer's would at sim time t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator

NS_PER_S = 1_000_000_000


def _rate_fraction(rate: float) -> Fraction:
    if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
        raise ValueError(f"rate {rate!r}: must be a positive number of Hz")
    return Fraction(repr(float(rate)))


@dataclass(frozen=True)
class TickClock:
    """Ticks at ``start_ns + k / rate`` inside ``[start_ns, end_ns)``."""

    start_ns: int
    end_ns: int
    rate: float
    _period: Fraction = field(init=False, repr=False, compare=False)
    _count: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        period = NS_PER_S / _rate_fraction(self.rate)
        object.__setattr__(self, "_period", period)
        span = self.end_ns - self.start_ns
        if span <= 0:
            count = 0
        else:
            count = max(0, math.ceil(span / period) - 1)
            while self.time(count) < self.end_ns:
                count += 1
            while count > 0 and self.time(count - 1) >= self.end_ns:
                count -= 1
        object.__setattr__(self, "_count", count)

    @property
    def period_ns(self) -> float:
        return float(self._period)

    def time(self, k: int) -> int:
        """Bag time of tick ``k`` (ns), rounded half up."""
        return self.start_ns + math.floor(k * self._period + Fraction(1, 2))

    def index_at_or_after(self, t_ns: int) -> int:
        """The first tick at or after ``t_ns`` (may be ``len(self)``): where sim-time
        playback resumes after a clock jump."""
        if t_ns <= self.start_ns:
            return 0
        k = max(0, math.floor((t_ns - self.start_ns) / self._period) - 1)
        while k < len(self) and self.time(k) < t_ns:
            k += 1
        return min(k, len(self))

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return (self.time(k) for k in range(self._count))
