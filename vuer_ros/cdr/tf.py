"""Fast decoding of serialized tf2_msgs/TFMessage (plain CDR, messages.py).

/tf arrives at 100 Hz and more with a dozen transforms a message; building
rclpy or rosbags objects for each costs more than reading the fixed layout
with ``struct``: stamp (int32, uint32), frame_id and child_frame_id strings,
then seven float64 (translation x y z, rotation x y z w) aligned to 8.
TFMessage has had this layout in every ROS 2 distribution.
"""

from __future__ import annotations

import struct

from .messages import (TIME, U32, CdrError, Header, Quaternion, TFMessage, Time, Transform,
                       TransformStamped, Vector3, endianness, read_string)

# TFMessage.get_fields_and_field_types() of the layout decoded here.
LAYOUT: dict[str, str] = {"transforms": "sequence<geometry_msgs/TransformStamped>"}

_POSE = {"<": struct.Struct("<7d").unpack_from, ">": struct.Struct(">7d").unpack_from}
# a TransformStamped is at least stamp (8) + two empty strings (8) + 7 doubles (56)
_MIN_TRANSFORM_BYTES = 72


def decode_tf(buf: bytes | bytearray | memoryview) -> TFMessage:
    """Serialized TFMessage -> TFMessage (fields by name, like rclpy's)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    u32, time_, pose = U32[e], TIME[e], _POSE[e]
    end = len(data)

    try:
        count = u32(data, 4)[0]
        if count * _MIN_TRANSFORM_BYTES > end:
            raise CdrError(f"TFMessage claims {count} transforms in {end} bytes")
        off = 8
        transforms: list[TransformStamped] = []
        for _ in range(count):
            off += -off & 3
            sec, nsec = time_(data, off)
            frame_id, off = read_string(data, off + 8, u32)
            child, off = read_string(data, off, u32)
            off += (4 - off) % 8     # float64 aligned to 8, counted after the 4-byte header
            px, py, pz, qx, qy, qz, qw = pose(data, off)
            off += 56
            transforms.append(TransformStamped(
                Header(Time(sec, nsec), frame_id), child,
                Transform(Vector3(px, py, pz), Quaternion(qx, qy, qz, qw))))
    except struct.error as err:
        raise CdrError(f"truncated TFMessage: {err}") from None
    return TFMessage(transforms)
