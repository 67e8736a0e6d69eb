"""rviz's point cloud colour transformers, vectorised: a cloud's points -> uint8 colours.

rviz_default_plugins' transformers, by the name its "Color Transformer" option takes:

- ``RGB8``: an ``rgb`` (or ``rgba``, with per-point alpha) field of 32 bits (int32,
  uint32 or float32) holding 0xAARRGGBB;
- ``RGBF32``: float32 ``r``, ``g``, ``b`` fields in 0-1;
- ``Intensity``: one channel (``channel_name``, default ``intensity``, which falls
  back to ``intensities``) mapped through rviz's rainbow (hue from red at the
  minimum to magenta at the maximum; ``invert_rainbow`` reverses it) or from
  ``min_color`` to ``max_color``; bounds from the cloud (``autocompute_intensity_bounds``)
  or fixed (``min_intensity``, ``max_intensity``; equal bounds colour everything as
  the minimum);
- ``AxisColor``: the rainbow along ``axis`` (X, Y or Z) of each point, in the fixed
  frame (``use_fixed_frame``) or the cloud's, bounds autocomputed or fixed
  (``min_value``, ``max_value``);
- ``FlatColor``: ``color`` for every point.

``""`` (the default), or a transformer the cloud lacks the fields for, picks as rviz
does: RGB8 when the cloud has an rgb/rgba field, otherwise Intensity (rviz ranks
Intensity and AxisColor equal and takes the later name). The pick is made per cloud
(rviz keeps its first pick while later clouds support it: the same for a topic whose
clouds all have the same fields). rviz draws points white when the Intensity channel
is missing, as here.
Colours are ``(r, g, b)`` 0-255 as rviz's config writes them; per-point colours are
sRGB bytes, exactly what an opaque point shows in a grab.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Protocol

import numpy as np

from .transform import Transform

TRANSFORMERS = ("RGB8", "RGBF32", "Intensity", "AxisColor", "FlatColor")
AXES = ("X", "Y", "Z")
WHITE = (255, 255, 255)
# entries of the colour tables a value in [0, 1] is looked up in: steps of 1/65535, a
# fiftieth of an 8-bit level on the rainbow's steepest ramp (so a byte differs from
# rviz's only where its exact value is a hair from x.5)
LUT_SIZE = 65536


class PointSource(Protocol):
    """What the transformers read of a cloud (cloud_fields.CloudPoints, laser_scan.ScanPoints):
    the finite points' positions and channels, in one order."""

    field_names: tuple[str, ...]
    warnings: list[tuple[str, str]]      # (kind, text) found while reading, to report once

    def xyz(self) -> np.ndarray: ...

    def channel(self, name: str) -> np.ndarray | None: ...

    def packed_rgb(self) -> np.ndarray | None: ...

    def float_rgb(self) -> np.ndarray | None: ...


class Colors(NamedTuple):
    """Per-point (N, 3) or (N, 4) uint8 colours, or None and one colour for all."""

    per_point: np.ndarray | None
    flat: tuple[int, int, int] = WHITE


def rainbow(value: np.ndarray) -> np.ndarray:
    """rviz's ``getRainbowColor`` for values in [0, 1] (clamped): (N, 3) float in 0-1."""
    v = np.clip(np.asarray(value, dtype=np.float64), 0.0, 1.0)
    h = v * 5.0 + 1.0
    i = np.floor(h).astype(int)
    f = h - i
    f = np.where(i % 2 == 0, 1.0 - f, f)
    n = 1.0 - f
    zero, one = np.zeros_like(n), np.ones_like(n)
    i = np.clip(i, 1, 5)
    r = np.choose(i - 1, [n, zero, zero, n, one])
    g = np.choose(i - 1, [zero, n, one, one, n])
    b = np.choose(i - 1, [one, one, n, zero, zero])
    return np.stack([r, g, b], axis=-1)


def _bytes(rgb01: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(rgb01) * 255.0), 0, 255).astype(np.uint8)


