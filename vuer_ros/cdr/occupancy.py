"""Fast decoding of serialized nav_msgs/OccupancyGrid and map_msgs/OccupancyGridUpdate
(plain CDR, messages.py).

A map is mostly its cells: a 4,000 x 4,000 grid is 16 MB of int8. The header and
the map's metadata are read with ``struct``; the cells come back as a numpy int8
view over the received bytes (no copy, never walked in Python). Both layouts are
the same in every ROS 2 distribution::

    OccupancyGrid        header (stamp, frame_id), info: map_load_time (int32, uint32),
                         resolution (float32), width, height (uint32), origin (Pose:
                         7 float64 aligned to 8), data (int8[])
    OccupancyGridUpdate  header, x, y (int32), width, height (uint32), data (int8[])

The decoder checks only that the bytes hold what they claim; what the values mean
(``data`` of ``width * height`` cells, a positive resolution, the size limits) is
the map display's to check (vuer_ros/scene/map_display.py), which names the topic.
"""

from __future__ import annotations

import struct

import numpy as np

from .messages import U32, CdrError, Header, Pose, Quaternion, Time, Vector3, endianness, read_header

# get_fields_and_field_types() of the rclpy classes of the layouts decoded here.
GRID_LAYOUT: dict[str, str] = {"header": "std_msgs/Header", "info": "nav_msgs/MapMetaData",
                               "data": "sequence<int8>"}
UPDATE_LAYOUT: dict[str, str] = {"header": "std_msgs/Header", "x": "int32", "y": "int32",
                                 "width": "uint32", "height": "uint32", "data": "sequence<int8>"}

# map_msgs is not in rosbags' Jazzy store (nor on PyPI): its definition, as released
# (tools/map_msgs builds the rclpy package from the same text; a test compares hashes).
UPDATE_MSGTYPE = "map_msgs/msg/OccupancyGridUpdate"
UPDATE_DEFINITION = """\
std_msgs/Header header
int32 x
int32 y
uint32 width
uint32 height
int8[] data
"""

_INFO = {e: struct.Struct(e + "iIfII").unpack_from for e in "<>"}    # load time, res, w, h
_POSE = {e: struct.Struct(e + "7d").unpack_from for e in "<>"}
_RECT = {e: struct.Struct(e + "iiII").unpack_from for e in "<>"}


class MapMetaData:
    __slots__ = ("map_load_time", "resolution", "width", "height", "origin")

    def __init__(self, map_load_time: Time, resolution: float, width: int, height: int,
                 origin: Pose) -> None:
        self.map_load_time, self.resolution = map_load_time, resolution
        self.width, self.height, self.origin = width, height, origin


class OccupancyGrid:
    __slots__ = ("header", "info", "data")

    def __init__(self, header: Header, info: MapMetaData, data: np.ndarray) -> None:
        self.header, self.info, self.data = header, info, data


class OccupancyGridUpdate:
    __slots__ = ("header", "x", "y", "width", "height", "data")

    def __init__(self, header: Header, x: int, y: int, width: int, height: int,
                 data: np.ndarray) -> None:
        self.header, self.x, self.y, self.width, self.height = header, x, y, width, height
        self.data = data


def _cells(data: bytes, e: str, off: int) -> np.ndarray:
    """The int8[] sequence at ``off`` (4-aligned from the body's start): a view, no copy."""
    off += -(off - 4) & 3
    n = U32[e](data, off)[0]
    off += 4
    if n > len(data) - off:
        raise CdrError(f"data claims {n} cells, {len(data) - off} bytes left")
    return np.frombuffer(data, np.int8, n, off)


def decode_occupancy_grid(buf: bytes | bytearray | memoryview) -> OccupancyGrid:
    """Serialized OccupancyGrid -> OccupancyGrid (fields by name, ``data`` an int8 view)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    try:
        header, off = read_header(data, e)
        off += -(off - 4) & 3
        sec, nanosec, resolution, width, height = _INFO[e](data, off)
        off += 20
        off += -(off - 4) & 7      # float64 aligned to 8, counted after the 4-byte header
        px, py, pz, qx, qy, qz, qw = _POSE[e](data, off)
        cells = _cells(data, e, off + 56)
    except struct.error as err:
        raise CdrError(f"truncated OccupancyGrid: {err}") from None
    info = MapMetaData(Time(sec, nanosec), resolution, width, height,
                       Pose(Vector3(px, py, pz), Quaternion(qx, qy, qz, qw)))
    return OccupancyGrid(header, info, cells)


def decode_occupancy_grid_update(buf: bytes | bytearray | memoryview) -> OccupancyGridUpdate:
    """Serialized OccupancyGridUpdate -> OccupancyGridUpdate (``data`` an int8 view)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    try:
        header, off = read_header(data, e)
        off += -(off - 4) & 3
        x, y, width, height = _RECT[e](data, off)
        cells = _cells(data, e, off + 16)
    except struct.error as err:
        raise CdrError(f"truncated OccupancyGridUpdate: {err}") from None
    return OccupancyGridUpdate(header, x, y, width, height, cells)
