"""A pose's covariance drawn as rviz_rendering's CovarianceVisual draws it, as elements.

The covariance is the message's 6x6 row-major ``pose.covariance`` (x, y, z, roll, pitch,
yaw), expressed in the header frame's axes. The elements are in the pose's frame (the
group that carries the pose), like rviz's visual, whose root node sits at the pose:

- position: a sphere scaled to an ellipsoid whose semi-axes are ``position_scale``
  standard deviations, along the eigenvectors of the xyz block, in the header frame's
  axes (rviz turns it back by the pose's orientation). In 2D (the z, roll and pitch
  variances all <= 0) an ellipse of the xy block, 0.001 m thick.
- orientation, 3D: at distance ``offset`` along each of the pose's axes (or the header
  frame's, ``orientation_frame`` Fixed) a flat disc (a cylinder 0.001 m high) across that
  axis, whose diameters are ``2 tan(k * sigma)`` times the offset for the two other angles'
  standard deviations (k = ``orientation_scale``, capped at 89 degrees), along the
  eigenvectors of their 2x2 block: roll's disc at +X from the (pitch, yaw) block, pitch's
  at +Y from (roll, yaw), yaw's at +Z from (roll, pitch).
- orientation, 2D: a flat cone (0.001 m thick) from the pose along +X, ``offset`` long,
  ``2 tan(k * sigma_yaw)`` times the offset wide at its base.
- Eigen decompositions as Eigen's self-adjoint solver does them (lower triangle, ascending
  eigenvalues), turned right-handed by swapping the first two axes; a negative eigenvalue
  hides that shape (reported once by the caller's ``report``), as rviz hides it.
- Colours: position (204, 51, 204) alpha 0.3; orientation one colour (255, 255, 127)
  alpha 0.5, or roll red, pitch green, yaw blue (rviz's property defaults).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ..protocol.elements import Cone, Cylinder, Element, Sphere
from . import marker_geometry as geo
from .keys import part_key
from .pose_shapes import rgba
from .transform import Quat, Transform, quat_conjugate, quat_from_axis_angle, quat_from_matrix, quat_multiply

MAX_DEGREES = 89.0            # rviz's kMaxDegrees: orientation shapes are capped at this angle
FLAT = 0.001                  # thickness of the flat shapes (m)
CONE_ORIGIN_TO_TOP = 0.49115  # rviz's offset of the 2D yaw cone so that its tip is at the pose

_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_HALF_PI = math.pi / 2.0
# where each 3D orientation disc sits (a unit axis) and how it is turned (rviz's offset nodes)
_DISCS = (
    ("roll", _X, quat_multiply(quat_from_axis_angle(_X, _HALF_PI), quat_from_axis_angle(_Z, _HALF_PI)),
     (4, 5)),
    ("pitch", _Y, quat_from_axis_angle(_Y, _HALF_PI), (3, 5)),
    ("yaw", _Z, quat_from_axis_angle(_X, _HALF_PI), (3, 4)),
)
_CONE_TURN = quat_from_axis_angle(_Z, _HALF_PI)
_RGB = {"roll": (1.0, 0.0, 0.0), "pitch": (0.0, 1.0, 0.0), "yaw": (0.0, 0.0, 1.0)}

Report = Callable[[str, str], None]


@dataclass(frozen=True)
class CovarianceStyle:
    """The Odometry display's covariance options (vuer_ros/displays.py)."""

    position: bool
    position_color: geo.Rgba
    position_scale: float
    orientation: bool
    orientation_local: bool
    orientation_rgb: bool
    orientation_color: geo.Rgba
    orientation_offset: float
    orientation_scale: float

    @classmethod
    def from_options(cls, o: Mapping[str, Any]) -> CovarianceStyle | None:
        """None when the covariance is not shown at all."""
        if not o["covariance"] or not (o["covariance_position"] or o["covariance_orientation"]):
            return None
        return cls(o["covariance_position"],
                   rgba(o["covariance_position_color"], o["covariance_position_alpha"]),
                   o["covariance_position_scale"], o["covariance_orientation"],
                   o["covariance_orientation_frame"] == "Local",
                   o["covariance_orientation_color_style"] == "RGB",
                   rgba(o["covariance_orientation_color"], o["covariance_orientation_alpha"]),
                   o["covariance_orientation_offset"], o["covariance_orientation_scale"])


