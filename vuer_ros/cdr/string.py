"""Decoding of serialized std_msgs/String (plain CDR, messages.py): a robot
description arrives as one, and it may be megabytes of URDF."""

from __future__ import annotations

import struct

from .messages import CdrError, String, endianness

LAYOUT: dict[str, str] = {"data": "string"}


def decode_string(buf: bytes | bytearray | memoryview) -> String:
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    if len(data) < 8:
        raise CdrError(f"{len(data)} bytes: too short for a std_msgs/String")
    (n,) = struct.unpack_from(e + "I", data, 4)
    if 8 + n > len(data):
        raise CdrError(f"truncated String: {n} bytes declared, {len(data) - 8} present")
    text = data[8:8 + n - 1 if n and data[8 + n - 1] == 0 else 8 + n]
    return String(text.decode("utf-8", "replace"))
