"""Plain-CDR basics shared by the fast decoders: the encapsulation header, the
errors, and the small message classes they build (slotted, with the field names
of the ROS messages, which is all the scene model reads).

XCDR1 plain CDR as rmw_fastrtps writes it and rosbags stores it: a 4-byte
encapsulation header (``00 01`` little-endian, ``00 00`` big-endian), then the
fields, each primitive aligned to its size counted from the end of that header.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

# unpackers by byte order ('<' / '>'): a uint32, and a builtin_interfaces/Time (int32, uint32)
U32: dict[str, Callable[[Any, int], tuple[int]]] = {e: struct.Struct(e + "I").unpack_from for e in "<>"}
TIME: dict[str, Callable[[Any, int], tuple[int, int]]] = {
    e: struct.Struct(e + "iI").unpack_from for e in "<>"}


class CdrError(ValueError):
    """Bytes that are not a well-formed message of the layout being decoded."""


class UnsupportedEncoding(CdrError):
    """Well-formed perhaps, but not plain CDR (XCDR2, ...): use the middleware's decoder."""


class Time:
    __slots__ = ("sec", "nanosec")

    def __init__(self, sec: int, nanosec: int) -> None:
        self.sec, self.nanosec = sec, nanosec


class Header:
    __slots__ = ("stamp", "frame_id")

    def __init__(self, stamp: Time, frame_id: str) -> None:
        self.stamp, self.frame_id = stamp, frame_id


class Vector3:
    __slots__ = ("x", "y", "z")

    def __init__(self, x: float, y: float, z: float) -> None:
        self.x, self.y, self.z = x, y, z


class Quaternion:
    __slots__ = ("x", "y", "z", "w")

    def __init__(self, x: float, y: float, z: float, w: float) -> None:
        self.x, self.y, self.z, self.w = x, y, z, w


class Pose:
    __slots__ = ("position", "orientation")

    def __init__(self, position: Vector3, orientation: Quaternion) -> None:
        self.position, self.orientation = position, orientation


class ColorRGBA:
    __slots__ = ("r", "g", "b", "a")

    def __init__(self, r: float, g: float, b: float, a: float) -> None:
        self.r, self.g, self.b, self.a = r, g, b, a


def endianness(buf: bytes | bytearray | memoryview) -> str:
    """'<' or '>' from the encapsulation header (UnsupportedEncoding if not plain CDR)."""
    if len(buf) < 4:
        raise CdrError(f"{len(buf)} bytes: too short for a CDR message")
    kind = buf[1]
    if buf[0] != 0 or kind not in (0, 1):
        raise UnsupportedEncoding(f"encapsulation {bytes(buf[:2]).hex()} is not plain CDR "
                                  "(00 00 / 00 01)")
    return "<" if kind == 1 else ">"


def read_string(data: bytes, off: int, u32: Callable[[Any, int], tuple[int]]) -> tuple[str, int]:
    """The string whose length (``u32``: U32 of the byte order) is at ``off`` or the next
    4-aligned byte (offsets count from byte 0: the 4-byte encapsulation header keeps the
    alignment); the offset after it. Its trailing NUL is dropped, bad UTF-8 replaced."""
    off += -off & 3
    n = u32(data, off)[0]
    off += 4
    stop = off + n
    if stop > len(data):
        raise CdrError(f"truncated at byte {off}: a string of {n} bytes, {len(data) - off} left")
    return data[off:stop - 1 if n and data[stop - 1] == 0 else stop].decode("utf-8", "replace"), stop


def read_header(data: bytes, e: str) -> tuple[Header, int]:
    """The std_msgs/Header a message of byte order ``e`` starts with; the offset after it."""
    if len(data) < 16:
        raise CdrError(f"{len(data)} bytes: too short for a message with a header")
    sec, nanosec = TIME[e](data, 4)
    frame_id, off = read_string(data, 12, U32[e])
    return Header(Time(sec, nanosec), frame_id), off


class Transform:
    __slots__ = ("translation", "rotation")

    def __init__(self, translation: Vector3, rotation: Quaternion) -> None:
        self.translation, self.rotation = translation, rotation


class TransformStamped:
    __slots__ = ("header", "child_frame_id", "transform")

    def __init__(self, header: Header, child_frame_id: str, transform: Transform) -> None:
        self.header, self.child_frame_id, self.transform = header, child_frame_id, transform


class TFMessage:
    __slots__ = ("transforms",)

    def __init__(self, transforms: list[TransformStamped]) -> None:
        self.transforms = transforms


class String:
    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data
