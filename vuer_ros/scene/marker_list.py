"""MarkerList: the simple markers of one frame group, namespace and type as one element.

A CUBE, SPHERE, CYLINDER or pose-form ARROW that is opaque (or invisible) and not
mirrored is drawn from rviz's unit shapes alone (``marker_geometry.PARTS``): its pose,
scale and colour say everything; a TEXT_VIEW_FACING adds its text. MarkerDisplay (``lists=True``) hangs all such markers
of one (frame group, ns, type) in one ``MarkerList`` node (docs/protocol.md) whose
items are packed arrays, instead of a Group and one to two solids per marker::

    Group tf:<frame>
      MarkerList marker:<ns>:list.<type>.<frame>    ids, poses, scales, colors, parts (texts)

So a 10,000-marker array is a handful of nodes for the server's scene, the wire and
the browser, and a thousand markers that moved are one UPDATE of one ``poses`` array.
The browser draws every item as the marker's own nodes would be drawn (the same
batched solids: web/src/elements/marker-list.js).

:func:`expand` turns a MarkerList back into exactly the nodes those markers have
without lists (what ``lists=False`` sends, which any Vuer client draws): a
compatibility path for clients that do not know the tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..protocol.elements import Element, Group, MarkerList
from . import marker_geometry as geo
from .keys import marker_key
from .marker_registry import MarkerRecord

TEXT_VIEW_FACING = 9
# the parts of each listed type, as the list node carries them
_PARTS_WIRE: dict[int, list[dict[str, Any]]] = {
    t: geo.list_parts(t) for t in (*geo.PARTS, TEXT_VIEW_FACING)}


def _colors_u8(colors: np.ndarray) -> np.ndarray:
    """(N, 4) float rgba -> (N, 4) uint8, rounded as the markers' material colours are."""
    out: np.ndarray = (np.clip(colors, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return out


def poses_bytes(views: Iterable[MarkerRecord]) -> bytes:
    """The packed ``poses`` of these (placed) markers: x, y, z, qx, qy, qz, qw each."""
    rows = [v.placed.translation + v.placed.rotation for v in views]  # type: ignore[union-attr]
    return np.array(rows, dtype="<f8").tobytes()


def list_element(key: str, ns: str, mtype: int, views: list[MarkerRecord]) -> Element:
    """The MarkerList of these placed, listed markers (all of type ``mtype``)."""
    geoms = [v.spec.geom for v in views]   # (type, scale, color[, text])
    texts = {"texts": [g[3] for g in geoms]} if mtype == TEXT_VIEW_FACING else {}
    return MarkerList(
        key=key, ns=ns, markerType=mtype, ids=np.array([v.spec.id for v in views], dtype="<i4").tobytes(),
        poses=poses_bytes(views),
        scales=np.array([g[1] for g in geoms], dtype="<f4").tobytes(),
        colors=_colors_u8(np.array([g[2] for g in geoms], dtype=np.float64)).tobytes(),
        parts=_PARTS_WIRE[mtype], **texts)


def expand(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A MarkerList node (wire form) -> the Group of each of its markers, with its
    solids, as MarkerDisplay sends them without lists (wire form)."""
    mtype = int(node["markerType"])
    ns = str(node.get("ns", ""))
    ids = np.frombuffer(node["ids"], "<i4")
    poses = np.frombuffer(node["poses"], "<f8").reshape(-1, 7)
    scales = np.frombuffer(node["scales"], "<f4").reshape(-1, 3)
    colors = np.frombuffer(node["colors"], np.uint8).reshape(-1, 4)
    texts = node.get("texts") or [""] * len(ids)
    out: list[dict[str, Any]] = []
    for mid, pose, scale, rgba, text in zip(ids.tolist(), poses.tolist(), scales.tolist(),
                                            colors.tolist(), texts):
        key = marker_key(ns, mid)
        s = (scale[0], scale[1], scale[2])
        mat = geo.material((rgba[0] / 255.0, rgba[1] / 255.0, rgba[2] / 255.0, rgba[3] / 255.0))
        children = geo.text(key, str(text), s[2], mat) if mtype == TEXT_VIEW_FACING \
            else geo.SOLIDS[mtype](key, s, mat)
        out.append(Group(*children, key=key, position=pose[:3], quaternion=pose[3:],
                         visible=rgba[3] > 0).to_wire())
    return out
