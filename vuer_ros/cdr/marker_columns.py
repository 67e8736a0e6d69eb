"""Serialized visualization_msgs/MarkerArray -> its markers as columns.

Why: a 10,000-marker array decoded into message objects took 130 ms (13 objects per
marker, bench/bench_scene_model.py), the biggest single cost of its first image, and a
1,000-marker array of moving objects at 10 Hz paid a tenth of that every message. Here
one pass finds where each marker lies and reads only its strings; its numbers (ids,
type, action, pose, scale, colour, lifetime, frame_locked, stamp) are gathered into
numpy arrays in one go. A marker whose lists, texture and mesh are all empty (a cube, a
label: *plain*) is then fully described by the columns; any other is decoded in full
(markers.py) and kept. The scene model applies plain markers from the columns
(scene/marker_display.py); ``MarkerArray.markers`` still gives message objects, built
on first use, for everything that reads markers one by one.

:class:`ArrayDecoder` keeps one topic's previous array: one whose bytes differ only in
stamps, poses and alignment padding (the same markers, moved) shares every column with
it but the new stamps and poses (one numpy gather, no Python per marker).
Layout and alignment as markers.py describes (ROS 2 Jazzy, plain CDR, both endians).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

import numpy as np

from .markers import (
    _EMPTY_BYTES,
    _EMPTY_COLORS,
    _EMPTY_POINTS,
    _EMPTY_UVS,
    CompressedImage,
    Marker,
    MeshFile,
    _as_bytes,
    _decode,
)
from .messages import (
    U32,
    CdrError,
    ColorRGBA,
    Header,
    Pose,
    Quaternion,
    Time,
    Vector3,
    endianness,
)

# The smallest serialized Marker (all strings and lists empty) is well over this.
_MIN_MARKER_BYTES = 150
_ZERO5, _ZERO8 = bytes(5), bytes(8)
# an empty string (its length 1, its NUL), alone and after two empty lists / a zero stamp
_EMPTY_STRING = {"<": b"\x01\x00\x00\x00\x00", ">": b"\x00\x00\x00\x01\x00"}
# the fixed block of a Marker: pose, scale, color, lifetime, frame_locked (no padding)
_BLOCK = {e: np.dtype({"names": ["pose", "scale", "color", "life_sec", "life_nsec", "locked"],
                       "formats": [(e + "f8", 7), (e + "f8", 3), (e + "f4", 4), e + "i4", e + "u4", "u1"],
                       "offsets": [0, 56, 80, 96, 100, 104], "itemsize": 105}) for e in "<>"}
_IDS = {e: np.dtype(e + "i4") for e in "<>"}
_STAMP = {e: np.dtype([("sec", e + "i4"), ("nanosec", e + "u4")]) for e in "<>"}


@dataclass(slots=True)
class MarkerColumns:
    """The markers of one MarkerArray, column by column (row i: the i-th marker).

    ``poses`` holds the position, then the quaternion x, y, z, w; ``lifetimes`` and
    ``stamps`` are ns (``stamp_parts``: sec, nanosec); ``locked`` is frame_locked;
    ``plain``: the marker's points, colors, texture, uv_coordinates, mesh_resource and
    mesh_file are all empty, so the columns hold all of it."""

    n: int
    ids: np.ndarray            # int32
    types: np.ndarray          # int32
    actions: np.ndarray        # int32
    poses: np.ndarray          # (n, 7) float64
    scales: np.ndarray         # (n, 3) float64
    colors: np.ndarray         # (n, 4) float32
    lifetimes: np.ndarray      # int64 ns
    locked: np.ndarray         # bool
    stamp_parts: np.ndarray    # (n, 2) int64
    stamps: np.ndarray         # int64 ns
    frame_ids: list[str]
    ns: list[str]
    texts: list[str]
    plain: np.ndarray          # bool
    full: dict[int, Marker] = field(default_factory=dict)   # the others, decoded in full

    def marker(self, i: int) -> Marker:
        """Marker ``i`` as a message object."""
        full = self.full.get(i)
        sec, nsec = self.stamp_parts[i]
        header = Header(Time(sec, nsec), self.frame_ids[i])
        px, py, pz, qx, qy, qz, qw = self.poses[i].tolist()
        pose = Pose(Vector3(px, py, pz), Quaternion(qx, qy, qz, qw))
        if full is not None:
            return full.moved(header, pose)
        m = Marker()
        m.header, m.pose = header, pose
        m.ns, m.id, m.type, m.action = self.ns[i], int(self.ids[i]), int(self.types[i]), int(self.actions[i])
        sx, sy, sz = self.scales[i].tolist()
        r, g, b, a = self.colors[i].tolist()
        m.scale, m.color = Vector3(sx, sy, sz), ColorRGBA(r, g, b, a)
        life = int(self.lifetimes[i])
        m.lifetime = Time(life // 1_000_000_000, life % 1_000_000_000)
        m.frame_locked = bool(self.locked[i])
        m.points, m.colors, m.uv_coordinates = _EMPTY_POINTS, _EMPTY_COLORS, _EMPTY_UVS
        m.texture_resource, m.text, m.mesh_resource = "", self.texts[i], ""
        m.texture = CompressedImage(Header(Time(0, 0), ""), "", _EMPTY_BYTES)
        m.mesh_file = MeshFile("", _EMPTY_BYTES)
        m.mesh_use_embedded_materials = False
        return m

    def moved(self, stamp_parts: np.ndarray, poses: np.ndarray) -> MarkerColumns:
        """These markers with other stamps and poses; every other column shared."""
        return replace(self, stamp_parts=stamp_parts, poses=poses,
                       stamps=stamp_parts[:, 0] * 1_000_000_000 + stamp_parts[:, 1])


class MarkerArray:
    """A decoded MarkerArray: ``markers`` (message objects, made on first use) and, when
    decoded here, ``columns``."""

    __slots__ = ("_markers", "columns")

    def __init__(self, markers: list[Marker] | None = None, columns: MarkerColumns | None = None) -> None:
        self._markers = markers
        self.columns = columns

    @property
    def markers(self) -> list[Marker]:
        if self._markers is None:
            cols = self.columns
            self._markers = [cols.marker(i) for i in range(cols.n)] if cols is not None else []
        return self._markers


def _scan(buf: bytes, off: int, count: int, e: str, max_points: int | None,
          pads: list[int]) -> tuple[MarkerColumns, np.ndarray, np.ndarray]:
    """``count`` markers from ``off`` as columns; also each marker's stamp offset and
    block offset. ``pads`` gets the start and length of every alignment gap."""
    u32 = U32[e]
    end = len(buf)
    starts = [0] * count
    idents = [0] * count
    blocks = [0] * count
    frames: list[str] = [""] * count
    spaces: list[str] = [""] * count
    texts: list[str] = [""] * count
    plain = np.zeros(count, dtype=bool)
    full: dict[int, Marker] = {}
    extend = pads.extend
    empty_s = _EMPTY_STRING[e]
    empty_a = _ZERO8 + empty_s

    for k in range(count):
        gap = -off & 3
        if gap:
            extend((off, gap))
            off += gap
        starts[k] = off
        # header.frame_id, then ns: a length (4-aligned) and the bytes with a final NUL
        p = off + 8
        for which in (frames, spaces):
            gap = -p & 3
            if gap:
                extend((p, gap))
                p += gap
            n = u32(buf, p)[0]
            p += 4
            if n:
                stop = p + n
                if stop > end:
                    raise CdrError(f"truncated at byte {p}: a string of {n} bytes, {end - p} left")
                which[k] = buf[p:stop - 1 if buf[stop - 1] == 0 else stop].decode("utf-8", "replace")
                p = stop
        gap = -p & 3
        if gap:
            extend((p, gap))
            p += gap
        idents[k] = p
        p += 12                       # id, type, action
        gap = (4 - p) % 8
        if gap:
            extend((p, gap))
            p += gap
        blocks[k] = p
        p += 105                      # pose, scale, color, lifetime, frame_locked
        # plain: after 3 bytes of padding, points, colors, texture_resource, the
        # texture's stamp, frame_id, format and data, and uv_coordinates all empty or
        # zero; the text; then mesh_resource, mesh_file (filename, data) empty and
        # mesh_use_embedded_materials false. An empty string is its length 1 and a NUL,
        # then padding (Fast CDR and rosbags alike); any other form is decoded in full.
        if (buf[p + 3:p + 16] == empty_a and buf[p + 19:p + 32] == empty_a
                and buf[p + 35:p + 40] == empty_s and buf[p + 43:p + 51] == _ZERO8):
            t = p + 51
            n = u32(buf, t)[0]
            t += 4
            if n:
                stop = t + n
                if stop > end:
                    raise CdrError(f"truncated at byte {t}: a string of {n} bytes, {end - t} left")
                texts[k] = buf[t:stop - 1 if buf[stop - 1] == 0 else stop].decode("utf-8", "replace")
                t = stop
            gap = -t & 3
            t += gap
            if (buf[t:t + 5] == empty_s and buf[t + 8:t + 13] == empty_s
                    and buf[t + 16:t + 21] == _ZERO5):
                extend((p, 3, p + 16, 3, p + 32, 3, p + 40, 3, t + 5, 3, t + 13, 3))
                if gap:
                    extend((t - gap, gap))
                plain[k] = True
                off = t + 21
                continue
        # anything else: the marker in full, from its start
        markers, off = _decode(buf, starts[k], 1, e, max_points, None, pads)
        full[k] = markers[0]
        texts[k] = markers[0].text

    data = np.frombuffer(buf, np.uint8)
    start_at = np.array(starts, dtype=np.intp)
    block_at = np.array(blocks, dtype=np.intp)
    ident_at = np.array(idents, dtype=np.intp)
    if count:
        triple = data[ident_at[:, None] + np.arange(12)].view(_IDS[e]).astype(np.int32)
        block = data[block_at[:, None] + np.arange(105)].view(_BLOCK[e]).ravel()
        stamp = data[start_at[:, None] + np.arange(8)].view(_STAMP[e]).ravel()
    else:
        triple = np.zeros((0, 3), np.int32)
        block = np.zeros(0, _BLOCK[e])
        stamp = np.zeros(0, _STAMP[e])
    parts = np.stack([stamp["sec"].astype(np.int64), stamp["nanosec"].astype(np.int64)], axis=1)
    cols = MarkerColumns(
        n=count, ids=triple[:, 0], types=triple[:, 1], actions=triple[:, 2],
        poses=block["pose"].astype(np.float64), scales=block["scale"].astype(np.float64),
        colors=block["color"].astype(np.float32),
        lifetimes=block["life_sec"].astype(np.int64) * 1_000_000_000 + block["life_nsec"],
        locked=block["locked"] != 0, stamp_parts=parts,
        stamps=parts[:, 0] * 1_000_000_000 + parts[:, 1],
        frame_ids=frames, ns=spaces, texts=texts, plain=plain, full=full)
    return cols, start_at, block_at


def _decode_array(buf: bytes, max_points: int | None,
                  pads: list[int]) -> tuple[MarkerColumns, np.ndarray, np.ndarray]:
    e = endianness(buf)
    try:
        n = U32[e](buf, 4)[0]
        if n * _MIN_MARKER_BYTES > len(buf):
            raise CdrError(f"MarkerArray claims {n} markers in {len(buf)} bytes")
        return _scan(buf, 8, n, e, max_points, pads)
    except struct.error as err:
        raise CdrError(f"truncated MarkerArray: {err}") from None


def decode_marker_array(buf: bytes | bytearray | memoryview,
                        max_points: int | None = None) -> MarkerArray:
    """Serialized MarkerArray -> MarkerArray (lists longer than ``max_points`` are not
    decoded: markers.py's decode_marker)."""
    cols, _, _ = _decode_array(_as_bytes(buf), max_points, [])
    return MarkerArray(columns=cols)


class ArrayDecoder:
    """Decodes one topic's MarkerArrays. An array whose bytes equal the previous one's
    everywhere but in the stamps, the poses and the alignment padding (the same markers,
    moved: the usual 10 Hz array of tracked objects) is not walked again: its stamps and
    poses are read at the previous array's offsets in one numpy gather, and every other
    column is the previous decode's. The layout cannot differ unnoticed: up to the first
    length field that differs both arrays parse alike, and length fields are never among
    the bytes skipped. One thread at a time."""

    def __init__(self, max_points: int | None = None) -> None:
        self.max_points = max_points
        self._last: bytes | None = None
        self._columns: MarkerColumns | None = None
        # byte indices of each marker's stamp (N, 8) and pose (N, 56), for one gather
        self._stamp_bytes = np.zeros((0, 8), dtype=np.intp)
        self._pose_bytes = np.zeros((0, 56), dtype=np.intp)
        # bytes that must be equal for the same markers: all but the stamps, the poses
        # and the alignment padding
        self._fixed = np.zeros(0, dtype=bool)

    def decode(self, buf: bytes | bytearray | memoryview) -> MarkerArray:
        buf = _as_bytes(buf)
        last = self._last
        if last is not None and len(buf) == len(last) and buf[:8] == last[:8]:
            moved = self._moved(buf, last)
            if moved is not None:
                self._last = buf
                return moved
        self._last = None   # until this one decodes
        pads: list[int] = []
        cols, starts, blocks = _decode_array(buf, self.max_points, pads)
        self._stamp_bytes = starts[:, None] + np.arange(8)
        self._pose_bytes = blocks[:, None] + np.arange(56)
        fixed = np.ones(len(buf), dtype=bool)
        fixed[self._stamp_bytes.ravel()] = False
        fixed[self._pose_bytes.ravel()] = False
        if pads:
            at = np.array(pads, dtype=np.intp).reshape(-1, 2)
            first = np.repeat(at[:, 0] - np.cumsum(at[:, 1]) + at[:, 1], at[:, 1])
            fixed[first + np.arange(len(first))] = False    # every byte of every gap
        self._fixed = fixed
        self._last, self._columns = buf, cols
        return MarkerArray(columns=cols)

    def _moved(self, buf: bytes, last: bytes) -> MarkerArray | None:
        """The previous markers with this array's stamps and poses, or None when
        anything else differs."""
        new, old = np.frombuffer(buf, np.uint8), np.frombuffer(last, np.uint8)
        differ = new != old
        differ &= self._fixed
        if differ.any() or self._columns is None:
            return None
        e = "<" if buf[1] == 1 else ">"
        stamp = new[self._stamp_bytes].view(_STAMP[e]).ravel()
        parts = np.stack([stamp["sec"].astype(np.int64), stamp["nanosec"].astype(np.int64)], axis=1)
        poses = new[self._pose_bytes].view(e + "f8").astype(np.float64)
        self._columns = self._columns.moved(parts, poses)
        return MarkerArray(columns=self._columns)

