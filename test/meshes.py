"""Mesh and image files made by tests (no downloaded assets): a cuboid as binary STL,
OBJ, COLLADA (either up axis) and binary glTF bytes, and PNG images."""

from __future__ import annotations

import io
import itertools
import json
import struct
from pathlib import Path
from typing import Sequence

import numpy as np

_QUADS = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]


def cuboid(lo: Sequence[float] = (-.5, -.5, -.5), hi: Sequence[float] = (.5, .5, .5)
           ) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (8, 3) float32, triangles (12, 3)) of an axis-aligned box, faces outward."""
    v = np.array([[(lo, hi)[i][k] for k, i in enumerate(bits)]
                  for bits in itertools.product((0, 1), repeat=3)], np.float32)
    tris = np.array([t for a, b, c, d in _QUADS for t in ((a, b, c), (a, c, d))])
    centre = v.mean(axis=0)
    for t in tris:
        p = v[t]
        if np.dot(np.cross(p[1] - p[0], p[2] - p[0]), p.mean(axis=0) - centre) < 0:
            t[[1, 2]] = t[[2, 1]]
    return v, tris


def _face_normals(v: np.ndarray, tris: np.ndarray) -> np.ndarray:
    p = v[tris]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    return (n / np.linalg.norm(n, axis=1, keepdims=True)).astype(np.float32)


def stl_bytes(v: np.ndarray, tris: np.ndarray) -> bytes:
    rec = np.zeros(len(tris), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    rec["n"] = _face_normals(v, tris)
    rec["v"] = v[tris]
    return b"binary STL".ljust(80, b" ") + np.uint32(len(tris)).tobytes() + rec.tobytes()


def binary_stl(path: Path) -> Path:
    """A unit cube centred on the origin, binary STL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stl_bytes(*cuboid()))
    return path


def obj_bytes(v: np.ndarray, tris: np.ndarray) -> bytes:
    lines = ["# a test mesh"] + [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]
    return ("\n".join(lines) + "\n").encode()


def collada_bytes(v: np.ndarray, tris: np.ndarray, up_axis: str = "Z_UP") -> bytes:
    """One node, one geometry with per-face normals; ``up_axis`` only declared (the
    coordinates are the same whatever it says)."""
    n = _face_normals(v, tris)
    floats = " ".join(f"{x:.6f}" for x in v.ravel())
    normals = " ".join(f"{x:.6f}" for x in n.ravel())
    p = " ".join(f"{i} {f}" for f, t in enumerate(tris) for i in t)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">
  <asset><unit name="meter" meter="1"/><up_axis>{up_axis}</up_axis></asset>
  <library_geometries>
    <geometry id="shape" name="shape"><mesh>
      <source id="shape-pos"><float_array id="shape-pos-array" count="{v.size}">{floats}</float_array>
        <technique_common><accessor source="#shape-pos-array" count="{len(v)}" stride="3">
          <param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/>
        </accessor></technique_common></source>
      <source id="shape-nrm"><float_array id="shape-nrm-array" count="{n.size}">{normals}</float_array>
        <technique_common><accessor source="#shape-nrm-array" count="{len(n)}" stride="3">
          <param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/>
        </accessor></technique_common></source>
      <vertices id="shape-vtx"><input semantic="POSITION" source="#shape-pos"/></vertices>
      <triangles count="{len(tris)}">
        <input semantic="VERTEX" source="#shape-vtx" offset="0"/>
        <input semantic="NORMAL" source="#shape-nrm" offset="1"/>
        <p>{p}</p>
      </triangles>
    </mesh></geometry>
  </library_geometries>
  <library_visual_scenes><visual_scene id="Scene" name="Scene">
    <node id="shape-node" name="shape"><instance_geometry url="#shape"/></node>
  </visual_scene></library_visual_scenes>
  <scene><instance_visual_scene url="#Scene"/></scene>
</COLLADA>
""".encode()


def glb_bytes(v: np.ndarray, tris: np.ndarray) -> bytes:
    """A glTF 2.0 binary of one mesh (unshared flat-shaded triangles, with normals)."""
    pos = v[tris].reshape(-1, 3).astype("<f4")
    nrm = np.repeat(_face_normals(v, tris), 3, axis=0).astype("<f4")
    binary = pos.tobytes() + nrm.tobytes()
    doc = {
        "asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": pos.nbytes},
                        {"buffer": 0, "byteOffset": pos.nbytes, "byteLength": nrm.nbytes}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(pos), "type": "VEC3",
             "min": pos.min(axis=0).tolist(), "max": pos.max(axis=0).tolist()},
            {"bufferView": 1, "componentType": 5126, "count": len(nrm), "type": "VEC3"}],
    }
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def png_bytes(rgb: np.ndarray) -> bytes:
    """An (H, W, 3 or 4) uint8 array as PNG."""
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(out, format="JPEG", quality=95)
    return out.getvalue()


def quadrants_png(size: int = 64) -> bytes:
    """A texture of four colours: red top-left, green top-right, blue bottom-left,
    yellow bottom-right (as the image is shown, row 0 at the top)."""
    h = size // 2
    img = np.zeros((size, size, 3), np.uint8)
    img[:h, :h] = (255, 0, 0)
    img[:h, h:] = (0, 255, 0)
    img[h:, :h] = (0, 0, 255)
    img[h:, h:] = (255, 255, 0)
    return png_bytes(img)
