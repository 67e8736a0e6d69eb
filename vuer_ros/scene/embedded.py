"""Files a Marker carries inside itself: the mesh of ``mesh_file`` and the image of
``texture``. Which formats they are, whether their bytes look like that format,
and how big they may be.

The browser would fail on bad bytes only in its own console, so they are checked
here, where the problem can be logged with the marker's key. The checks read the
bytes' structure (magic numbers, declared lengths, the text a format must hold),
not the whole file: cheap enough for every new version of a marker, and enough to
tell a mesh or an image from garbage or from another format.

No rclpy, no I/O.
"""

from __future__ import annotations

import io
import json
import re
import struct

from PIL import Image

# The largest mesh_file or texture a marker may carry (either one), in bytes. Both are
# held in memory for as long as the marker is shown and fetched by the browser.
MAX_EMBEDDED_BYTES = 32 * 1024 * 1024

MESH_SUFFIXES = (".stl", ".dae", ".obj", ".glb", ".gltf")
EMBEDDED_SCHEME = "embedded://"

_OBJ_VERTEX = re.compile(rb"(?m)^[ \t]*v[ \t]")
_OBJ_FACE = re.compile(rb"(?m)^[ \t]*f[ \t]")
# the start of a text file: where a COLLADA root element must appear
_HEAD = 4096


def mesh_suffix(filename: str) -> str | None:
    """The mesh format of ``mesh_file.filename`` by its extension (``.stl``...), or None."""
    name = filename.lower()
    for suffix in MESH_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def mesh_problem(data: bytes, suffix: str) -> str | None:
    """Why ``data`` is not a mesh in format ``suffix``; None when it looks like one."""
    if suffix == ".stl":
        return _stl_problem(data)
    if suffix == ".glb":
        return _glb_problem(data)
    if b"\x00" in data:
        return f"it holds NUL bytes, so it is not a text {suffix} file"
    if suffix == ".dae":
        head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"<") or b"<COLLADA" not in head:
            return "it is not a COLLADA document (no <COLLADA> root element at its start)"
        return None
    if suffix == ".obj":
        if not (_OBJ_VERTEX.search(data) and _OBJ_FACE.search(data)):
            return "it is not an OBJ file (no 'v' vertex and 'f' face lines)"
        return None
    if suffix == ".gltf":
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return "it is not a glTF file (not JSON)"
        if not isinstance(doc, dict) or "asset" not in doc:
            return "it is not a glTF file (no 'asset' in its JSON)"
        return None
    return f"unknown mesh format {suffix!r}"


def _stl_problem(data: bytes) -> str | None:
    if len(data) >= 84:
        (triangles,) = struct.unpack_from("<I", data, 80)
        if len(data) == 84 + 50 * triangles:
            return None if triangles else "it is a binary STL of 0 triangles"
    text = data[:_HEAD].lstrip()
    if text[:5].lower() == b"solid" and b"\x00" not in data and b"facet" in data:
        return None
    if len(data) >= 84:
        return (f"it is neither a binary STL ({len(data)} bytes, but its header counts "
                f"{triangles} triangles = {84 + 50 * triangles} bytes) nor an ASCII one")
    return f"it is not an STL file ({len(data)} bytes)"


def _glb_problem(data: bytes) -> str | None:
    if len(data) < 20 or data[:4] != b"glTF":
        return "it is not a binary glTF file (no 'glTF' magic)"
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        return f"it is binary glTF version {version}; only version 2 is read"
    if length != len(data):
        return f"its header says {length} bytes, it has {len(data)}"
    return None


def image_info(data: bytes) -> tuple[str, bool] | str:
    """(suffix, has alpha) of a PNG or JPEG image (``.png``/``.jpg``), from its header
    (Pillow reads it without decoding the pixels); or why the bytes are not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, mode, info = image.format, image.mode, image.info
            if fmt == "PNG":
                image.verify()    # every chunk's checksum, without decoding the pixels
    except Exception as e:  # Pillow's errors for bytes that are not an image it reads
        return f"it is not a PNG or JPEG image ({type(e).__name__}: {e})"
    if fmt not in ("PNG", "JPEG"):
        return f"it is a {fmt} image; textures are PNG or JPEG"
    return (".png" if fmt == "PNG" else ".jpg"), mode in ("RGBA", "LA", "PA") or "transparency" in info
