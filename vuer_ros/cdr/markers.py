"""Fast decoding of serialized visualization_msgs/Marker (CDR); MarkerArrays: marker_columns.py.

Why: rclpy builds a Python object for every nested message, about 50-170 us
per Marker on this machine, so a 1,000-marker MarkerArray at 10 Hz would eat
a whole core, and a 10-million-point marker takes minutes and gigabytes
before anyone can refuse it. The node therefore subscribes to marker topics
with ``raw=True`` and decodes here: fixed blocks with ``struct``, point and
colour lists as zero-copy numpy views (``points`` is an (N, 3) float64 array,
``colors`` (N, 4) float32, ``uv_coordinates`` (N, 2) float32, the bytes of
``texture.data`` and ``mesh_file.data`` uint8), strings as ``str``. The objects expose the
message's field names, which is all the scene model reads.

Layout: ROS 2 Jazzy's Marker (with texture, uv_coordinates and mesh_file),
XCDR1 plain CDR as rmw_fastrtps writes it: a 4-byte encapsulation header
(``00 01`` little-endian, ``00 00`` big-endian), then the fields, each
primitive aligned to its size counted from the end of that header.
``LAYOUT`` is the field list this decoder was written for; where the installed
(or recorded) message differs, another decoder is used (vuer_ros/view/kinds.py).

No rclpy here: live subscriptions (raw=True) and bag records are decoded alike.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .messages import (TIME, U32, ColorRGBA, CdrError, Header, Pose, Quaternion, Time, Vector3, endianness)

# Marker.get_fields_and_field_types() of the layout decoded here (ROS 2 Jazzy).
LAYOUT: dict[str, str] = {
    "header": "std_msgs/Header", "ns": "string", "id": "int32", "type": "int32",
    "action": "int32", "pose": "geometry_msgs/Pose", "scale": "geometry_msgs/Vector3",
    "color": "std_msgs/ColorRGBA", "lifetime": "builtin_interfaces/Duration",
    "frame_locked": "boolean", "points": "sequence<geometry_msgs/Point>",
    "colors": "sequence<std_msgs/ColorRGBA>", "texture_resource": "string",
    "texture": "sensor_msgs/CompressedImage",
    "uv_coordinates": "sequence<visualization_msgs/UVCoordinate>", "text": "string",
    "mesh_resource": "string", "mesh_file": "visualization_msgs/MeshFile",
    "mesh_use_embedded_materials": "boolean",
}


class MeshFile:
    """visualization_msgs/MeshFile: ``data`` is a uint8 view of the file's bytes."""

    __slots__ = ("filename", "data")

    def __init__(self, filename: str, data: np.ndarray) -> None:
        self.filename, self.data = filename, data


class CompressedImage:
    """sensor_msgs/CompressedImage: ``data`` is a uint8 view of the encoded image."""

    __slots__ = ("header", "format", "data")

    def __init__(self, header: Header, format: str, data: np.ndarray) -> None:
        self.header, self.format, self.data = header, format, data


class Marker:
    """A decoded visualization_msgs/Marker."""

    __slots__ = ("header", "ns", "id", "type", "action", "pose", "scale", "color", "lifetime",
                 "frame_locked", "points", "colors", "texture_resource", "texture", "uv_coordinates",
                 "text", "mesh_resource", "mesh_file", "mesh_use_embedded_materials")

    header: Header
    ns: str
    id: int
    type: int
    action: int
    pose: Pose
    scale: Vector3
    color: ColorRGBA
    lifetime: Time
    frame_locked: bool
    points: np.ndarray | _Count      # _Count: a list over the limit, never decoded
    colors: np.ndarray | _Count
    texture_resource: str
    texture: CompressedImage
    uv_coordinates: np.ndarray | _Count
    text: str
    mesh_resource: str
    mesh_file: MeshFile
    mesh_use_embedded_materials: bool

    def moved(self, header: Header, pose: Pose) -> "Marker":
        """This marker with another header and pose; every other field shared."""
        m = Marker()
        m.header, m.pose = header, pose
        m.ns, m.id, m.type, m.action = self.ns, self.id, self.type, self.action
        m.scale, m.color, m.lifetime = self.scale, self.color, self.lifetime
        m.frame_locked, m.points, m.colors = self.frame_locked, self.points, self.colors
        m.texture_resource, m.text, m.mesh_resource = self.texture_resource, self.text, self.mesh_resource
        m.texture, m.uv_coordinates = self.texture, self.uv_coordinates
        m.mesh_file, m.mesh_use_embedded_materials = self.mesh_file, self.mesh_use_embedded_materials
        return m


