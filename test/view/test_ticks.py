"""TickClock: ticks at start + k/rate in the half-open window [start, end)."""

from __future__ import annotations

import pytest

from vuer_ros.view.ticks import TickClock

S = 1_000_000_000


@pytest.mark.parametrize("duration_s,rate,count", [
    (2.0, 10.0, 20), (60.0, 10.0, 600), (1.0, 30.0, 30), (2.0, 7.5, 15),
    (1.99, 10.0, 20), (2.01, 10.0, 21), (0.05, 10.0, 1), (3.0, 0.5, 2),
])
def test_count_is_duration_times_rate(duration_s, rate, count):
    clock = TickClock(5 * S, 5 * S + round(duration_s * S), rate)
    assert len(clock) == count
    ticks = list(clock)
    assert ticks[0] == 5 * S and all(t < clock.end_ns for t in ticks)
    assert clock.time(len(clock)) >= clock.end_ns


def test_ticks_are_exact_and_do_not_drift():
    clock = TickClock(0, 3600 * S, 30.0)
    assert len(clock) == 108_000
    assert clock.time(107_999) == 3600 * S - 33_333_333   # 3599.9666... s, rounded to the ns
    assert clock.time(3) == 100_000_000
    clock = TickClock(7, 7 + S, 7.5)
    assert [t - 7 for t in clock][:3] == [0, 133_333_333, 266_666_667]


def test_empty_window_and_bad_rate():
    assert len(TickClock(10, 10, 10.0)) == 0
    with pytest.raises(ValueError, match="rate"):
        TickClock(0, S, 0.0)


def test_index_at_or_after_for_sim_time_playback():
    clock = TickClock(S, 3 * S, 10.0)
    assert clock.index_at_or_after(0) == 0
    assert clock.index_at_or_after(S + 100_000_000) == 1
    assert clock.index_at_or_after(S + 100_000_001) == 2
    assert clock.index_at_or_after(10 * S) == len(clock) == 20
