"""The Vuer client's form of our scene: what a browser running Vuer's own client
(the ``vuer`` package's bundled client, ``@vuer-ai/vuer``) is sent instead of our
wire form, so the whole scene shows there too. Sans I/O: wire-form nodes and
events in, wire-form nodes and events out.

Every tag of the element schema (``protocol/schema.py``) has one rule in ``RULES``
(test/protocol/test_vuer_client_form.py keeps them in step). What the Vuer client
(0.0.102) reads differently from our client, and what it is sent for it:

- ``TriMesh``/``PointCloud``: vertices as float16 (``half2float``), colours as
  3 uint8 per vertex, faces always present, the colour as a top-level ``color``.
  float16 has 11 significant bits, so the vertices are re-centred on the middle of
  their box: the node becomes a ``Group`` (its key, its transform) holding the mesh
  (key + ``#vuer``) at that middle; a vertex is then off by at most 2^-11 of the
  box's half size (0.5 mm for a 2 m mesh, wherever it is).
- ``CubeList``/``SphereList`` (ours): one ``TriMesh`` of all the cubes (flat faces)
  or spheres (12 x 8 segments), per-item colours per vertex.
- ``MarkerList`` (ours): a ``Group`` holding each item as the marker's own nodes (a
  ``Group`` at its pose, each of the list's ``parts`` sized by its scale), from the
  node alone; an UPDATE of its poses sends it whole.
- ``Line``: points and vertex colours as lists (packed arrays crash its Line),
  the colour as a top-level ``color``.
- ``Text``: its ``Text`` (troika) with a ``font`` it can load offline (it fetches
  one from a CDN otherwise): the font the server gives (a ``data:`` URL), the
  size of its capitals as ours, inside a ``Billboard`` when ours faces the camera.
- ``Grid``: line segments in the XY plane (its own Grid is a shader plane whose
  orientation depends on when the scene's ``up`` arrives).
- ``Glb``: turned +Y to +Z in a group (its loader leaves glTF Y-up).
- ``CameraView``: a ``Group`` (its CameraView is a picture-in-picture view).
- materials: ``side`` as three's number (its primitives pass the string on);
  meshes and models take the colour and opacity as top-level props.
- ``Arrow``: inside a ``Group`` that carries its transform (its Arrow reads no quaternion).

Our own browser client is never sent this form; only sessions whose INIT says
they are the Vuer client (:func:`is_vuer_client`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import schema
from .scene_tree import SceneTree

VUER_PACKAGE = "@vuer-ai/vuer"
OUR_CLIENT_TYPE = "vuer_ros"
SUFFIX = "#vuer"  # key suffix of nodes this form adds (wrappers' inner nodes)
# troika's fontSize is the em; ours is the height of the capitals (Roboto: 1456 / 2048 em)
CAP_HEIGHT_EM = 1456 / 2048
SPHERE_SEGMENTS = (12, 8)
SIDES = {"front": 0, "back": 1, "double": 2}
_TEXT_ANCHOR_Y = {"top": "top-cap", "middle": "middle", "bottom": "bottom-baseline"}

Node = dict[str, Any]


def is_vuer_client(info: Mapping[str, Any]) -> bool:
    """Whether a session's INIT value comes from the Vuer client (it sends ``pkg``;
    ours sends ``clientType: "vuer_ros"``)."""
    if info.get("clientType") == OUR_CLIENT_TYPE:
        return False
    pkg = info.get("pkg")
    return isinstance(pkg, str) and pkg.startswith(VUER_PACKAGE)


# -- values -----------------------------------------------------------------------------------
def packed(value: Any, name: str, width: int) -> np.ndarray | None:
    """A packed prop (bytes of its schema dtype, or a list) as an (N, width) array."""
    if value is None or value is True:
        return None
    dtype = schema.packed_dtypes()[name]
    if isinstance(value, (bytes, bytearray, memoryview)):
        flat = np.frombuffer(value, dtype=dtype)
    else:
        flat = np.asarray(value, dtype=float).reshape(-1)
        if dtype == np.uint8 and flat.size and flat.max() <= 1.0:
            flat = flat * 255.0  # [[r, g, b], ...] 0-1 lists
        flat = flat.astype(dtype)
    if flat.size % width:
        return None
    return flat.reshape(-1, width)


def rgb_u8(colors: np.ndarray | None) -> bytes | None:
    """Per-vertex colours as the Vuer client reads them: 3 uint8 per vertex."""
    if colors is None:
        return None
    return np.ascontiguousarray(colors[:, :3], dtype=np.uint8).tobytes()


def item_size(value: Any) -> np.ndarray:
    """A list's ``scale``: a number or [x, y, z] (anything else: 1)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return np.full(3, float(value))
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return np.asarray(value, dtype=float)
    return np.ones(3)


