"""CameraPath: a render camera's path in time, read from a YAML file (docs/render-bag.md,
"Camera paths"): keyframes of eye, target and field of view, smoothly interpolated, or
an orbit around a frame. The same file drives the live node (``render.camera_path``,
``path`` of a listed camera) and ``vuer-ros render-bag --camera-path``.

    keyframes:                       # t: seconds from the path's start
      - {t: 0, eye: [4, 0, 2], target: [0, 0, 0.5], fov: 50}
      - {t: 3, eye: [0, 4, 2]}                       # target [0, 0, 0], the camera's fov
      - {t: 6, follow: base_link, eye: [-3, 0, 1.5], target: [0, 0, 0.3]}
    interpolation: smooth            # or linear

    orbit: {frame: base_link, radius: 3, height: 1.5, period: 20}

Times: seconds from the path's start, which is the bag's first message offline and
the node's first render tick with a running clock live (the first /clock with
use_sim_time), and again each time ROS time jumps back (a bag played in a loop).
Before the first keyframe and after the last the camera rests at that keyframe.
Positions are in the fixed frame, or, with ``follow: FRAME``, offsets from that
frame's origin along the fixed frame's axes (rviz's Orbit Target Frame: the camera
moves with the frame, it does not turn with it); every keyframe is placed at the
frame's latest TF, then the path runs through them. ``smooth``: a cubic Hermite
spline through the keyframes' eyes, targets and fovs with Catmull-Rom tangents
(finite differences over the keyframe times), at rest at the first and last
keyframe; ``linear``: straight between keyframes. The camera looks from the eye at
the target with the fixed frame's +Z up in the image, so orientations never take
a quaternion's long way round. An orbit turns about the frame's +Z (the fixed
frame's) at ``radius`` and ``height``, a full turn per ``period`` seconds
(negative: clockwise seen from above), starting ``angle`` degrees from +X, looking
at the frame's origin plus ``target``.

Errors name the file, the line and the key (:class:`CameraPathError`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

from ..scene.frame_id import frame_id
from ..yaml_lines import YamlFileError, line_of, read_yaml

Vec3 = tuple[float, float, float]
FOV_RANGE = (1.0, 170.0)   # degrees, as render.fov
INTERPOLATIONS = ("smooth", "linear")

OriginLookup = Callable[[str, str], "np.ndarray | None"]
"""``(frame, what names it) -> its origin in the fixed frame``; None while TF cannot say."""


class CameraPathError(ValueError):
    """A camera path file that cannot be used: the file, line and key, and why."""


class View(NamedTuple):
    """Where a path puts the camera at one time (fixed-frame coordinates)."""

    eye: np.ndarray
    target: np.ndarray
    fov: float


@dataclass(frozen=True)
class Keyframe:
    t: float                    # seconds from the path's start
    eye: Vec3
    target: Vec3
    fov: float | None = None    # None: the camera's own fov
    follow: str = ""            # "": eye and target in the fixed frame; else offsets from its origin
    where: str = ""             # "keyframes[2]", for messages


@dataclass(frozen=True)
class Orbit:
    radius: float
    period: float               # seconds per turn; negative: clockwise seen from above
    frame: str = ""             # "": the fixed frame's origin
    height: float = 0.0
    angle: float = 0.0          # degrees from the fixed frame's +X at t = 0
    target: Vec3 = (0.0, 0.0, 0.0)
    fov: float | None = None


@dataclass(frozen=True)
class CameraPath:
    """A path read from ``source`` (:func:`read_camera_path`): keyframes or an orbit."""

    source: str
    keyframes: tuple[Keyframe, ...] = ()
    orbit: Orbit | None = None
    interpolation: str = "smooth"

    def frames(self) -> dict[str, str]:
        """The TF frames it places the camera by -> what names each (for messages)."""
        if self.orbit is not None:
            return {self.orbit.frame: f"camera path {self.source} (orbit.frame)"} \
                if self.orbit.frame else {}
        out: dict[str, str] = {}
        for k in self.keyframes:
            if k.follow:
                out.setdefault(k.follow, f"camera path {self.source} ({k.where}.follow)")
        return out

    def view(self, t_s: float, origin: OriginLookup, fov: float) -> View | None:
        """The camera at ``t_s`` seconds from the start; ``fov``: the camera's own (for
        keyframes without one). None while a frame it needs has no transform."""
        if self.orbit is not None:
            return self._orbit_view(self.orbit, t_s, origin, fov)
        return self._keyframe_view(t_s, origin, fov)

    def _orbit_view(self, o: Orbit, t_s: float, origin: OriginLookup, fov: float) -> View | None:
        centre = self._origin(o.frame, f"camera path {self.source} (orbit.frame)", origin)
        if centre is None:
            return None
        a = math.radians(o.angle) + 2.0 * math.pi * t_s / o.period
        eye = centre + np.array([o.radius * math.cos(a), o.radius * math.sin(a), o.height])
        return View(eye, centre + np.asarray(o.target, float), o.fov if o.fov is not None else fov)

    def _keyframe_view(self, t_s: float, origin: OriginLookup, fov: float) -> View | None:
        ks = self.keyframes
        times = [k.t for k in ks]
        if t_s <= times[0] or len(ks) == 1:
            i, s = 0, 0.0
        elif t_s >= times[-1]:
            i, s = len(ks) - 2, 1.0
        else:
            i = max(j for j in range(len(ks) - 1) if times[j] <= t_s)
            s = (t_s - times[i]) / (times[i + 1] - times[i])
        smooth = self.interpolation == "smooth"
        if len(ks) == 1 or s in (0.0, 1.0):   # at a keyframe: only it is placed
            needed: range = range(i + int(s), i + int(s) + 1)
        elif smooth:
            needed = range(max(i - 1, 0), min(i + 3, len(ks)))
        else:
            needed = range(i, i + 2)
        points: dict[int, np.ndarray] = {}
        for j in needed:
            p = self._point(ks[j], origin, fov)
            if p is None:
                return None
            points[j] = p
        if len(ks) == 1 or s == 0.0:
            value = points[i]
        elif s == 1.0:
            value = points[i + 1]
        elif not smooth:
            value = (1.0 - s) * points[i] + s * points[i + 1]
        else:
            h = times[i + 1] - times[i]
            m0, m1 = self._tangent(i, points, times), self._tangent(i + 1, points, times)
            s2, s3 = s * s, s * s * s
            value = ((2 * s3 - 3 * s2 + 1) * points[i] + (s3 - 2 * s2 + s) * h * m0
                     + (-2 * s3 + 3 * s2) * points[i + 1] + (s3 - s2) * h * m1)
        lo, hi = FOV_RANGE
        return View(value[0:3], value[3:6], float(min(max(value[6], lo), hi)))

    def _tangent(self, k: int, points: dict[int, np.ndarray], times: list[float]) -> np.ndarray:
        """Catmull-Rom over uneven times; zero at the ends (the camera starts and stops at rest)."""
        if k == 0 or k == len(times) - 1:
            return np.zeros(7)
        slope: np.ndarray = (points[k + 1] - points[k - 1]) / (times[k + 1] - times[k - 1])
        return slope

    def _point(self, k: Keyframe, origin: OriginLookup, fov: float) -> np.ndarray | None:
        """The keyframe as [eye, target, fov] in the fixed frame now."""
        o = self._origin(k.follow, f"camera path {self.source} ({k.where}.follow)", origin)
        if o is None:
            return None
        return np.concatenate([o + np.asarray(k.eye, float), o + np.asarray(k.target, float),
                               [k.fov if k.fov is not None else fov]])

    @staticmethod
    def _origin(frame: str, what: str, origin: OriginLookup) -> np.ndarray | None:
        if not frame:
            return np.zeros(3)
        found = origin(frame, what)
        if found is None:
            return None
        out: np.ndarray = np.asarray(found, float).reshape(3)
        return out


# -- reading the file -----------------------------------------------------------------------------
class _Reader:
    """Checks a path file's values, each error naming the file, line and key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, node: Any, key: Any, where: str, why: str) -> CameraPathError:
        line = line_of(node, key)
        return CameraPathError(f"camera path {self.source}{f':{line}' if line else ''}: "
                               + (f"{where}: {why}" if where else why))

    def keys(self, node: Any, where: str, allowed: tuple[str, ...], what: str) -> None:
        if not isinstance(node, dict):
            raise self.error(node, None, where, f"expected a map ({what}), got {node!r}")
        for key in node:
            if key not in allowed:
                raise self.error(node, key, f"{where}.{key}" if where else str(key),
                                 f"unknown key (use {', '.join(allowed)})")

    def number(self, node: dict[str, Any], key: str, where: str, default: float | None = None,
               low: float | None = None, high: float | None = None, above: float | None = None,
               unit: str = "") -> float | None:
        name = f"{where}.{key}" if where else key
        if key not in node:
            return default
        v = node[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(node, key, name, f"expected a number{unit}, got {v!r}")
        if above is not None and not v > above:
            raise self.error(node, key, name, f"{v!r} must be > {above:g}{unit}")
        if (low is not None and v < low) or (high is not None and v > high):
            raise self.error(node, key, name, f"{v!r} is outside {low:g} .. {high:g}{unit}")
        return float(v)

    def required(self, node: dict[str, Any], key: str, where: str, what: str) -> None:
        if key not in node:
            raise self.error(node, None, where, f"{key} is missing ({what})")

    def vec3(self, node: dict[str, Any], key: str, where: str,
             default: Vec3 | None = None) -> Vec3:
        name = f"{where}.{key}" if where else key
        if key not in node:
            assert default is not None
            return default
        v = node[key]
        if not (isinstance(v, list) and len(v) == 3 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                for x in v)):
            raise self.error(node, key, name, f"expected [x, y, z] (3 finite numbers, m), got {v!r}")
        return (float(v[0]), float(v[1]), float(v[2]))

    def frame(self, node: dict[str, Any], key: str, where: str) -> str:
        name = f"{where}.{key}" if where else key
        v = node.get(key, "")
        if not isinstance(v, str) or (key in node and not frame_id(v.strip())):
            raise self.error(node, key, name, f"expected a TF frame name, got {v!r}")
        return frame_id(v.strip())

    def fov(self, node: dict[str, Any], where: str) -> float | None:
        return self.number(node, "fov", where, None, *FOV_RANGE, unit=" degrees (vertical)")


