"""Rigid transforms and quaternions: the one place for rotation maths.

Conventions (REP 103 and tf2): quaternions are ``(x, y, z, w)``, the order ROS
messages and the Vuer protocol both use, so no reordering happens anywhere.
``Transform`` maps points of a child frame into its parent frame, like a tf2
transform from ``child_frame_id`` to ``header.frame_id``; ``a @ b`` composes
(``T_a_b @ T_b_c == T_a_c``).

Plain Python floats, no numpy: these run per TF message and per marker, where
small-array numpy overhead costs more than the arithmetic; ``compose_poses`` is the
one numpy twin, for many markers at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

IDENTITY_QUAT: Quat = (0.0, 0.0, 0.0, 1.0)
ZERO_VEC: Vec3 = (0.0, 0.0, 0.0)


def quat_multiply(a: Quat, b: Quat) -> Quat:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz)


def quat_conjugate(q: Quat) -> Quat:
    return (-q[0], -q[1], -q[2], q[3])


def quat_rotate(q: Quat, v: Vec3) -> Vec3:
    """Rotate vector ``v`` by unit quaternion ``q``."""
    qx, qy, qz, qw = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v); v' = v + w * t + cross(q.xyz, t)
    tx = 2.0 * (qy * vz - qz * vy)
    ty = 2.0 * (qz * vx - qx * vz)
    tz = 2.0 * (qx * vy - qy * vx)
    return (vx + qw * tx + qy * tz - qz * ty,
            vy + qw * ty + qz * tx - qx * tz,
            vz + qw * tz + qx * ty - qy * tx)


def quat_norm(q: Quat) -> float:
    return math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])


def quat_normalize(q: Quat) -> Quat:
    n = quat_norm(q)
    if n == 0.0:
        return IDENTITY_QUAT
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def quat_from_axis_angle(axis: Vec3, angle: float) -> Quat:
    n = math.sqrt(axis[0] ** 2 + axis[1] ** 2 + axis[2] ** 2)
    s = math.sin(angle / 2.0) / n
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2.0))


def quat_between(a: Vec3, b: Vec3) -> Quat:
    """The shortest rotation taking direction ``a`` to direction ``b`` (any length > 0).

    Opposite directions turn by 180 degrees about an axis perpendicular to ``a``.
    A zero-length input gives the identity.
    """
    na = math.sqrt(a[0] ** 2 + a[1] ** 2 + a[2] ** 2)
    nb = math.sqrt(b[0] ** 2 + b[1] ** 2 + b[2] ** 2)
    if na == 0.0 or nb == 0.0:
        return IDENTITY_QUAT
    ax, ay, az = a[0] / na, a[1] / na, a[2] / na
    bx, by, bz = b[0] / nb, b[1] / nb, b[2] / nb
    dot = ax * bx + ay * by + az * bz
    if dot < -1.0 + 1e-12:
        # 180 degrees: any axis perpendicular to a
        px, py, pz = (0.0, -az, ay) if abs(ax) < 0.9 else (-az, 0.0, ax)
        return quat_normalize((px, py, pz, 0.0))
    cx, cy, cz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    return quat_normalize((cx, cy, cz, 1.0 + dot))


def slerp(q0: Quat, q1: Quat, t: float) -> Quat:
    """Spherical interpolation along the shorter arc (as tf2's ``slerp``)."""
    dot = q0[0] * q1[0] + q0[1] * q1[1] + q0[2] * q1[2] + q0[3] * q1[3]
    if dot < 0.0:
        q1 = (-q1[0], -q1[1], -q1[2], -q1[3])
        dot = -dot
    if dot > 0.9995:
        # nearly parallel: normalised lerp is exact to float precision
        return quat_normalize(tuple(a + (b - a) * t for a, b in zip(q0, q1)))  # type: ignore[arg-type]
    theta = math.acos(min(1.0, dot))
    s = math.sin(theta)
    w0 = math.sin((1.0 - t) * theta) / s
    w1 = math.sin(t * theta) / s
    return (w0 * q0[0] + w1 * q1[0], w0 * q0[1] + w1 * q1[1],
            w0 * q0[2] + w1 * q1[2], w0 * q0[3] + w1 * q1[3])


def quat_from_matrix(m: "np.ndarray | list[list[float]]") -> Quat:
    """A 3x3 rotation matrix (or the rotation block of a 4x4) -> unit quaternion
    (x, y, z, w), by Shepperd's method (stable for every angle)."""
    r = [[float(m[i][j]) for j in range(3)] for i in range(3)]
    t = r[0][0] + r[1][1] + r[2][2]
    if t > 0.0:
        s = 2.0 * math.sqrt(t + 1.0)
        q = ((r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s, 0.25 * s)
    elif r[0][0] > r[1][1] and r[0][0] > r[2][2]:
        s = 2.0 * math.sqrt(1.0 + r[0][0] - r[1][1] - r[2][2])
        q = (0.25 * s, (r[0][1] + r[1][0]) / s, (r[0][2] + r[2][0]) / s, (r[2][1] - r[1][2]) / s)
    elif r[1][1] > r[2][2]:
        s = 2.0 * math.sqrt(1.0 + r[1][1] - r[0][0] - r[2][2])
        q = ((r[0][1] + r[1][0]) / s, 0.25 * s, (r[1][2] + r[2][1]) / s, (r[0][2] - r[2][0]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + r[2][2] - r[0][0] - r[1][1])
        q = ((r[0][2] + r[2][0]) / s, (r[1][2] + r[2][1]) / s, 0.25 * s, (r[1][0] - r[0][1]) / s)
    return quat_normalize(q)


class Transform(NamedTuple):
    """A rigid transform: rotate by ``rotation`` then translate by ``translation``."""

    translation: Vec3 = ZERO_VEC
    rotation: Quat = IDENTITY_QUAT

    def __matmul__(self, other: Transform) -> Transform:
        t = quat_rotate(self.rotation, other.translation)
        return Transform((t[0] + self.translation[0], t[1] + self.translation[1],
                          t[2] + self.translation[2]),
                         quat_multiply(self.rotation, other.rotation))

    def inverse(self) -> Transform:
        qi = quat_conjugate(self.rotation)
        t = quat_rotate(qi, self.translation)
        return Transform((-t[0], -t[1], -t[2]), qi)

    def apply(self, point: Vec3) -> Vec3:
        """Map a point from the child frame into the parent frame."""
        p = quat_rotate(self.rotation, point)
        return (p[0] + self.translation[0], p[1] + self.translation[1], p[2] + self.translation[2])

    def matrix(self) -> np.ndarray:
        """The 4x4 homogeneous matrix (row-major numpy, ``m @ [x, y, z, 1]``)."""
        x, y, z, w = self.rotation
        m = np.eye(4)
        m[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
        m[:3, 3] = self.translation
        return m

    @property
    def position_list(self) -> list[float]:
        return [self.translation[0], self.translation[1], self.translation[2]]

    @property
    def quaternion_list(self) -> list[float]:
        return [self.rotation[0], self.rotation[1], self.rotation[2], self.rotation[3]]


IDENTITY = Transform()


def interpolate(a: Transform, b: Transform, ratio: float) -> Transform:
    """tf2's interpolation: lerp the translation, slerp the rotation."""
    ta, tb = a.translation, b.translation
    return Transform((ta[0] + (tb[0] - ta[0]) * ratio, ta[1] + (tb[1] - ta[1]) * ratio,
                      ta[2] + (tb[2] - ta[2]) * ratio),
                     slerp(a.rotation, b.rotation, ratio))


def compose_poses(tf: Transform, poses: np.ndarray) -> np.ndarray:
    """``tf @ pose`` for each row of ``poses`` (n, 7: position, quaternion x, y, z, w),
    with the same operations in the same order as ``Transform.__matmul__`` (so the same
    floats)."""
    (tx0, ty0, tz0), (qx, qy, qz, qw) = tf.translation, tf.rotation
    vx, vy, vz = poses[:, 0], poses[:, 1], poses[:, 2]
    bx, by, bz, bw = poses[:, 3], poses[:, 4], poses[:, 5], poses[:, 6]
    tx = 2.0 * (qy * vz - qz * vy)
    ty = 2.0 * (qz * vx - qx * vz)
    tz = 2.0 * (qx * vy - qy * vx)
    out = np.empty_like(poses)
    out[:, 0] = vx + qw * tx + qy * tz - qz * ty + tx0
    out[:, 1] = vy + qw * ty + qz * tx - qx * tz + ty0
    out[:, 2] = vz + qw * tz + qx * ty - qy * tx + tz0
    out[:, 3] = qw * bx + qx * bw + qy * bz - qz * by
    out[:, 4] = qw * by - qx * bz + qy * bw + qz * bx
    out[:, 5] = qw * bz + qx * by - qy * bx + qz * bw
    out[:, 6] = qw * bw - qx * bx - qy * by - qz * bz
    return out