def recentred(vertices: np.ndarray) -> tuple[bytes, list[float]]:
    """float16 vertices about the middle of their box, and that middle (the inner
    node's position): float16 keeps 11 significant bits of each offset."""
    finite = vertices[np.all(np.isfinite(vertices), axis=1)] if len(vertices) else vertices
    middle = (finite.min(0) + finite.max(0)) / 2 if len(finite) else np.zeros(3)
    return (vertices - middle).astype(np.float16).tobytes(), [float(v) for v in middle]


def wrapped(node: Node, inner: Node, children: list[Any], scale_is_transform: bool = True) -> Node:
    """A Group with the node's key and transform, holding ``inner`` (key + SUFFIX)
    and the node's children: the Vuer form of a node whose own props move it."""
    names = _TRANSFORM if scale_is_transform else tuple(n for n in _TRANSFORM if n != "scale")
    group: Node = {"tag": "Group", "key": node["key"], **{k: node[k] for k in names if k in node}}
    inner["key"] = node["key"] + SUFFIX
    group["children"] = [inner, *children]
    return group


# -- materials --------------------------------------------------------------------------------
def vuer_material(material: Any) -> dict[str, Any] | None:
    """Our material map with ``side`` as three's number (the Vuer client passes it on as is)."""
    if not isinstance(material, dict):
        return None
    out = dict(material)
    if isinstance(out.get("side"), str):
        out["side"] = SIDES.get(out["side"], 0)
    return out


def _top_level_colour(node: Node, out: Node) -> None:
    material = node.get("material")
    if isinstance(material, dict):
        if "color" in material and "color" not in node:
            out["color"] = material["color"]
        if "opacity" in material:
            out["opacity"] = material["opacity"]


def _clean(node: Node) -> Node:
    return {k: v for k, v in node.items() if v is not None}