_KEYFRAME_KEYS = ("t", "eye", "target", "fov", "follow")
_ORBIT_KEYS = ("frame", "radius", "height", "period", "angle", "target", "fov")


def read_camera_path(path: str | os.PathLike[str]) -> CameraPath:
    """The camera path in the YAML file ``path``; CameraPathError says what is wrong
    (file:line: key: why)."""
    source = os.fspath(path)
    try:
        doc = read_yaml(path, "camera path")
    except YamlFileError as e:
        raise CameraPathError(str(e)) from None
    r = _Reader(source)
    r.keys(doc, "", ("keyframes", "orbit", "interpolation"),
           "keyframes: [...] or orbit: {...}")
    if ("keyframes" in doc) == ("orbit" in doc):
        raise r.error(doc, None, "keyframes/orbit",
                      "give either keyframes (a list) or an orbit (a map), not "
                      + ("both" if "orbit" in doc else "neither"))
    if "orbit" in doc:
        if "interpolation" in doc:
            raise r.error(doc, "interpolation", "interpolation", "applies to keyframes, not an orbit")
        return CameraPath(source, orbit=_orbit(r, doc["orbit"], doc))
    interpolation = doc.get("interpolation", "smooth")
    if interpolation not in INTERPOLATIONS:
        raise r.error(doc, "interpolation", "interpolation",
                      f"{interpolation!r} is not one of {', '.join(INTERPOLATIONS)}")
    items = doc["keyframes"]
    if not isinstance(items, list) or not items:
        raise r.error(doc, "keyframes", "keyframes", "expected a list of at least one keyframe "
                      "({t: seconds, eye: [x, y, z], ...})")
    keyframes: list[Keyframe] = []
    for n, item in enumerate(items):
        where = f"keyframes[{n}]"
        r.keys(item, where, _KEYFRAME_KEYS, "{t: seconds, eye: [x, y, z], target: [x, y, z], ...}")
        r.required(item, "t", where, "seconds from the path's start")
        r.required(item, "eye", where, "[x, y, z], m")
        t = r.number(item, "t", where, low=0.0, high=1e9, unit=" seconds from the start")
        assert t is not None
        if keyframes and not t > keyframes[-1].t:
            raise r.error(item, "t", f"{where}.t", f"{t:g} is not after keyframes[{n - 1}].t "
                          f"({keyframes[-1].t:g}): keyframe times must increase")
        eye, target = r.vec3(item, "eye", where), r.vec3(item, "target", where, (0.0, 0.0, 0.0))
        if eye == target:
            raise r.error(item, "eye", where, f"eye {list(eye)} and target {list(target)} coincide")
        keyframes.append(Keyframe(t, eye, target, r.fov(item, where),
                                  r.frame(item, "follow", where), where))
    return CameraPath(source, tuple(keyframes), interpolation=str(interpolation))


def _orbit(r: _Reader, node: Any, doc: Any) -> Orbit:
    where = "orbit"
    if not isinstance(node, dict):
        raise r.error(doc, "orbit", where, f"expected a map {{frame, radius, height, period, ...}}, "
                      f"got {node!r}")
    r.keys(node, where, _ORBIT_KEYS, "frame, radius, height, period, angle, target, fov")
    r.required(node, "radius", where, "metres from the frame's +Z axis")
    r.required(node, "period", where, "seconds per turn")
    radius = r.number(node, "radius", where, above=0.0, unit=" m")
    period = r.number(node, "period", where, unit=" seconds per turn")
    assert radius is not None and period is not None
    if period == 0.0:
        raise r.error(node, "period", f"{where}.period", "0 is not a period (seconds per turn; "
                      "negative turns clockwise)")
    return Orbit(radius, period, r.frame(node, "frame", where),
                 r.number(node, "height", where, 0.0, unit=" m") or 0.0,
                 r.number(node, "angle", where, 0.0, unit=" degrees") or 0.0,
                 r.vec3(node, "target", where, (0.0, 0.0, 0.0)), r.fov(node, where))