def _eigen(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Eigen's SelfAdjointEigenSolver: eigenvalues ascending, eigenvectors as columns, made
    right-handed; (zeros, identity, False) when an eigenvalue is negative."""
    n = m.shape[0]
    try:
        values, vectors = np.linalg.eigh(m, UPLO="L")
    except np.linalg.LinAlgError:
        return np.zeros(n), np.eye(n), False
    if not np.isfinite(values).all() or values.min() < 0.0:
        return np.zeros(n), np.eye(n), False
    vectors = vectors / np.linalg.norm(vectors, axis=0)
    c = vectors
    handed = (np.dot(np.cross(c[:, 0], c[:, 1]), c[:, 2]) if n == 3
              else c[0, 0] * c[1, 1] - c[1, 0] * c[0, 1])
    if handed < 0.0:
        vectors = vectors[:, [1, 0, *range(2, n)]]
        values = values[[1, 0, *range(2, n)]]
    return values, vectors, True


def _angle_width(sigmas: float) -> float:
    """rviz's radianScaleToMetricScaleBounded: an angle span (radians) -> the width it
    opens at distance 1, capped at MAX_DEGREES each side."""
    cap = math.radians(MAX_DEGREES)
    return 2.0 * math.tan(cap) if sigmas > 2.0 * cap else 2.0 * math.tan(sigmas * 0.5)


def covariance_elements(key: str, orientation: Quat, covariance: np.ndarray, style: CovarianceStyle,
                        report: Report) -> list[Element]:
    """The covariance shapes in the frame of a pose whose unit ``orientation`` (in the header
    frame) is given; ``covariance``: 36 finite values, row-major."""
    # rviz maps the row-major array into a column-major Eigen matrix: the transpose
    m = np.asarray(covariance, dtype=np.float64).reshape(6, 6).T
    flat = m[2, 2] <= 0.0 and m[3, 3] <= 0.0 and m[4, 4] <= 0.0
    to_header = quat_conjugate(orientation)    # pose axes -> header frame axes
    out: list[Element] = []
    if style.position:
        out += _position(key, m, flat, to_header, style, report)
    if style.orientation:
        out += _orientation(key, m, flat, (0.0, 0.0, 0.0, 1.0) if style.orientation_local else to_header,
                            style, report)
    return out


def _position(key: str, m: np.ndarray, flat: bool, to_header: Quat, style: CovarianceStyle,
              report: Report) -> list[Element]:
    s = style.position_scale
    if flat:
        values, v, ok = _eigen(m[:2, :2])
        rotation = np.eye(3)
        rotation[:2, :2] = v
        diameters = [2.0 * math.sqrt(values[0]) * s, 2.0 * math.sqrt(values[1]) * s, FLAT]
    else:
        values, rotation, ok = _eigen(m[:3, :3])
        diameters = [2.0 * math.sqrt(v) * s for v in values]
    if not ok:
        report("covariance", "pose.covariance: the position block has a negative eigenvalue "
               "(not positive semidefinite); its ellipsoid is not drawn")
    if min(diameters) <= 0.0:
        return []
    q = quat_multiply(to_header, quat_from_matrix(rotation))
    return [Sphere(key=part_key(key, "cov_position"), args=[0.5, *geo.SPHERE_SEGMENTS],
                   quaternion=list(q), scale=diameters, material=geo.material(style.position_color),
                   materialType=geo.LIT)]


def _orientation(key: str, m: np.ndarray, flat: bool, root: Quat, style: CovarianceStyle,
                 report: Report) -> list[Element]:
    o, k = style.orientation_offset, style.orientation_scale
    alpha = style.orientation_color[3]
    at = Transform((0.0, 0.0, 0.0), root)

    def color(axis: str) -> dict[str, Any]:
        return geo.material((*_RGB[axis], alpha) if style.orientation_rgb else style.orientation_color)

    if flat:
        variance = m[5, 5]
        if not variance > 0.0:
            if variance < 0.0:
                report("covariance", "pose.covariance: the yaw variance is negative; its cone is "
                       "not drawn")
            return []
        width = _angle_width(2.0 * math.sqrt(variance) * k)
        return [Cone(key=part_key(key, "cov_yaw"), args=[0.5, 1.0, geo.RADIAL_SEGMENTS],
                     position=list(at.apply((CONE_ORIGIN_TO_TOP * o, 0.0, 0.0))),
                     quaternion=list(quat_multiply(root, _CONE_TURN)), scale=[width * o, o, FLAT],
                     material=color("yaw"), materialType=geo.LIT)]
    out: list[Element] = []
    for name, axis, turn, (a, b) in _DISCS:
        values, v, ok = _eigen(m[np.ix_((a, b), (a, b))])
        if not ok:
            report("covariance", f"pose.covariance: the {name} block has a negative eigenvalue "
                   "(not positive semidefinite); its disc is not drawn")
            continue
        sx = _angle_width(2.0 * math.sqrt(values[0]) * k)
        sz = _angle_width(2.0 * math.sqrt(values[1]) * k)
        if sx <= 0.0 or sz <= 0.0:
            continue
        # the 2x2 eigenvectors turn the disc within its own plane (local x, z)
        shape = np.array([[v[0, 0], 0.0, v[0, 1]], [0.0, 1.0, 0.0], [v[1, 0], 0.0, v[1, 1]]])
        q = quat_multiply(root, quat_multiply(turn, quat_from_matrix(shape)))
        out.append(Cylinder(key=part_key(key, f"cov_{name}"), args=[0.5, 0.5, 1.0, geo.RADIAL_SEGMENTS],
                            position=list(at.apply((axis[0] * o, axis[1] * o, axis[2] * o))),
                            quaternion=list(q), scale=[sx * o, FLAT, sz * o], material=color(name),
                            materialType=geo.LIT))
    return out
