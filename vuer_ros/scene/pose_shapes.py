"""What the pose displays draw, as elements: rviz_rendering's Arrow and Axes
(marker_geometry.py builds them) at one pose or at many, rviz's flat arrows (PoseArray's
"Arrow (Flat)"), and 1-pixel or metre-wide lines.

- An arrow points along its pose's +X: shaft from the origin, then the head (rviz's Arrow
  with ``setDirection(+X)``, as Pose, PoseArray, Path and Odometry set it).
- Axes: X red, Y green, Z blue, from the origin (rviz's Axes with its default colours).
- A flat arrow (rviz_default_plugins' FlatArrowsArray) is three 1-pixel segments in the
  pose's XY plane: origin -> tip at ``length`` along +X, and tip -> the two barbs at
  ``(0.75, +-0.2) * length``; unlit.
- Lines are unlit, as rviz draws them (its lines materials have no lighting).
Colours come as display options: [r, g, b] 0-255 and an alpha 0-1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..protocol.elements import Element, Line
from . import marker_geometry as geo
from .keys import part_key
from .transform import Transform

# flat arrow barbs, in lengths along the arrow (x) and across it (y)
FLAT_BARB = (0.75, 0.2)


def rgba(color: Sequence[float], alpha: float) -> geo.Rgba:
    """A display's ``color`` option (0-255) and ``alpha`` -> RGBA 0-1."""
    return (color[0] / 255.0, color[1] / 255.0, color[2] / 255.0, alpha)


def arrow(key: str, shaft_length: float, shaft_diameter: float, head_length: float,
          head_diameter: float, color: geo.Rgba) -> list[Element]:
    """rviz_rendering::Arrow(shaft_length, shaft_diameter, head_length, head_diameter)
    along +X, in one colour."""
    return geo.rviz_arrow(key, shaft_length, (shaft_diameter, shaft_diameter), head_length,
                          (head_diameter, head_diameter), geo.material(color))


def axes(key: str, length: float, diameter: float) -> list[Element]:
    """rviz_rendering::Axes(length, radius), the radius being drawn as the diameter."""
    return geo.rviz_axes(key, length, diameter)


def at_poses(parts: list[Element], rows: np.ndarray) -> list[Element]:
    """``parts`` (built at the origin) repeated at each pose of ``rows`` ((N, 7) x, y, z, qx,
    qy, qz, qw; unit quaternions), keyed ``<part key>.<i>``."""
    out: list[Element] = []
    local = [Transform(tuple(e.props.get("position", (0.0, 0.0, 0.0))),
                       tuple(e.props.get("quaternion", (0.0, 0.0, 0.0, 1.0))))
             for e in parts]
    for i, row in enumerate(rows.tolist()):
        pose = Transform((row[0], row[1], row[2]), (row[3], row[4], row[5], row[6]))
        for e, at in zip(parts, local):
            world = pose @ at
            props = dict(e.props, position=world.position_list, quaternion=world.quaternion_list)
            out.append(type(e)(key=f"{e.key}.{i}", **props))
    return out


def rotate(quats: np.ndarray, v: Sequence[float]) -> np.ndarray:
    """Vector ``v`` rotated by each unit quaternion of ``quats`` ((N, 4) x, y, z, w) -> (N, 3)."""
    u, w = quats[:, :3], quats[:, 3:4]
    vec = np.broadcast_to(np.asarray(v, dtype=np.float64), u.shape)
    t = 2.0 * np.cross(u, vec)
    return vec + w * t + np.cross(u, t)


def flat_arrows(key: str, rows: np.ndarray, length: float, color: geo.Rgba) -> list[Element]:
    """rviz's flat arrows at each pose of ``rows``: one Line of segments, 1 pixel wide."""
    if rows.shape[0] == 0:
        return []
    p, q = rows[:, :3], rows[:, 3:7]
    tip = p + rotate(q, (length, 0.0, 0.0))
    left = p + rotate(q, (FLAT_BARB[0] * length, FLAT_BARB[1] * length, 0.0))
    right = p + rotate(q, (FLAT_BARB[0] * length, -FLAT_BARB[1] * length, 0.0))
    points = np.stack([p, tip, tip, left, tip, right], axis=1).reshape(-1, 3)
    return line(key, points, True, 0.0, color)


def line(key: str, points: np.ndarray, segments: bool, width: float, color: geo.Rgba) -> list[Element]:
    """An unlit line through ``points`` ((N, 3)): 1 pixel wide when ``width`` is 0, else
    ``width`` metres wide, facing the camera (rviz's billboard lines)."""
    if points.shape[0] < 2:
        return []
    world = width > 0.0
    return [Line(key=part_key(key, "line"), points=np.ascontiguousarray(points, dtype=np.float32),
                 segments=segments, lineWidth=width if world else 1.0, worldUnits=world,
                 material=geo.material(color))]
