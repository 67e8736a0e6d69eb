"""DemoRobot: a small moving robot as plain data (no ROS), for ``vuer-ros demo``.

A mobile base drives a circle around the origin of ``map`` while a two-joint
arm on top of it waves; a lidar ring spins. It yields:
- ``static_transforms()``: links that never move (for /tf_static);
- ``transforms(t)``: the moving links at time ``t`` seconds (for /tf);
- ``markers(t)``: markers of every rviz type but MESH_RESOURCE, as
  :class:`DemoMarker` records whose fields are named as in
  visualization_msgs/Marker (the ROS layer copies them into messages; the
  offline bag renderer can use them the same way).

Frames::

    map -> odom (static) -> base_link (circle) -+-> lidar_link (static) -> lidar_spin (spins)
                                                +-> arm_base (static) -> shoulder (yaw)
                                                       -> elbow (pitch) -> tool (static)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Rgba = tuple[float, float, float, float]

# visualization_msgs/Marker types
ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS, \
    TEXT_VIEW_FACING, MESH_RESOURCE, TRIANGLE_LIST, ARROW_STRIP = range(13)

IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)


def axis_angle(axis: Vec3, angle: float) -> Quat:
    """Quaternion (x, y, z, w) of a rotation by ``angle`` radians about unit ``axis``."""
    s = math.sin(angle / 2.0)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2.0))


# cylinders are along Z: these turn Z onto X and onto Y
Z_TO_X = axis_angle((0.0, 1.0, 0.0), math.pi / 2.0)
Z_TO_Y = axis_angle((1.0, 0.0, 0.0), -math.pi / 2.0)


@dataclass(frozen=True)
class FrameTransform:
    """One TF link: ``child`` in ``parent`` (translation, rotation xyzw)."""

    parent: str
    child: str
    translation: Vec3
    rotation: Quat = IDENTITY


@dataclass
class DemoMarker:
    """The fields of a visualization_msgs/Marker this demo uses."""

    ns: str
    id: int
    type: int
    frame_id: str
    position: Vec3 = (0.0, 0.0, 0.0)
    orientation: Quat = IDENTITY
    scale: Vec3 = (1.0, 1.0, 1.0)
    color: Rgba = (1.0, 1.0, 1.0, 1.0)
    points: list[Vec3] = field(default_factory=list)
    colors: list[Rgba] = field(default_factory=list)
    text: str = ""
    frame_locked: bool = False
    lifetime_s: float = 0.0
    action: int = 0


def _hsv(h: float, s: float = 0.85, v: float = 1.0) -> Rgba:
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (r, g, b, 1.0)


class DemoRobot:
    """The demo's robot; all motion is a pure function of time."""

    fixed_frame = "map"

    def __init__(self, radius: float = 1.5, lap_s: float = 20.0) -> None:
        self.radius = radius
        self.lap_s = lap_s

    # -- TF --------------------------------------------------------------------------------
    def static_transforms(self) -> list[FrameTransform]:
        return [
            FrameTransform("map", "odom", (0.0, 0.0, 0.0)),
            FrameTransform("base_link", "lidar_link", (0.25, 0.0, 0.32)),
            FrameTransform("base_link", "arm_base", (-0.1, 0.0, 0.2)),
            FrameTransform("elbow", "tool", (0.45, 0.0, 0.0)),
        ]

    def transforms(self, t: float) -> list[FrameTransform]:
        a = 2.0 * math.pi * t / self.lap_s
        x, y = self.radius * math.cos(a), self.radius * math.sin(a)
        heading = a + math.pi / 2.0   # tangent to the circle, counter-clockwise
        return [
            FrameTransform("odom", "base_link", (x, y, 0.1), axis_angle((0.0, 0.0, 1.0), heading)),
            FrameTransform("lidar_link", "lidar_spin", (0.0, 0.0, 0.0),
                           axis_angle((0.0, 0.0, 1.0), 3.0 * t)),
            FrameTransform("arm_base", "shoulder", (0.0, 0.0, 0.05),
                           axis_angle((0.0, 0.0, 1.0), 0.9 * math.sin(0.7 * t))),
            FrameTransform("shoulder", "elbow", (0.0, 0.0, 0.45),
                           axis_angle((0.0, 1.0, 0.0), -0.6 + 0.5 * math.sin(1.3 * t))),
        ]

    # -- markers -----------------------------------------------------------------------------
    def markers(self, t: float = 0.0) -> list[DemoMarker]:
        out: list[DemoMarker] = []
        body = (0.25, 0.45, 0.85, 1.0)
        out.append(DemoMarker("robot", 0, CUBE, "base_link", scale=(0.6, 0.4, 0.2), color=body,
                              frame_locked=True))
        for i, (wx, wy) in enumerate([(0.2, 0.23), (0.2, -0.23), (-0.2, 0.23), (-0.2, -0.23)]):
            out.append(DemoMarker("robot", 1 + i, CYLINDER, "base_link", position=(wx, wy, -0.02),
                                  orientation=Z_TO_Y, scale=(0.16, 0.16, 0.06),
                                  color=(0.1, 0.1, 0.1, 1.0), frame_locked=True))
        out.append(DemoMarker("robot", 5, CYLINDER, "shoulder", position=(0.0, 0.0, 0.225),
                              scale=(0.08, 0.08, 0.45), color=(0.95, 0.6, 0.1, 1.0),
                              frame_locked=True))
        out.append(DemoMarker("robot", 6, SPHERE, "elbow", scale=(0.11, 0.11, 0.11),
                              color=(0.9, 0.9, 0.9, 1.0), frame_locked=True))
        out.append(DemoMarker("robot", 7, CYLINDER, "elbow", position=(0.225, 0.0, 0.0),
                              orientation=Z_TO_X, scale=(0.06, 0.06, 0.45),
                              color=(0.95, 0.6, 0.1, 1.0), frame_locked=True))
        out.append(DemoMarker("robot", 8, ARROW, "tool", scale=(0.25, 0.03, 0.03),
                              color=(1.0, 0.15, 0.15, 1.0), frame_locked=True))
        out.append(DemoMarker("robot", 9, TEXT_VIEW_FACING, "base_link", position=(0.0, 0.0, 1.3),
                              scale=(0.0, 0.0, 0.15), color=(1.0, 1.0, 1.0, 1.0),
                              text="vuer_ros demo", frame_locked=True))
        ring = [(0.3 * math.cos(2 * math.pi * k / 24), 0.3 * math.sin(2 * math.pi * k / 24), 0.0)
                for k in range(24)]
        out.append(DemoMarker("lidar", 0, SPHERE_LIST, "lidar_spin", scale=(0.04, 0.04, 0.04),
                              points=ring, colors=[_hsv(k / 24) for k in range(24)],
                              frame_locked=True))
        # the world: path, floor tiles, a fence, scattered points, a triangle, arrows
        path = [(self.radius * math.cos(2 * math.pi * k / 64),
                 self.radius * math.sin(2 * math.pi * k / 64), 0.005) for k in range(65)]
        out.append(DemoMarker("world", 0, LINE_STRIP, "map", scale=(0.02, 0.0, 0.0),
                              color=(0.2, 0.9, 0.4, 1.0), points=path))
        tiles, tile_colors = [], []
        for i in range(-3, 4):
            for j in range(-3, 4):
                tiles.append((0.5 * i, 0.5 * j, -0.01))
                tile_colors.append((0.55, 0.55, 0.6, 1.0) if (i + j) % 2 else (0.35, 0.35, 0.4, 1.0))
        out.append(DemoMarker("world", 1, CUBE_LIST, "map", scale=(0.48, 0.48, 0.01),
                              points=tiles, colors=tile_colors))
        fence = []
        for k in range(4):
            a0, a1 = k * math.pi / 2 + math.pi / 4, (k + 1) * math.pi / 2 + math.pi / 4
            r = 2.6
            fence += [(r * math.cos(a0), r * math.sin(a0), 0.3), (r * math.cos(a1), r * math.sin(a1), 0.3)]
        out.append(DemoMarker("world", 2, LINE_LIST, "map", scale=(0.03, 0.0, 0.0),
                              color=(0.9, 0.85, 0.2, 1.0), points=fence))
        scatter = [(2.2 * math.cos(1.7 * k) * ((k * 37) % 11) / 11.0,
                    2.2 * math.sin(1.7 * k) * ((k * 37) % 11) / 11.0, 0.02) for k in range(150)]
        out.append(DemoMarker("world", 3, POINTS, "map", scale=(0.03, 0.03, 0.0),
                              color=(0.8, 0.8, 1.0, 1.0), points=scatter))
        out.append(DemoMarker("world", 4, TRIANGLE_LIST, "map", position=(0.0, 0.0, 0.01),
                              points=[(-0.4, -0.3, 0.0), (0.4, -0.3, 0.0), (0.0, 0.4, 0.0)],
                              colors=[(1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)]))
        arrows = [(2.0 * math.cos(a), 2.0 * math.sin(a), 0.15)
                  for a in (0.0, 0.5, 1.0, 1.5)]
        out.append(DemoMarker("world", 5, ARROW_STRIP, "map", scale=(0.03, 0.07, 0.1),
                              color=(0.9, 0.3, 0.9, 1.0), points=arrows))
        out.append(DemoMarker("world", 6, SPHERE, "map", position=(0.0, 0.0, 0.6 + 0.1 * math.sin(t)),
                              scale=(0.3, 0.3, 0.3), color=(0.3, 0.9, 0.9, 0.8)))
        return out
