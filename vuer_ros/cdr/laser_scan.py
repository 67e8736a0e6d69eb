"""Fast decoding of serialized sensor_msgs/LaserScan (plain CDR, messages.py).

A scan arrives at 10-40 Hz with hundreds to thousands of rays; ``ranges`` and
``intensities`` are read as read-only float32 numpy views of the bytes (no
copy, no Python float per ray), the seven scan parameters with ``struct``.
LaserScan has had this layout in every ROS 2 distribution.
"""

from __future__ import annotations

import struct

import numpy as np

from .messages import U32, CdrError, Header, endianness, read_header

# LaserScan.get_fields_and_field_types() of the layout decoded here.
LAYOUT: dict[str, str] = {
    "header": "std_msgs/Header", "angle_min": "float", "angle_max": "float",
    "angle_increment": "float", "time_increment": "float", "scan_time": "float",
    "range_min": "float", "range_max": "float", "ranges": "sequence<float>",
    "intensities": "sequence<float>",
}

_PARAMS = {"<": struct.Struct("<7f").unpack_from, ">": struct.Struct(">7f").unpack_from}
_F4 = {"<": np.dtype("<f4"), ">": np.dtype(">f4")}


class LaserScan:
    """A decoded sensor_msgs/LaserScan; ``ranges`` and ``intensities`` are read-only
    float32 views of the bytes."""

    __slots__ = ("header", "angle_min", "angle_max", "angle_increment", "time_increment",
                 "scan_time", "range_min", "range_max", "ranges", "intensities")

    header: Header
    angle_min: float
    angle_max: float
    angle_increment: float
    time_increment: float
    scan_time: float
    range_min: float
    range_max: float
    ranges: np.ndarray
    intensities: np.ndarray


def decode_laser_scan(buf: bytes | bytearray | memoryview) -> LaserScan:
    """Serialized LaserScan -> LaserScan (CdrError for bytes that are not one)."""
    data = buf if isinstance(buf, bytes) else bytes(buf)
    e = endianness(data)
    u32, f4 = U32[e], _F4[e]
    end = len(data)
    try:
        scan = LaserScan()
        scan.header, off = read_header(data, e)
        off += -off & 3
        (scan.angle_min, scan.angle_max, scan.angle_increment, scan.time_increment,
         scan.scan_time, scan.range_min, scan.range_max) = _PARAMS[e](data, off)
        off += 28
        for name in ("ranges", "intensities"):
            count = u32(data, off)[0]
            off += 4
            if off + 4 * count > end:
                raise CdrError(f"truncated at byte {off}: {name} of {count} floats, "
                               f"{end - off} bytes left")
            setattr(scan, name, np.frombuffer(data, f4, count, off))
            off += 4 * count
    except struct.error as err:
        raise CdrError(f"truncated LaserScan: {err}") from None
    return scan
