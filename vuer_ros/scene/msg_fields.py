"""Reading ROS messages by field name only.

rclpy messages and rosbags messages (``rosbags.typesys``, any ROS 2 store)
expose the same field names, so everything in the scene model reads them
through these helpers and never imports a message class. Times are int
nanoseconds throughout.
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from typing import Any, Sequence

import numpy as np

from .transform import Quat, Transform, Vec3

_xyz = attrgetter("x", "y", "z")
_rgba = attrgetter("r", "g", "b", "a")
_xyzw = attrgetter("x", "y", "z", "w")
_uv = attrgetter("u", "v")

NS_PER_S = 1_000_000_000


def stamp_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time`` -> int nanoseconds."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def duration_ns(duration: Any) -> int:
    """``builtin_interfaces/Duration`` -> int nanoseconds."""
    return int(duration.sec) * NS_PER_S + int(duration.nanosec)


def vec3(v: Any) -> Vec3:
    """A ``Vector3`` or ``Point`` -> (x, y, z) floats."""
    return (float(v.x), float(v.y), float(v.z))


def quat(q: Any) -> Quat:
    """A ``Quaternion`` -> (x, y, z, w) floats (not normalised)."""
    return (float(q.x), float(q.y), float(q.z), float(q.w))


def rgba(c: Any) -> tuple[float, float, float, float]:
    return (float(c.r), float(c.g), float(c.b), float(c.a))


def transform_of(tf_msg: Any) -> Transform:
    """``geometry_msgs/Transform`` -> Transform (rotation as sent)."""
    return Transform(vec3(tf_msg.translation), quat(tf_msg.rotation))


def pose_of(pose: Any) -> Transform:
    """``geometry_msgs/Pose`` -> Transform (orientation as sent)."""
    return Transform(vec3(pose.position), quat(pose.orientation))


def points_array(points: Sequence[Any]) -> np.ndarray:
    """A list of ``Point`` -> (N, 3) float64 array, in one pass without a Python loop body.
    An (N, 3) array (points already decoded from CDR, vuer_ros/cdr/markers.py) is taken as is."""
    return _rows(points, 3, _xyz)


def colors_array(colors: Sequence[Any]) -> np.ndarray:
    """A list of ``ColorRGBA`` -> (N, 4) float64 array of r, g, b, a (an (N, 4) array as is)."""
    return _rows(colors, 4, _rgba)


def uvs_array(uvs: Sequence[Any]) -> np.ndarray:
    """A list of ``UVCoordinate`` -> (N, 2) float64 array of u, v (an (N, 2) array as is)."""
    return _rows(uvs, 2, _uv)


def byte_string(data: Any) -> bytes:
    """A ``uint8[]`` field as ``bytes``: rclpy gives an ``array.array``, rosbags and the
    fast decoder a uint8 numpy array, a hand-made message perhaps ``bytes`` or a list."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data, dtype=np.uint8).tobytes()
    return bytes(data)


POSE_FIELDS = ("position.x", "position.y", "position.z",
               "orientation.x", "orientation.y", "orientation.z", "orientation.w")


def pose_rows(items: Sequence[Any], path: str = "") -> np.ndarray:
    """A list of messages holding a ``Pose`` at ``path`` (``""``: the items are Poses;
    ``"pose."``: PoseStamped) -> (N, 7) float64 rows x, y, z, qx, qy, qz, qw."""
    return _rows(items, 7, attrgetter(*(path + f for f in POSE_FIELDS)))


def _rows(items: Sequence[Any], width: int, fields: Any) -> np.ndarray:
    if isinstance(items, np.ndarray):
        return np.asarray(items, dtype=np.float64).reshape(-1, width)
    n = len(items)
    if n == 0:
        return np.zeros((0, width))
    flat = np.fromiter(chain.from_iterable(map(fields, items)), dtype=np.float64, count=width * n)
    return flat.reshape(n, width)
