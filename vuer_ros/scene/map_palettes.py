"""The Map display's colour schemes: a cell's byte -> RGBA, as rviz's palettes are built.

An OccupancyGrid cell is an int8; its byte (``-1`` is 255) indexes a 256-entry RGBA
palette (rviz_default_plugins' palette_builder.cpp), which the client looks up per
pixel (web/src/elements/map.js). The palettes are defined here only; the client gets
them as bytes.

- ``map``: 0 (free) white .. 100 (occupied) black, ``255 - 255 * v / 100``; -1
  (unknown) ``#708986``; 101..127 green; -128..-2 red to yellow.
- ``costmap``: 0 transparent; 1..98 blue to red (``r = 255 * v / 100``, ``b = 255 - r``);
  99 cyan (inscribed), 100 magenta (lethal); -1 ``#708986``; 101..127 green;
  -128..-2 red to yellow.
- ``raw``: the byte as grey (``-1`` white).
- ``binary``: two colours split at ``threshold`` (below: free, from it on: occupied):
  map white / black, costmap blue / red, raw black / white.

Every entry is opaque but costmap's 0 (and the unset entries of binary palettes,
which rviz leaves at zero).
"""

from __future__ import annotations

import numpy as np

SCHEMES = ("map", "costmap", "raw")
UNKNOWN_RGB = (0x70, 0x89, 0x86)   # -1: the grey rviz shows unknown cells in


def palette(scheme: str, binary: bool = False, threshold: int = 100) -> np.ndarray:
    """(256, 4) uint8 RGBA for the cell bytes 0..255."""
    p = np.zeros((256, 4), np.uint8)
    v = np.arange(256)
    if scheme == "raw":
        if binary:
            p[:threshold] = (0, 0, 0, 255)
            p[threshold:] = (255, 255, 255, 255)
        else:
            p[:, :3] = v[:, None]
            p[:, 3] = 255
        return p
    if scheme == "map":
        if binary:
            p[:threshold] = (255, 255, 255, 255)
            p[threshold:101] = (0, 0, 0, 255)
        else:
            grey = 255 - (255 * v[:101]) // 100
            p[:101, :3] = grey[:, None]
            p[:101, 3] = 255
    elif scheme == "costmap":
        if binary:
            p[:threshold] = (0, 0, 255, 255)
            p[threshold:101] = (255, 0, 0, 255)
        else:
            r = (255 * v[1:99]) // 100
            p[1:99, 0], p[1:99, 2], p[1:99, 3] = r, 255 - r, 255
            p[99] = (0, 255, 255, 255)     # inscribed obstacle: cyan
            p[100] = (255, 0, 255, 255)    # lethal obstacle: magenta
    else:
        raise ValueError(f"colour scheme {scheme!r} is not one of {', '.join(SCHEMES)}")
    p[101:128] = (0, 255, 0, 255)                           # illegal positive values: green
    p[128:255, 0] = 255                                     # illegal negative: red .. yellow
    p[128:255, 1] = (255 * (v[128:255] - 128)) // (254 - 128)
    p[128:255, 3] = 255
    p[255] = (*UNKNOWN_RGB, 255)                            # -1: unknown
    return p
