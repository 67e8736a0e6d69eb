"""Fast decoding of serialized nav_msgs/Path and geometry_msgs/PoseArray (plain CDR,
messages.py): the poses as one (N, 7) float64 array, read as numpy views of the bytes.

A planner's Path holds thousands of PoseStamped; rosbags' generated deserializer builds an
object per pose and number (300 ms for 10,000 poses), rclpy's too. The layouts:

- PoseArray: header (stamp int32 + uint32, frame_id string), then a sequence of Pose:
  seven float64 each (position x y z, orientation x y z w), aligned to 8, back to back:
  one strided view.
- Path: header, then a sequence of PoseStamped: each a header (stamp, frame_id string)
  then its Pose aligned to 8. The element size varies with the frame id's length, so
  the elements after the first (each starting 8-aligned) are read with one strided
  view when every frame id has the first one's length (the usual: one frame for all),
  verified on the bytes; otherwise one element at a time. The poses' own headers are
  skipped (the Path display reads only the path's header, as rviz does).

``msg.poses`` is that array (msg_fields.pose_rows takes it as it is); the header is
messages.py's. Both layouts are the same in every ROS 2 distribution.
"""

from __future__ import annotations


import numpy as np

from .messages import U32, CdrError, Header, endianness, read_header

# get_fields_and_field_types() of the layouts decoded here
PATH_LAYOUT: dict[str, str] = {"header": "std_msgs/Header",
                               "poses": "sequence<geometry_msgs/PoseStamped>"}
POSE_ARRAY_LAYOUT: dict[str, str] = {"header": "std_msgs/Header",
                                     "poses": "sequence<geometry_msgs/Pose>"}

_POSE_BYTES = 56
# a PoseStamped is at least its stamp (8), an empty frame id (4 + 0) and its pose (56)
_MIN_STAMPED_BYTES = 68


class PoseList:
    """A Path or PoseArray with its poses as an (N, 7) array: x, y, z, qx, qy, qz, qw."""

    __slots__ = ("header", "poses")

    def __init__(self, header: Header, poses: np.ndarray) -> None:
        self.header, self.poses = header, poses


class _Reader:
    def __init__(self, buf: bytes | bytearray | memoryview) -> None:
        self.data = buf if isinstance(buf, bytes) else bytes(buf)
        self.e = endianness(self.data)
        self.u32 = U32[self.e]
        self.end = len(self.data)

    def need(self, off: int, n: int, what: str) -> None:
        if off + n > self.end:
            raise CdrError(f"truncated at byte {off}: {what} needs {n} bytes, {self.end - off} left")

    def header(self) -> tuple[Header, int]:
        """The message's std_msgs/Header at its start; the offset after it."""
        return read_header(self.data, self.e)

    def count(self, off: int, least: int, what: str) -> tuple[int, int]:
        off += -off & 3
        self.need(off, 4, f"the length of {what}")
        n = self.u32(self.data, off)[0]
        if n * least > self.end - off - 4:
            raise CdrError(f"{what} claims {n} entries in {self.end - off - 4} bytes")
        return n, off + 4

    def doubles(self, off: int, count: int, stride: int) -> np.ndarray:
        """``count`` runs of seven float64 from ``off``, ``stride`` bytes apart -> (count, 7)."""
        if count == 0:
            return np.zeros((0, 7))
        self.need(off, (count - 1) * stride + _POSE_BYTES, "the poses")
        view = np.ndarray((count, 7), dtype=np.dtype(self.e + "f8"), buffer=self.data, offset=off,
                          strides=(stride, 8))
        return np.array(view, dtype=np.float64)


def _aligned8(off: int) -> int:
    """``off`` rounded up to 8, counted after the 4-byte encapsulation header."""
    return off + (4 - off) % 8


def decode_pose_array(buf: bytes | bytearray | memoryview) -> PoseList:
    """Serialized geometry_msgs/PoseArray -> PoseList."""
    r = _Reader(buf)
    header, off = r.header()
    n, off = r.count(off, _POSE_BYTES, "poses")
    return PoseList(header, r.doubles(_aligned8(off), n, _POSE_BYTES))


def decode_path(buf: bytes | bytearray | memoryview) -> PoseList:
    """Serialized nav_msgs/Path -> PoseList (the poses' own headers skipped)."""
    r = _Reader(buf)
    header, off = r.header()
    n, off = r.count(off, _MIN_STAMPED_BYTES, "poses")
    if n == 0:
        return PoseList(header, np.zeros((0, 7)))
    first, off = _stamped(r, off)
    rest = n - 1
    if rest == 0:
        return PoseList(header, first[None, :])
    # the second element starts 8-aligned; so does every later one
    r.need(off + 8, 4, "poses[1].header.frame_id")
    name = r.u32(r.data, off + 8)[0]
    stride = _aligned8(off + 12 + name) - off + _POSE_BYTES
    r.need(off, (rest - 1) * stride + 12, "the poses")
    lengths = np.ndarray((rest,), dtype=np.dtype(r.e + "u4"), buffer=r.data, offset=off + 8,
                         strides=(stride,))
    if (lengths == name).all():
        poses = r.doubles(_aligned8(off + 12 + name), rest, stride)
    else:   # frame ids of different lengths: element by element
        rows = []
        for _ in range(rest):
            row, off = _stamped(r, off)
            rows.append(row)
        poses = np.array(rows)
    return PoseList(header, np.vstack([first[None, :], poses]))


def _stamped(r: _Reader, off: int) -> tuple[np.ndarray, int]:
    """One PoseStamped at ``off``: its pose (7,), and the offset after it."""
    off += -off & 3
    r.need(off, 12, "a pose's header")
    n = r.u32(r.data, off + 8)[0]
    off = _aligned8(off + 12 + n)
    r.need(off, _POSE_BYTES, "a pose")
    return r.doubles(off, 1, _POSE_BYTES)[0], off + _POSE_BYTES


class PathDecoder:
    """nav_msgs/Path -> PoseList (a :class:`~vuer_ros.cdr.typestore.Decoder`)."""

    def __init__(self, max_points: int = 0) -> None:
        self.decode = decode_path


class PoseArrayDecoder:
    """geometry_msgs/PoseArray -> PoseList (a :class:`~vuer_ros.cdr.typestore.Decoder`)."""

    def __init__(self, max_points: int = 0) -> None:
        self.decode = decode_pose_array
