"""rviz2's Orbit view as a RenderCamera: render what rviz's main view shows.

rviz2's default view controller is ``rviz_default_plugins/Orbit``
(orbit_view_controller.cpp). Its state is a focal point, a distance, a yaw and
a pitch; defaults (``reset()``, and what a fresh config holds):

    Distance 10, Focal Point (0, 0, 0), Yaw pi/4 (0.785398), Pitch pi/4 (0.785398),
    Near Clip Distance 0.01 (rviz_common ViewController), Target Frame <Fixed Frame>

and the camera sits at (``OrbitViewController::updateCamera``)::

    eye = focal + distance * (cos(yaw) cos(pitch), sin(yaw) cos(pitch), sin(pitch))

looking at the focal point with +Z as its fixed yaw axis (up in the image).
rviz never sets the camera's field of view, so it is Ogre's default vertical
FOV, pi/4 rad (45 deg), over whatever size the render panel has: the same
vertical FOV and aspect ratio give the same picture. With the defaults the
eye is (5, 5, 7.0711) in the fixed frame, looking at the origin.

The inverse, :func:`orbit_from_eye`, gives the Distance/Yaw/Pitch to type into
rviz's Views panel (or a .rviz file) for a camera placed by eye and target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .camera import RenderCamera


@dataclass(frozen=True)
class RvizOrbit:
    """The defaults of rviz2's Orbit view controller (and Ogre's camera FOV)."""

    distance: float = 10.0
    yaw: float = math.pi / 4.0            # rad, about +Z from +X
    pitch: float = math.pi / 4.0          # rad, up from the XY plane
    focal_point: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fov: float = math.pi / 4.0            # rad, vertical (Ogre::Frustum's default FOVy)
    near: float = 0.01                    # rviz's Near Clip Distance


RVIZ_ORBIT_DEFAULTS = RvizOrbit()


def orbit_eye(distance: float, yaw: float, pitch: float,
              focal_point: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Where rviz's Orbit view puts the camera (fixed-frame coordinates)."""
    f = np.asarray(focal_point, dtype=float).reshape(3)
    return f + distance * np.array([math.cos(yaw) * math.cos(pitch),
                                    math.sin(yaw) * math.cos(pitch),
                                    math.sin(pitch)])


def rviz_orbit_camera(distance: float = RVIZ_ORBIT_DEFAULTS.distance,
                      yaw: float = RVIZ_ORBIT_DEFAULTS.yaw,
                      pitch: float = RVIZ_ORBIT_DEFAULTS.pitch,
                      focal_point: Sequence[float] = RVIZ_ORBIT_DEFAULTS.focal_point,
                      fov: float = RVIZ_ORBIT_DEFAULTS.fov,
                      width: int = 640, height: int = 480, *,
                      near: float = RVIZ_ORBIT_DEFAULTS.near, far: float = 1000.0,
                      **kw: Any) -> RenderCamera:
    """The RenderCamera that sees what rviz's Orbit view with these values shows
    in a ``width`` x ``height`` panel. Angles in radians (as rviz shows them);
    ``fov`` is the vertical field of view."""
    if not distance > 0.0:
        raise ValueError(f"rviz orbit distance {distance}: must be > 0")
    if not abs(pitch) < math.pi / 2.0:
        raise ValueError(f"rviz orbit pitch {pitch}: must be within (-pi/2, pi/2) (rviz clamps "
                         "it to +-(pi/2 - 0.001))")
    if not 0.0 < fov < math.pi:
        raise ValueError(f"rviz orbit fov {fov}: the vertical field of view must be in (0, pi) rad")
    eye = orbit_eye(distance, yaw, pitch, focal_point)
    return RenderCamera.look_at(eye, np.asarray(focal_point, dtype=float), width=width,
                                height=height, fov_y=math.degrees(fov), near=near, far=far, **kw)


def orbit_from_eye(eye: Sequence[float], target: Sequence[float]) -> tuple[float, float, float]:
    """(distance, yaw, pitch) of the rviz Orbit view whose camera is at ``eye``
    looking at ``target`` (its Focal Point); rviz's calculatePitchYawFromPosition."""
    d = np.asarray(eye, dtype=float) - np.asarray(target, dtype=float)
    distance = float(np.linalg.norm(d))
    if distance == 0.0:
        raise ValueError(f"eye {list(eye)} and target {list(target)} coincide")
    return distance, math.atan2(d[1], d[0]), math.asin(max(-1.0, min(1.0, d[2] / distance)))
