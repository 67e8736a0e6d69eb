"""Poses and points read from geometry_msgs / nav_msgs messages, checked as rviz checks them.

- A NaN or infinite value anywhere rviz reads (its ``validateFloats``) refuses the whole
  message: ``BadMessage("nan")`` naming the first such field (``poses[3].pose.position.x``).
- Orientations: rviz hands quaternions to Ogre, which normalises them, so a quaternion
  that is not of unit length is drawn normalised; here that is also reported once
  (kind ``quaternion``). A zero quaternion has no direction (Ogre makes NaN of it and
  nothing shows): that pose is not drawn, the rest of its message is (kind
  ``zero_quaternion``).

Rows are (N, 7) float64 ``x, y, z, qx, qy, qz, qw`` (msg_fields.pose_rows).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .markers import QUATERNION_TOLERANCE
from .msg_fields import POSE_FIELDS, points_array
from .stamped_display import BadMessage

Name = Callable[[int], str]
"""``name(i)``: how a message names its i-th pose (``poses[3].pose``)."""

Report = Callable[[str, str], None]
"""``report(kind, text)``: a fixable problem, logged once per kind."""


def check_finite(rows: np.ndarray, name: Name, fields: tuple[str, ...] = POSE_FIELDS) -> None:
    """BadMessage("nan") naming the first non-finite value of ``rows`` (one row per item,
    one column per name in ``fields``)."""
    bad = ~np.isfinite(rows)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise BadMessage("nan", f"{name(i)}.{fields[j]} is {rows[i, j]}; skipped")


def unit_orientations(rows: np.ndarray, name: Name, report: Report) -> np.ndarray:
    """``rows`` with unit quaternions (normalised where off, reported once), and only the
    rows whose quaternion is not zero (those are reported once and not drawn)."""
    q = rows[:, 3:7]
    norms = np.sqrt((q * q).sum(axis=1))
    zero = norms == 0.0
    off = np.abs(norms - 1.0) > QUATERNION_TOLERANCE
    if off.any():
        rows = rows.copy()
        i = int(np.flatnonzero(off & ~zero)[0]) if (off & ~zero).any() else -1
        if i >= 0:
            report("quaternion", f"{name(i)}.orientation has length {norms[i]:.6g}, not 1; "
                   "normalised")
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            n = int(zero.sum())
            report("zero_quaternion", f"{name(i)}.orientation is all zeros"
                   + (f" ({n} poses)" if n > 1 else "") + "; not drawn")
            rows = rows[~zero]
            norms = norms[~zero]
        rows[:, 3:7] /= norms[:, None]
    return rows


def point_rows(points: Any, name: Name) -> np.ndarray:
    """A list of ``Point`` / ``Point32`` -> (N, 3) float64, every value finite."""
    rows = points_array(points)
    check_finite(rows, name, ("x", "y", "z"))
    return rows
