"""Mesh files written by tests (no downloaded assets): a binary STL cube."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np


def binary_stl(path: Path) -> Path:
    """A unit cube centred on the origin, binary STL written with numpy."""
    v = np.array(list(itertools.product((-.5, .5), repeat=3)), np.float32)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])
    pts = v[tris]
    normals = np.cross(pts[:, 1] - pts[:, 0], pts[:, 2] - pts[:, 0])
    flip = (normals * pts.mean(axis=1)).sum(axis=1) < 0
    pts[flip] = pts[flip][:, ::-1]
    normals[flip] *= -1
    rec = np.zeros(len(tris), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    rec["n"] = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    rec["v"] = pts
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"binary STL cube".ljust(80, b" ") + np.uint32(len(tris)).tobytes()
                     + rec.tobytes())
    return path
