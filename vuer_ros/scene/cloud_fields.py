"""Reading sensor_msgs/PointCloud2 as numpy: any field layout, no per-point Python.

A cloud's ``data`` is ``height`` rows of ``row_step`` bytes, each row ``width``
points of ``point_step`` bytes; a field is ``count`` values of ``datatype`` at
``offset`` in a point, in the byte order ``is_bigendian`` says. A field is read
as one strided numpy view over the bytes (a one-field structured dtype whose
itemsize is ``point_step``, rows ``row_step`` apart) copied once into a packed
array, so padding, float64 coordinates, organised clouds, padded rows and
big-endian data all read alike. ``data`` may be the fast decoder's numpy view
(vuer_ros/cdr/pointcloud.py), rclpy's ``array.array`` or rosbags' numpy array.

:func:`read_cloud` checks, in this order, and raises CloudError naming the topic
and the key (the display reports it once and skips the cloud):

- ``limit``: ``width * height`` over the display's ``max_points``, before anything
  of ``data`` is read or copied;
- ``fields``: no ``x``/``y``/``z`` field, or a field read that ends past ``point_step``;
- ``datatype``: a field read whose datatype is not one of PointField's eight;
- ``row_step``: smaller than ``width * point_step`` (rows would overlap);
- ``data``: fewer bytes than the declared rows and points need (longer is allowed:
  the extra bytes are ignored).

Fields not read (not position, colour or the intensity channel) are not checked,
as rviz ignores them. Points whose x, y or z is NaN or infinite are skipped (rviz's
``filterOutInvalidPoints``); when ``is_dense`` claims there are none, that is
reported once (a ``warnings`` entry).
"""

from __future__ import annotations

from typing import Any, Collection

import numpy as np

from .errors import CloudError

# sensor_msgs/PointField datatypes -> numpy type (byte order added per cloud)
DATATYPES: dict[int, str] = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}
DATATYPE_NAMES: dict[int, str] = {1: "int8", 2: "uint8", 3: "int16", 4: "uint16", 5: "int32",
                                  6: "uint32", 7: "float32", 8: "float64"}
INT32, UINT32, FLOAT32 = 5, 6, 7
XYZ = ("x", "y", "z")


class Field:
    """A field as read: byte offset in a point, numpy dtype (with the cloud's byte order)."""

    __slots__ = ("name", "offset", "datatype", "dtype")

    def __init__(self, name: str, offset: int, datatype: int, dtype: np.dtype[Any]) -> None:
        self.name, self.offset, self.datatype, self.dtype = name, offset, datatype, dtype