# -- the rules: one per tag ---------------------------------------------------------------------
class VuerClientForm:
    """Translates our wire form into the Vuer client's.

    ``text_font``: a font URL the Vuer client can load without network (e.g. a
    ``data:font/woff;base64,...`` URL); None leaves Text to its CDN default."""

    def __init__(self, text_font: str | None = None) -> None:
        self.text_font = text_font
        self.rules: dict[str, Callable[[Node, bool], Node]] = {
            "Scene": self._scene, "Group": self._same, "VuerGroup": self._same,
            "Box": self._primitive, "Sphere": self._primitive, "Cylinder": self._primitive,
            "Cone": self._primitive, "Plane": self._primitive,
            "Arrow": self._arrow, "Line": self._line, "TriMesh": self._trimesh,
            "PointCloud": self._point_cloud, "CubeList": self._cube_list, "SphereList": self._sphere_list,
            "MarkerList": self._marker_list, "Text": self._text,
            "Obj": self._model, "Stl": self._model, "Dae": self._model, "Glb": self._glb,
            "Frustum": self._same, "CameraView": self._camera_view, "GrabRender": self._same,
            "Grid": self._grid, "MapTile": self._map_tile, "Cloud": self._cloud,
            "HemisphereLight": self._hemisphere, "DirectionalLight": self._same,
            "AmbientLight": self._same, "PointLight": self._same,
        }
        # tags whose Vuer form depends on the whole node: an UPDATE sends the whole node
        self.whole = {"Arrow", "TriMesh", "PointCloud", "CubeList", "SphereList", "MarkerList", "Text",
                      "Grid", "Glb", "MapTile", "Cloud"}

    # -- nodes ----------------------------------------------------------------------------
    def node(self, node: Any, whole: bool = True) -> Any:
        """One node (and its subtree) in the Vuer client's form. ``whole=False``: a
        partial node of an UPDATE (only the props it carries)."""
        if not isinstance(node, dict):
            return node
        rule = self.rules.get(node.get("tag", ""), self._same) if "tag" in node else self._same
        return rule(node, whole)

    def _children(self, node: Node, out: Node) -> Node:
        for name in schema.CHILD_LISTS:
            if isinstance(node.get(name), list):
                out[name] = [self.node(c) for c in node[name]]
        return out

    def _same(self, node: Node, whole: bool) -> Node:
        return self._children(node, dict(node))

    def _scene(self, node: Node, whole: bool) -> Node:
        return self._children(node, dict(node))

    def _primitive(self, node: Node, whole: bool) -> Node:
        out = dict(node)
        if "material" in node:
            out["material"] = vuer_material(node["material"])
        if whole and "materialType" not in node:
            out["materialType"] = schema.BY_TAG[node["tag"]].defaults().get("materialType", "standard")
        return self._children(node, _clean(out))

    def _arrow(self, node: Node, whole: bool) -> Node:
        """Its Arrow reads no quaternion: the pose goes on a Group around it."""
        inner = {k: v for k, v in node.items() if k not in _TRANSFORM and k not in ("key", "children")}
        _top_level_colour(node, inner)
        inner.pop("opacity", None)
        inner["tag"] = "Arrow"
        return wrapped(node, inner, [self.node(c) for c in node.get("children") or []])

    def _line(self, node: Node, whole: bool) -> Node:
        out = dict(node)
        points = packed(node.get("points"), "points", 3) if "points" in node else None
        if points is not None:
            out["points"] = points.astype(float).tolist()
        colours = node.get("vertexColors")
        per_point = packed(colours, "vertexColors", 3) if not isinstance(colours, (list, bool)) else None
        if per_point is None and (colours is True or colours is None) and "colors" in node:
            raw = node["colors"]
            n = len(points) if points is not None else 0
            width = 4 if n and isinstance(raw, (bytes, bytearray)) and len(raw) == 4 * n else 3
            per_point = packed(raw, "colors", width)
            out.pop("colors", None)
        if per_point is not None:
            out["vertexColors"] = np.round(per_point[:, :3] / 255.0, 4).tolist()
        if isinstance(node.get("material"), dict):
            out["material"] = vuer_material(node["material"])
            _top_level_colour(node, out)
            out.pop("opacity", None)
            if "opacity" in node["material"]:
                out["opacity"] = node["material"]["opacity"]
                out["transparent"] = node["material"]["opacity"] < 1
        return self._children(node, out)

    def _mesh_colour(self, node: Node, out: Node) -> None:
        """TriMesh/PointCloud/model colour and opacity as top-level props; the Vuer
        TriMesh discards anything not fully opaque unless told otherwise (alphaTest 1)."""
        material = vuer_material(node.get("material")) or {}
        side = material.pop("side", None)
        if node.get("tag") == "TriMesh" or node.get("tag") in ("CubeList", "SphereList"):
            out["side"] = {0: "front", 1: "back", 2: "double"}.get(side, "double") if side is not None else "double"
            opacity = material.get("opacity", 1.0)
            if isinstance(opacity, (int, float)) and opacity < 1.0:
                material.update(transparent=True, alphaTest=0)
        if "color" in material:
            out["color"] = material["color"]
        if "opacity" in material:
            out["opacity"] = material["opacity"]
        out["material"] = material

    def _trimesh(self, node: Node, whole: bool, scale_is_transform: bool = True) -> Node:
        inner: Node = {"tag": "TriMesh", "materialType": node.get("materialType", "standard")}
        vertices = packed(node.get("vertices"), "vertices", 3)
        if vertices is None:
            vertices = np.zeros((0, 3), np.float32)
        inner["vertices"], inner["position"] = recentred(vertices.astype(np.float64))
        faces = packed(node.get("faces"), "faces", 3)
        if faces is None:
            faces = np.arange(len(vertices) - len(vertices) % 3, dtype=np.uint32).reshape(-1, 3)
        inner["faces"] = np.ascontiguousarray(faces, dtype=np.uint32).tobytes()
        colors = node.get("colors")
        if colors is not None:
            width = 4 if isinstance(colors, (bytes, bytearray)) and len(colors) == 4 * len(vertices) else 3
            inner["colors"] = rgb_u8(packed(colors, "colors", width))
        self._mesh_colour(node, inner)
        uvs = packed(node.get("uvs"), "uvs", 2)
        if uvs is not None:
            # three's textures have v upwards (flipY); ours come top-down as rviz's
            inner["uv"] = np.c_[uvs[:, 0], 1.0 - uvs[:, 1]].astype(np.float16).tobytes()
        if isinstance(node.get("texture"), str):
            inner["material"]["map"] = node["texture"]
        children = [self.node(c) for c in node.get("children") or []]
        return wrapped(node, _clean(inner), children, scale_is_transform)

    def _point_cloud(self, node: Node, whole: bool) -> Node:
        inner: Node = {"tag": "PointCloud", "size": node.get("size", schema.BY_TAG["PointCloud"].defaults()["size"])}
        vertices = packed(node.get("vertices"), "vertices", 3)
        if vertices is None:
            vertices = np.zeros((0, 3), np.float32)
        inner["vertices"], inner["position"] = recentred(vertices.astype(np.float64))
        colors = node.get("colors")
        if colors is not None:
            width = 4 if isinstance(colors, (bytes, bytearray)) and len(colors) == 4 * len(vertices) else 3
            inner["colors"] = rgb_u8(packed(colors, "colors", width))
        self._mesh_colour(node, inner)
        inner.pop("material", None)
        return wrapped(node, _clean(inner), [self.node(c) for c in node.get("children") or []])

    def _cloud(self, node: Node, whole: bool) -> Node:
        """A ROS display's cloud as the Vuer client's PointCloud (its points are round and
        shrink with distance: the styles and pixel sizes of ours are not there)."""
        cloud: Node = {k: v for k, v in node.items() if k in ("key", "vertices", "colors", "children",
                                                                 *_TRANSFORM)}
        cloud["size"] = float(node.get("size", schema.BY_TAG["Cloud"].defaults()["size"]))
        if node.get("units") == "pixels":
            cloud["size"] *= 0.01   # no pixel size there: about a centimetre a pixel at a few metres
        if "colors" not in node:
            cloud["material"] = {"color": node.get("color", "#ffffff")}
        return self._point_cloud({"tag": "PointCloud", **cloud}, whole)

    def _item_list(self, node: Node, shape: tuple[np.ndarray, np.ndarray]) -> Node:
        """CubeList/SphereList as one TriMesh of every item (template vertices, faces)."""
        positions = packed(node.get("positions"), "positions", 3)
        if positions is None:
            positions = np.zeros((0, 3), np.float32)
        n = len(positions)
        scales = packed(node.get("scales"), "scales", 3)
        if scales is None or len(scales) != n:
            scales = np.tile(item_size(node.get("scale")), (n, 1))
        template, faces = shape
        vertices = (template[None, :, :] * scales[:, None, :] + positions[:, None, :]).reshape(-1, 3)
        all_faces = (faces[None, :, :] + (np.arange(n) * len(template))[:, None, None]).reshape(-1, 3)
        mesh: Node = {k: v for k, v in node.items() if k not in ("positions", "scales", "scale", "colors")}
        mesh.update(tag="TriMesh", vertices=vertices.astype(np.float32).tobytes(),
                    faces=all_faces.astype(np.uint32).tobytes())
        colors = node.get("colors")
        if colors is not None:
            width = 4 if isinstance(colors, (bytes, bytearray)) and len(colors) == 4 * n else 3
            per_item = packed(colors, "colors", width)
            if per_item is not None and len(per_item) == n:
                mesh["colors"] = np.repeat(per_item[:, :3], len(template), axis=0).tobytes()
        # `scale` was the items' size, not a transform
        return self._trimesh(mesh, True, scale_is_transform=False)

    def _cube_list(self, node: Node, whole: bool) -> Node:
        return self._item_list(node, _CUBE)

    def _sphere_list(self, node: Node, whole: bool) -> Node:
        return self._item_list(node, _SPHERE)

    def _marker_list(self, node: Node, whole: bool) -> Node:
        """Each item as the marker's own nodes: a Group at its pose (hidden at alpha 0)
        holding every part, its position and scale the part's matrices times the item's
        scale, in the item's colour."""
        poses = packed(node.get("poses"), "poses", 7)
        if poses is None:
            poses = np.zeros((0, 7))
        scales = packed(node.get("scales"), "scales", 3)
        colors = packed(node.get("colors"), "colors", 4)
        ids = packed(node.get("ids"), "ids", 1)
        texts = node.get("texts") or []
        n = len(poses)
        items: list[Any] = []
        if scales is not None and colors is not None and ids is not None \
                and len(scales) == len(colors) == len(ids) == n:
            for i in range(n):
                key = f"{node['key']}#{int(ids[i, 0])}"
                scale = scales[i].astype(float)
                rgba = colors[i]
                material = {"color": "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgba[:3])),
                            "opacity": 1.0, "transparent": False}
                parts = []
                for k, part in enumerate(node.get("parts") or []):
                    built: Node = {"tag": part["tag"], "key": f"{key}#{k}", "material": material,
                                   "materialType": part.get("materialType", "standard")}
                    if part["tag"] == "Text":
                        built.update(text=str(texts[i]) if i < len(texts) else "", billboard=True,
                                     fontSize=float(np.dot(part["fontSize"], scale)),
                                     anchorX=part.get("anchorX", "center"),
                                     anchorY=part.get("anchorY", "middle"))
                    else:
                        built.update(args=list(part.get("args") or []),
                                     position=(np.reshape(part["position"], (3, 3)) @ scale).tolist(),
                                     scale=(np.reshape(part["scale"], (3, 3)) @ scale).tolist())
                        if part.get("quaternion") is not None:
                            built["quaternion"] = list(part["quaternion"])
                    parts.append(self.node(built))
                items.append({"tag": "Group", "key": key, "position": poses[i, :3].tolist(),
                              "quaternion": poses[i, 3:].tolist(), "visible": bool(rgba[3] > 0),
                              "children": parts})
        group: Node = {"tag": "Group", "key": node["key"], **{k: node[k] for k in _TRANSFORM if k in node}}
        group["children"] = items + [self.node(c) for c in node.get("children") or []]
        return group

    def _text(self, node: Node, whole: bool) -> Node:
        defaults = schema.BY_TAG["Text"].defaults()
        text = node.get("text")
        if not isinstance(text, str) or not text:
            strings = [c for c in node.get("children") or [] if isinstance(c, str)]
            text = "".join(strings) if strings else (text if isinstance(text, str) else "")
        material: dict[str, Any] = node["material"] if isinstance(node.get("material"), dict) else {}
        cap = float(node.get("fontSize", defaults["fontSize"]))
        label: Node = {"tag": "Text", "key": node["key"], "children": [text],
                       "fontSize": cap / CAP_HEIGHT_EM,
                       "anchorX": node.get("anchorX", defaults["anchorX"]),
                       "anchorY": _TEXT_ANCHOR_Y.get(node.get("anchorY", defaults["anchorY"]), "middle"),
                       "color": material.get("color", defaults["material"]["color"])}
        if isinstance(material.get("opacity"), (int, float)):
            label["fillOpacity"] = material["opacity"]
        if self.text_font:
            label["font"] = self.text_font
        transform = {k: node[k] for k in _TRANSFORM if k in node}
        nested = [self.node(c) for c in node.get("children") or [] if isinstance(c, dict)]
        if node.get("billboard", defaults["billboard"]):
            label["key"] = node["key"] + SUFFIX
            return {"tag": "Billboard", "key": node["key"], **transform, "children": [label, *nested]}
        label.update(transform)
        label["children"] = [text, *nested]
        return label

    def _model(self, node: Node, whole: bool) -> Node:
        out = dict(node)
        _top_level_colour(node, out)
        if "material" in node:
            out["material"] = vuer_material(node["material"])
        return self._children(node, out)

    def _glb(self, node: Node, whole: bool) -> Node:
        """glTF is Y-up; ours turns it +Y -> +Z (unless upAxis says z); the Vuer client does not."""
        inner = self._model({k: v for k, v in node.items() if k not in _TRANSFORM and k != "children"}, whole)
        if node.get("upAxis") != "z":
            inner["rotation"] = [math.pi / 2, 0.0, 0.0]
        inner.pop("upAxis", None)
        return wrapped(node, inner, [self.node(c) for c in node.get("children") or []])

    def _camera_view(self, node: Node, whole: bool) -> Node:
        out = {k: v for k, v in node.items() if k in _TRANSFORM or k in ("key", "children")}
        if "tag" in node:
            out["tag"] = "Group"
        return self._children(node, out)

    def _hemisphere(self, node: Node, whole: bool) -> Node:
        out = dict(node)
        if "color" in node:
            out["skyColor"] = node["color"]
        return self._children(node, out)

    def _map_tile(self, node: Node, whole: bool) -> Node:
        """A map tile as a coloured TriMesh of cell blocks: at most MAP_BLOCKS x MAP_BLOCKS
        quads (the Vuer client has no palette textures; a block shows its first cell)."""
        width, height = int(node.get("width", 0)), int(node.get("height", 0))
        cells = node.get("cells")
        palette = node.get("palette")
        if (width <= 0 or height <= 0 or not isinstance(cells, (bytes, bytearray))
                or len(cells) != width * height or not isinstance(palette, (bytes, bytearray))
                or len(palette) != 1024):
            return self._children(node, {k: v for k, v in node.items()
                                         if k in ("key", "children", *_TRANSFORM)} | {"tag": "Group"})
        res = float(node.get("resolution", 1.0))
        x0, y0 = int(node.get("x", 0)), int(node.get("y", 0))
        step = max(1, -(-max(width, height) // MAP_BLOCKS))
        grid = np.frombuffer(cells, np.uint8).reshape(height, width)[::step, ::step]
        rgba = np.frombuffer(palette, np.uint8).reshape(256, 4)[grid]          # (rows, cols, 4)
        rows, cols = grid.shape
        i, j = np.meshgrid(np.arange(cols), np.arange(rows))
        ax = (x0 + i.ravel() * step) * res
        ay = (y0 + j.ravel() * step) * res
        bx = (x0 + np.minimum((i.ravel() + 1) * step, width)) * res
        by = (y0 + np.minimum((j.ravel() + 1) * step, height)) * res
        z = np.zeros_like(ax)
        quads = np.stack([np.c_[ax, ay, z], np.c_[bx, ay, z], np.c_[bx, by, z], np.c_[ax, by, z]], 1)
        n = len(quads)
        base = (np.arange(n) * 4)[:, None]
        faces = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]], 1).reshape(-1, 3)
        colours = np.repeat(rgba.reshape(-1, 4)[:, :3], 4, axis=0)
        mesh: Node = {"tag": "TriMesh", "key": node["key"],
                      "vertices": quads.reshape(-1, 3).astype("<f4").tobytes(),
                      "faces": faces.astype("<u4").tobytes(), "colors": colours.astype(np.uint8).tobytes(),
                      "materialType": "basic",
                      "material": {"side": "double", "opacity": float(node.get("alpha", 1.0)),
                                   "transparent": float(node.get("alpha", 1.0)) < 1.0}}
        mesh.update({k: node[k] for k in _TRANSFORM if k in node})
        mesh["children"] = node.get("children") or []
        return self._trimesh(mesh, whole)

    def _grid(self, node: Node, whole: bool) -> Node:
        """Our Grid as line segments in the XY plane."""
        defaults = schema.BY_TAG["Grid"].defaults()
        size = float(node.get("size", defaults["size"]))
        divisions = max(1, int(node.get("divisions", defaults["divisions"])))
        colour = _rgb01(node.get("color", defaults["color"]))
        centre = _rgb01(node.get("centerColor", defaults["centerColor"]))
        half = size / 2
        points, colours = [], []
        for i in range(divisions + 1):
            t = -half + size * i / divisions
            c = centre if (divisions % 2 == 0 and i == divisions // 2) else colour
            points += [[t, -half, 0.0], [t, half, 0.0], [-half, t, 0.0], [half, t, 0.0]]
            colours += [c, c, c, c]
        out: Node = {"tag": "Line", "key": node["key"], "points": points, "segments": True, "lineWidth": 1,
                     "vertexColors": colours, "color": "#ffffff"}
        out.update({k: node[k] for k in _TRANSFORM if k in node})
        return out

    # -- events -----------------------------------------------------------------------------
    def event(self, wire: Mapping[str, Any], tree: SceneTree) -> dict[str, Any]:
        """A scene event (wire form) as the Vuer client is sent it. ``tree`` is the
        scene with the event already applied: an UPDATE of a node whose form depends
        on the whole node (re-centred vertices, wrappers) sends the whole node."""
        etype, data = wire.get("etype"), wire.get("data")
        out = dict(wire)
        if etype == "SET":
            out["data"] = self.node(data)
        elif etype in ("ADD", "UPSERT") and isinstance(data, dict):
            nodes = [self._update_node(n, tree) if etype == "UPSERT" else self.node(n) for n in data.get("nodes") or []]
            out["data"] = {**data, "nodes": [n for n in nodes if n is not None]}
        elif etype == "UPDATE" and isinstance(data, dict):
            nodes = [self._update_node(n, tree) for n in data.get("nodes") or []]
            out["data"] = {**data, "nodes": [n for n in nodes if n is not None]}
        return out

    def _update_node(self, node: Any, tree: SceneTree) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("key"), str):
            return node
        current = tree.get(node["key"])
        if current is None:
            return self.node(node)
        tag = str(current.get("tag", ""))
        if tag in self.whole:
            return self.node(current)
        partial = dict(node)
        partial.setdefault("tag", tag)
        if "materialType" in current:
            partial.setdefault("materialType", current["materialType"])
        translated = self.rules.get(tag, self._same)(partial, False)
        if "tag" not in node and translated.get("tag") == tag:
            translated.pop("tag", None)
        return translated


