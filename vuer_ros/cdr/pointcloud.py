"""Fast decoding of serialized sensor_msgs/PointCloud2 (plain CDR, messages.py).

A cloud is a few small fields and one big byte blob: a 1,000,000-point lidar
sweep is 16 MB or more at 10 Hz. rclpy copies ``data`` into a Python
``array.array`` and rosbags into a numpy array; here it is a read-only numpy
``uint8`` view into the received bytes, never copied, so a cloud too big to
show is refused (scene/cloud_fields.py) before anything is copied. The fields
are read with ``struct``. The layout of ``data`` (point_step, row_step, the
fields' offsets and types) is not checked here: that is the scene's reading
(scene/cloud_fields.py), shared with clouds decoded by rclpy or rosbags.

PointCloud2 has had this layout in every ROS 2 distribution.
"""

from __future__ import annotations

import struct

import numpy as np

from .messages import U32, CdrError, Header, endianness, read_header, read_string

# PointCloud2.get_fields_and_field_types() of the layout decoded here.
LAYOUT: dict[str, str] = {
    "header": "std_msgs/Header", "height": "uint32", "width": "uint32",
    "fields": "sequence<sensor_msgs/PointField>", "is_bigendian": "boolean",
    "point_step": "uint32", "row_step": "uint32", "data": "sequence<uint8>", "is_dense": "boolean",
}

_TWO_U32 = {"<": struct.Struct("<II").unpack_from, ">": struct.Struct(">II").unpack_from}
# a PointField is at least an empty name (4) + offset (4) + datatype (1, padded to 4) + count (4)
_MIN_FIELD_BYTES = 16


class PointField:
    __slots__ = ("name", "offset", "datatype", "count")

    def __init__(self, name: str, offset: int, datatype: int, count: int) -> None:
        self.name, self.offset, self.datatype, self.count = name, offset, datatype, count


class PointCloud2:
    """A decoded sensor_msgs/PointCloud2; ``data`` is a read-only uint8 view of the bytes."""

    __slots__ = ("header", "height", "width", "fields", "is_bigendian", "point_step", "row_step",
                 "data", "is_dense")

    header: Header
    height: int
    width: int
    fields: list[PointField]
    is_bigendian: bool
    point_step: int
    row_step: int
    data: np.ndarray
    is_dense: bool


def decode_point_cloud(buf: bytes | bytearray | memoryview) -> PointCloud2:
    """Serialized PointCloud2 -> PointCloud2 (CdrError for bytes that are not one)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    u32, two = U32[e], _TWO_U32[e]
    end = len(data)

    try:
        cloud = PointCloud2()
        cloud.header, off = read_header(data, e)
        off += -off & 3
        cloud.height, cloud.width = two(data, off)
        count = u32(data, off + 8)[0]
        off += 12
        if count * _MIN_FIELD_BYTES > end - off:
            raise CdrError(f"PointCloud2 claims {count} fields in {end} bytes")
        fields: list[PointField] = []
        for _ in range(count):
            name, off = read_string(data, off, u32)
            off += -off & 3
            offset = u32(data, off)[0]
            datatype = data[off + 4]
            off += 8                                  # datatype, padded to count's alignment
            fields.append(PointField(name, offset, datatype, u32(data, off)[0]))
            off += 4
        cloud.fields = fields
        if off >= end:
            raise CdrError(f"truncated at byte {off}: is_bigendian missing")
        cloud.is_bigendian = data[off] != 0
        off += 1
        off += -off & 3
        cloud.point_step, cloud.row_step = two(data, off)
        n = u32(data, off + 8)[0]
        off += 12
        if off + n + 1 > end:
            raise CdrError(f"truncated at byte {off}: data of {n} bytes and is_dense, "
                           f"{end - off} bytes left")
        cloud.data = np.frombuffer(data, np.uint8, n, off)
        cloud.is_dense = data[off + n] != 0
    except struct.error as err:
        raise CdrError(f"truncated PointCloud2: {err}") from None
    return cloud