def as_bytes(data: Any) -> np.ndarray:
    """A message's ``data`` as a 1-D uint8 array, without copying when it is a buffer."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8) if data.dtype.itemsize == 1 else data.view(np.uint8)
    if isinstance(data, (list, tuple)):   # a hand-built message: rare, small
        return np.asarray(data, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


class CloudPoints:
    """One PointCloud2's points, read on demand: positions (float32, finite points only)
    and any field as float32 or colour bytes, for the same points in the same order."""

    def __init__(self, topic: str, msg: Any, fields: dict[str, Field], data: np.ndarray) -> None:
        self.topic = topic
        self.width, self.height = int(msg.width), int(msg.height)
        self.point_step, self.row_step = int(msg.point_step), int(msg.row_step)
        self.is_dense = bool(msg.is_dense)
        self.count = self.width * self.height       # declared points, before NaN ones go
        self.fields = fields
        self.field_names = tuple(fields)
        self._data = data
        self._xyz: np.ndarray | None = None
        self._valid: np.ndarray | None = None       # None: every point is valid
        self.warnings: list[tuple[str, str]] = []   # (kind, text) found while reading

    def _view(self, offset: int, dtype: np.dtype[Any]) -> np.ndarray:
        """The value at ``offset`` of every point, as a (height, width) strided view."""
        one = np.dtype({"names": ["v"], "formats": [dtype], "offsets": [offset],
                        "itemsize": self.point_step})
        rows = np.ndarray((self.height, self.width), one, self._data, 0,
                          (self.row_step, self.point_step))
        return rows["v"]

    def xyz(self) -> np.ndarray:
        """(N, 3) float32 positions of the finite points, in the cloud's frame."""
        if self._xyz is not None:
            return self._xyz
        fx, fy, fz = (self.fields[n] for n in XYZ)
        out = np.empty((self.height, self.width, 3), np.float32)
        size = fx.dtype.itemsize
        if (fx.dtype == fy.dtype == fz.dtype and fy.offset == fx.offset + size
                and fz.offset == fx.offset + 2 * size):
            out[...] = self._view(fx.offset, np.dtype((fx.dtype, (3,))))   # one strided copy
        else:
            for i, f in enumerate((fx, fy, fz)):
                out[..., i] = self._view(f.offset, f.dtype)
        xyz = out.reshape(-1, 3)
        finite = np.isfinite(xyz)
        if finite.all():      # the common case, and 20x cheaper than a per-row reduction
            self._xyz = xyz
            return xyz
        valid = finite[:, 0] & finite[:, 1] & finite[:, 2]
        bad = len(valid) - int(np.count_nonzero(valid))
        if bad:
            xyz = xyz[valid]
            self._valid = valid
            if self.is_dense:
                self.warnings.append(("dense", f"{self.topic}: is_dense is true but {bad} of "
                                      f"{len(valid)} points have a NaN or infinite x, y or z; "
                                      "those points are skipped"))
        self._xyz = xyz
        return xyz

    def _keep(self, values: np.ndarray) -> np.ndarray:
        """(height, width, ...) values -> (N, ...) of the finite points."""
        flat = values.reshape(self.count, *values.shape[2:])
        return flat if self._valid is None else flat[self._valid]

    def channel(self, name: str) -> np.ndarray | None:
        """Field ``name`` (its first value) of the finite points as float32; None if absent."""
        f = self.fields.get(name)
        if f is None:
            return None
        self.xyz()
        return self._keep(self._view(f.offset, f.dtype).astype(np.float32))

    def packed_rgb(self) -> np.ndarray | None:
        """rviz's RGB8: an ``rgb`` (alpha 1) or ``rgba`` field packed in 32 bits as
        0xAARRGGBB, as (N, 3) or (N, 4) uint8; None without such a field."""
        f = self.fields.get("rgb") or self.fields.get("rgba")
        if f is None or f.datatype not in (INT32, UINT32, FLOAT32):
            return None
        self.xyz()
        big = f.dtype.byteorder == ">"
        # byte offsets of r, g, b, a inside the 32 bits as they lie in memory
        order = (1, 2, 3, 0) if big else (2, 1, 0, 3)
        channels = 3 if f.name == "rgb" else 4
        out = np.empty((self.height, self.width, channels), np.uint8)
        for i in range(channels):
            out[..., i] = self._view(f.offset + order[i], np.dtype(np.uint8))
        return self._keep(out)

    def float_rgb(self) -> np.ndarray | None:
        """rviz's RGBF32: float32 ``r``, ``g``, ``b`` fields in 0-1 as (N, 3) uint8;
        None without them."""
        if any(n not in self.fields for n in "rgb") or self.fields["r"].datatype != FLOAT32:
            return None
        self.xyz()
        out = np.empty((self.height, self.width, 3), np.float32)
        for i, n in enumerate("rgb"):
            f = self.fields[n]
            out[..., i] = self._view(f.offset, f.dtype)
        out *= 255.0
        out += 0.5
        return self._keep(np.clip(out, 0.0, 255.0).astype(np.uint8))


def read_cloud(msg: Any, topic: str, max_points: int, used: Collection[str] = ()) -> CloudPoints:
    """A PointCloud2 checked for showing (module docstring); reads nothing of ``data``
    but its length. ``used``: field names the display may read besides x, y, z."""
    width, height = int(msg.width), int(msg.height)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    count = width * height
    data = msg.data
    if count > max_points:
        raise CloudError("limit", f"{topic}: a cloud of {width} x {height} = {count} points "
                         f"({len(data)} bytes of data) is over max_points {max_points}; skipped")
    order = ">" if msg.is_bigendian else "<"
    wanted = set(XYZ) | set(used)
    fields: dict[str, Field] = {}
    for f in msg.fields:
        name = str(f.name)
        if name not in wanted or name in fields:     # rviz reads the first of a name
            continue
        datatype = int(f.datatype)
        if datatype not in DATATYPES:
            raise CloudError("datatype", f"{topic}: field '{name}' has datatype {datatype}, "
                             "not one of PointField's 1-8 (INT8 .. FLOAT64); skipped")
        dtype = np.dtype(order + DATATYPES[datatype])
        offset = int(f.offset)
        end = offset + dtype.itemsize * max(1, int(f.count))
        if end > point_step:
            raise CloudError("fields", f"{topic}: field '{name}' (offset {offset}, "
                             f"{int(f.count)} x {DATATYPE_NAMES[datatype]}) ends at byte {end}, "
                             f"past point_step {point_step}; skipped")
        fields[name] = Field(name, offset, datatype, dtype)
    missing = [n for n in XYZ if n not in fields]
    if missing:
        raise CloudError("fields", f"{topic}: no {'/'.join(missing)} field (fields: "
                         f"{', '.join(str(f.name) for f in msg.fields) or 'none'}); skipped")
    if count and row_step < width * point_step:
        raise CloudError("row_step", f"{topic}: row_step {row_step} is smaller than width "
                         f"{width} x point_step {point_step}; skipped")
    need = (height - 1) * row_step + width * point_step if count else 0
    if len(data) < need:
        raise CloudError("data", f"{topic}: data has {len(data)} bytes, {height} rows of "
                         f"row_step {row_step} with {width} points of point_step {point_step} "
                         f"need {need}; skipped")
    return CloudPoints(topic, msg, fields, as_bytes(data) if count else np.zeros(0, np.uint8))