_TRANSFORM = ("position", "quaternion", "rotation", "scale", "matrix", "visible")


# the finest Vuer form of a map tile: blocks per side (64 x 64 quads)
MAP_BLOCKS = 64


def _rgb01(colour: Any) -> list[float]:
    if isinstance(colour, str) and colour.startswith("#") and len(colour) == 7:
        return [round(int(colour[i:i + 2], 16) / 255.0, 4) for i in (1, 3, 5)]
    return [1.0, 1.0, 1.0]


def _cube_template() -> tuple[np.ndarray, np.ndarray]:
    """A unit cube centred on the origin: 4 vertices per face (flat normals), 12 triangles."""
    vertices: list[list[float]] = []
    faces: list[list[int]] = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            u, v = (axis + 1) % 3, (axis + 2) % 3
            base = len(vertices)
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis], p[u], p[v] = 0.5 * sign, 0.5 * a, 0.5 * b
                vertices.append(p)
            quad = [[base, base + 1, base + 2], [base, base + 2, base + 3]]
            faces += quad if sign > 0 else [[f[0], f[2], f[1]] for f in quad]
    return np.array(vertices), np.array(faces)


def _sphere_template(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A sphere of diameter 1 (radius 0.5), ``width`` x ``height`` segments."""
    vertices: list[list[float]] = []
    faces: list[list[int]] = []
    for j in range(height + 1):
        theta = math.pi * j / height
        for i in range(width + 1):
            phi = 2 * math.pi * i / width
            vertices.append([0.5 * math.sin(theta) * math.cos(phi), 0.5 * math.sin(theta) * math.sin(phi),
                             0.5 * math.cos(theta)])
    for j in range(height):
        for i in range(width):
            a, b = j * (width + 1) + i, (j + 1) * (width + 1) + i
            faces += [[a, b, a + 1], [b, b + 1, a + 1]]
    return np.array(vertices), np.array(faces)


_CUBE = _cube_template()
_SPHERE = _sphere_template(*SPHERE_SEGMENTS)

__all__ = ["VuerClientForm", "is_vuer_client"]
