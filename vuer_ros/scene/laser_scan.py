"""A sensor_msgs/LaserScan as points: laser_geometry's projection, vectorised.

Ray ``i`` leaves the scan's frame at angle ``angle_min + i * angle_increment``
about +Z from +X; a range ``r`` puts its point at ``(r cos a, r sin a, 0)`` in
the scan's frame, as laser_geometry's ``projectLaser`` does (rviz's LaserScan
display projects with it, then shows the points as a PointCloud2). A ray is
kept when ``range_min <= r < range_max`` and ``r >= 0`` (so NaN and +-inf, REP 117's
"no return" values, are dropped), with its ``intensities`` entry as the
``intensity`` channel when the scan has one per ray.

The whole scan is placed at the TF of its header stamp (rviz transforms each
ray at its own time, ``stamp + i * time_increment``; the two agree for a frame
that does not move during the sweep).

Bad input, as CloudError naming the topic and the key: more rays than the
display's ``max_points`` (before anything is computed), an ``intensities`` list
neither empty nor one per range, non-finite angles. Negative and NaN ranges are
dropped with a ``warnings`` entry (reported once by the display).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import CloudError

INTENSITY = "intensity"


class ScanPoints:
    """One scan's points (float32, in the scan's frame) and their intensity channel."""

    def __init__(self, topic: str, msg: Any, max_points: int) -> None:
        ranges = msg.ranges
        n = len(ranges)
        if n > max_points:
            raise CloudError("limit", f"{topic}: a scan of {n} ranges is over max_points "
                             f"{max_points}; skipped")
        angle_min, increment = float(msg.angle_min), float(msg.angle_increment)
        if not (math.isfinite(angle_min) and math.isfinite(increment)):
            raise CloudError("angles", f"{topic}: angle_min {angle_min} / angle_increment "
                             f"{increment} is not finite; skipped")
        intensities = msg.intensities
        if len(intensities) not in (0, n):
            raise CloudError("intensities", f"{topic}: intensities has {len(intensities)} "
                             f"entries for {n} ranges; skipped")
        self.topic = topic
        self.count = n
        self.field_names: tuple[str, ...] = ("x", "y", "z") + ((INTENSITY,) if len(intensities) else ())
        self.warnings: list[tuple[str, str]] = []
        r = np.asarray(ranges, dtype=np.float32)
        nan = int(np.count_nonzero(np.isnan(r)))
        negative = int(np.count_nonzero(r < 0))
        if nan:
            self.warnings.append(("nan", f"{topic}: {nan} of {n} ranges are NaN; those rays "
                                  "are skipped"))
        if negative:
            self.warnings.append(("negative", f"{topic}: {negative} of {n} ranges are negative; "
                                  "those rays are skipped"))
        keep = (r >= max(float(msg.range_min), 0.0)) & (r < float(msg.range_max))
        index = np.flatnonzero(keep)
        angles = angle_min + index * increment          # float64, as laser_geometry's table
        kept = r[index].astype(np.float64)
        self._xyz = np.zeros((len(index), 3), np.float32)
        self._xyz[:, 0] = kept * np.cos(angles)
        self._xyz[:, 1] = kept * np.sin(angles)
        self._intensity = (np.asarray(intensities, dtype=np.float32)[index]
                           if len(intensities) else None)

    def xyz(self) -> np.ndarray:
        """(N, 3) float32 points of the rays kept, in the scan's frame."""
        return self._xyz

    def channel(self, name: str) -> np.ndarray | None:
        return self._intensity if name == INTENSITY else None

    def packed_rgb(self) -> np.ndarray | None:
        return None

    def float_rgb(self) -> np.ndarray | None:
        return None


def read_scan(msg: Any, topic: str, max_points: int) -> ScanPoints:
    """A LaserScan checked and projected (module docstring)."""
    return ScanPoints(topic, msg, max_points)
