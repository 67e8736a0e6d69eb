"""Fast decoding of serialized tf2_msgs/TFMessage (plain CDR, messages.py).

/tf arrives at 100 Hz and more with a dozen transforms a message; building
rclpy or rosbags objects for each costs more than reading the fixed layout
with ``struct``: stamp (int32, uint32), frame_id and child_frame_id strings,
then seven float64 (translation x y z, rotation x y z w) aligned to 8.
TFMessage has had this layout in every ROS 2 distribution.
"""

from __future__ import annotations

import struct

from .messages import (CdrError, Header, Quaternion, TFMessage, Time, Transform,
                       TransformStamped, Vector3, endianness)

# TFMessage.get_fields_and_field_types() of the layout decoded here.
LAYOUT: dict[str, str] = {"transforms": "sequence<geometry_msgs/TransformStamped>"}

_U32 = {"<": struct.Struct("<I").unpack_from, ">": struct.Struct(">I").unpack_from}
_TIME = {"<": struct.Struct("<iI").unpack_from, ">": struct.Struct(">iI").unpack_from}
_POSE = {"<": struct.Struct("<7d").unpack_from, ">": struct.Struct(">7d").unpack_from}
# a TransformStamped is at least stamp (8) + two empty strings (8) + 7 doubles (56)
_MIN_TRANSFORM_BYTES = 72


def decode_tf(buf: bytes | bytearray | memoryview) -> TFMessage:
    """Serialized TFMessage -> TFMessage (fields by name, like rclpy's)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    u32, time_, pose = _U32[e], _TIME[e], _POSE[e]
    end = len(data)

    def string(off: int) -> tuple[str, int]:
        off += -off & 3
        n = u32(data, off)[0]
        off += 4
        stop = off + n
        if stop > end:
            raise CdrError(f"truncated at byte {off}: a string of {n} bytes, {end - off} left")
        text = data[off:stop - 1 if n and data[stop - 1] == 0 else stop]
        return text.decode("utf-8", "replace"), stop

    try:
        count = u32(data, 4)[0]
        if count * _MIN_TRANSFORM_BYTES > end:
            raise CdrError(f"TFMessage claims {count} transforms in {end} bytes")
        off = 8
        transforms: list[TransformStamped] = []
        for _ in range(count):
            off += -off & 3
            sec, nsec = time_(data, off)
            frame_id, off = string(off + 8)
            child, off = string(off)
            off += (4 - off) % 8     # float64 aligned to 8, counted after the 4-byte header
            px, py, pz, qx, qy, qz, qw = pose(data, off)
            off += 56
            transforms.append(TransformStamped(
                Header(Time(sec, nsec), frame_id), child,
                Transform(Vector3(px, py, pz), Quaternion(qx, qy, qz, qw))))
    except struct.error as err:
        raise CdrError(f"truncated TFMessage: {err}") from None
    return TFMessage(transforms)