_IDS = {"<": struct.Struct("<iii").unpack_from, ">": struct.Struct(">iii").unpack_from}
# pose (7 float64), scale (3 float64), color (4 float32), lifetime (int32, uint32), frame_locked
_BLOCK = {"<": struct.Struct("<10d4fiI?").unpack_from, ">": struct.Struct(">10d4fiI?").unpack_from}
_BLOCK_SIZE = struct.calcsize("<10d4fiI?")   # 105: no padding inside (checked below)
_F8 = {"<": np.dtype("<f8"), ">": np.dtype(">f8")}
_F4 = {"<": np.dtype("<f4"), ">": np.dtype(">f4")}
assert _BLOCK_SIZE == 105


class _Count:
    """Stands in for a list too long to decode: only its length is known."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        raise CdrError(f"a list of {self.n} entries over the limit was not decoded")


_EMPTY_POINTS = np.zeros((0, 3))
_EMPTY_POINTS.flags.writeable = False
_EMPTY_COLORS = np.zeros((0, 4), dtype=np.float32)
_EMPTY_COLORS.flags.writeable = False
_EMPTY_UVS = np.zeros((0, 2), dtype=np.float32)
_EMPTY_UVS.flags.writeable = False
_EMPTY_BYTES = np.zeros(0, dtype=np.uint8)
_EMPTY_BYTES.flags.writeable = False


def _decode(buf: bytes, off: int, count: int, e: str, max_points: int | None,
            where: list[int] | None = None, pads: list[int] | None = None
            ) -> tuple[list[Marker], int]:
    """``count`` Markers from ``off``; returns them and the offset after the last.
    ``where``, when given, gets each marker's stamp and pose offsets appended, and
    ``pads`` the start and length of every alignment gap (bytes whose content is
    whatever the serialiser's buffer held).

    One function with everything in locals: this loop is the hot path of a
    10 Hz 1,000-marker array. Alignment counts from byte 4 (after the
    encapsulation header): a 4-aligned field starts at off % 4 == 0, an
    8-aligned one at off % 8 == 4.
    """
    u32, time_, ids, block = U32[e], TIME[e], _IDS[e], _BLOCK[e]
    f8, f4 = _F8[e], _F4[e]
    end = len(buf)
    limit = max_points if max_points is not None else 1 << 62
    out: list[Marker] = []
    append = out.append

    def string(off: int) -> tuple[str, int]:
        gap = -off & 3
        if gap and pads is not None:
            pads.extend((off, gap))
        off += gap
        n = u32(buf, off)[0]
        off += 4
        if n == 0:
            return "", off
        stop = off + n
        if stop > end:
            raise CdrError(f"truncated at byte {off}: a string of {n} bytes, {end - off} left")
        if buf[stop - 1] == 0:
            return buf[off:stop - 1].decode("utf-8", "replace"), stop
        return buf[off:stop].decode("utf-8", "replace"), stop

    def seq(off: int, item: int, align8: bool) -> tuple[int, int]:
        gap = -off & 3
        if gap and pads is not None:
            pads.extend((off, gap))
        off += gap
        n = u32(buf, off)[0]
        off += 4
        if n and align8:
            gap = (4 - off) % 8
            if gap and pads is not None:
                pads.extend((off, gap))
            off += gap
        if off + n * item > end:
            raise CdrError(f"truncated at byte {off}: a list of {n} x {item} bytes, "
                           f"{end - off} left")
        return n, off

    for _ in range(count):
        m = Marker()
        gap = -off & 3
        if where is not None:
            if gap:
                pads.extend((off, gap))  # type: ignore[union-attr]
            where.append(off + gap)
        off += gap
        sec, nsec = time_(buf, off)
        frame_id, off = string(off + 8)
        m.header = Header(Time(sec, nsec), frame_id)
        m.ns, off = string(off)
        gap = -off & 3
        if gap and pads is not None:
            pads.extend((off, gap))
        off += gap
        m.id, m.type, m.action = ids(buf, off)
        off += 12
        gap = (4 - off) % 8
        if where is not None:
            if gap:
                pads.extend((off, gap))  # type: ignore[union-attr]
            where.append(off + gap)
        off += gap
        px, py, pz, qx, qy, qz, qw, sx, sy, sz, r, g, b, a, lsec, lnsec, locked = block(buf, off)
        off += 105
        m.pose = Pose(Vector3(px, py, pz), Quaternion(qx, qy, qz, qw))
        m.scale = Vector3(sx, sy, sz)
        m.color = ColorRGBA(r, g, b, a)
        m.lifetime = Time(lsec, lnsec)
        m.frame_locked = locked
        n, off = seq(off, 24, True)
        if n > limit:   # too big to show: only its length, never decoded
            m.points = _Count(n)
        elif n:
            m.points = np.frombuffer(buf, f8, 3 * n, off).reshape(n, 3)
        else:
            m.points = _EMPTY_POINTS
        off += 24 * n
        n, off = seq(off, 16, False)
        if n > limit:
            m.colors = _Count(n)
        elif n:
            m.colors = np.frombuffer(buf, f4, 4 * n, off).reshape(n, 4)
        else:
            m.colors = _EMPTY_COLORS
        off += 16 * n
        m.texture_resource, off = string(off)
        # texture: sensor_msgs/CompressedImage (header, format, data)
        gap = -off & 3
        if gap and pads is not None:
            pads.extend((off, gap))
        off += gap
        sec, nsec = time_(buf, off)
        frame_id, off = string(off + 8)
        fmt, off = string(off)
        n, off = seq(off, 1, False)
        m.texture = CompressedImage(Header(Time(sec, nsec), frame_id), fmt,
                                    np.frombuffer(buf, np.uint8, n, off) if n else _EMPTY_BYTES)
        off += n
        n, off = seq(off, 8, False)    # uv_coordinates: float32 u, v
        if n > limit:
            m.uv_coordinates = _Count(n)
        elif n:
            m.uv_coordinates = np.frombuffer(buf, f4, 2 * n, off).reshape(n, 2)
        else:
            m.uv_coordinates = _EMPTY_UVS
        off += 8 * n
        m.text, off = string(off)
        m.mesh_resource, off = string(off)
        filename, off = string(off)
        n, off = seq(off, 1, False)
        m.mesh_file = MeshFile(filename, np.frombuffer(buf, np.uint8, n, off) if n else _EMPTY_BYTES)
        off += n
        if off >= end:
            raise CdrError(f"truncated at byte {off}: mesh_use_embedded_materials missing")
        m.mesh_use_embedded_materials = buf[off] != 0
        off += 1
        append(m)
    return out, off


def _as_bytes(buf: bytes | bytearray | memoryview) -> bytes:
    return buf if isinstance(buf, bytes) else bytes(buf)


def decode_marker(buf: bytes | bytearray | memoryview, max_points: int | None = None) -> Marker:
    """Serialized Marker -> Marker. Lists longer than ``max_points`` are not
    decoded (their ``len()`` is right, so the scene model refuses them by size)."""
    buf = _as_bytes(buf)
    e = endianness(buf)
    try:
        markers, _ = _decode(buf, 4, 1, e, max_points)
    except struct.error as err:
        raise CdrError(f"truncated Marker: {err}") from None
    return markers[0]


class MarkerDecoder:
    """One topic's Markers (see :func:`decode_marker`)."""

    def __init__(self, max_points: int | None = None) -> None:
        self.max_points = max_points

    def decode(self, buf: bytes | bytearray | memoryview) -> Marker:
        return decode_marker(buf, self.max_points)