_RAINBOW = _bytes(rainbow(np.linspace(0.0, 1.0, LUT_SIZE)))


def _lookup(table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``table`` (LUT_SIZE, 3) at ``u`` in [0, 1] (clamped; NaN reads as 0)."""
    idx = u.astype(np.float32) * np.float32(LUT_SIZE - 1)
    np.nan_to_num(idx, copy=False, nan=0.0, posinf=LUT_SIZE - 1, neginf=0.0)
    np.clip(idx, 0, LUT_SIZE - 1, out=idx)
    np.rint(idx, out=idx)
    return table[idx.astype(np.intp)]


def _bounds(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)] if not np.isfinite(values).all() else values
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())


def supports(name: str, source: PointSource) -> bool:
    """Whether transformer ``name`` can colour this cloud (rviz's ``supports``)."""
    fields = source.field_names
    if name == "RGB8":
        return "rgb" in fields or "rgba" in fields
    if name == "RGBF32":
        return all(c in fields for c in "rgb")
    return name in TRANSFORMERS


def pick(source: PointSource) -> str:
    """rviz's choice for a cloud when none is set: RGB8 if it can, else Intensity."""
    return "RGB8" if supports("RGB8", source) else "Intensity"


def _color(value: Any) -> tuple[int, int, int]:
    r, g, b = (round(min(255.0, max(0.0, float(c)))) for c in value)
    return r, g, b


def colorize(name: str, source: PointSource, options: Mapping[str, Any],
             pose: Transform) -> Colors:
    """The colours of ``source``'s points by transformer ``name`` with the display's
    ``options`` (all of them: vuer_ros/displays.py); ``pose``: the cloud's frame in the
    fixed frame (AxisColor in the fixed frame)."""
    if name == "RGB8":
        rgb = source.packed_rgb()
        return Colors(rgb) if rgb is not None else Colors(None)
    if name == "RGBF32":
        rgb = source.float_rgb()
        return Colors(rgb) if rgb is not None else Colors(None)
    if name == "Intensity":
        return _intensity(source, options)
    if name == "AxisColor":
        return _axis(source, options, pose)
    return Colors(None, _color(options["color"]))


def _intensity(source: PointSource, o: Mapping[str, Any]) -> Colors:
    channel = str(o["channel_name"])
    values = source.channel(channel)
    if values is None and channel == "intensity":
        values = source.channel("intensities")
    if values is None:
        return Colors(None)            # rviz: the transformer fails, points stay white
    if o["autocompute_intensity_bounds"]:
        lo, hi = _bounds(values)
    else:
        lo, hi = float(o["min_intensity"]), float(o["max_intensity"])
    diff = hi - lo or 1e20
    u = (values - np.float32(lo)) * np.float32(1.0 / diff)
    if o["use_rainbow"]:
        if not o["invert_rainbow"]:
            u = 1.0 - u
        return Colors(_lookup(_RAINBOW, u))
    low = np.array(_color(o["min_color"]), np.float64)
    high = np.array(_color(o["max_color"]), np.float64)
    t = np.linspace(0.0, 1.0, LUT_SIZE)[:, None]
    table = np.clip(np.rint(low + (high - low) * t), 0, 255).astype(np.uint8)
    return Colors(_lookup(table, u))


def _axis(source: PointSource, o: Mapping[str, Any], pose: Transform) -> Colors:
    xyz = source.xyz()
    axis = AXES.index(str(o["axis"]))
    if o["use_fixed_frame"]:
        m = pose.matrix()
        values = xyz @ m[axis, :3].astype(np.float32) + np.float32(m[axis, 3])
    else:
        values = xyz[:, axis]
    if o["autocompute_value_bounds"]:
        lo, hi = _bounds(values)
    else:
        lo, hi = float(o["min_value"]), float(o["max_value"])
    span = hi - lo or 0.001
    return Colors(_lookup(_RAINBOW, 1.0 - (values - np.float32(lo)) * np.float32(1.0 / span)))
