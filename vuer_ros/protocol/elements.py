"""Scene elements: the nodes of the Vuer scene tree, and their wire form.

The classes are made from the wire schema (``protocol/schema.py``: tags,
props, defaults, packed dtypes), one per tag. A node on the wire is a map
``{tag, key, children?, **props}`` (see docs/protocol.md). Elements keep the
Vuer names and prop semantics so a scene made here also renders in the Vuer
client; the few tags that are ours (instanced lists) are marked in the schema.

Conventions that hold for every element:
- ``position`` [x, y, z], ``quaternion`` [x, y, z, w], ``rotation`` XYZ Euler
  radians, ``scale`` number or [x, y, z], ``matrix`` 16 values column-major.
- Colour lives inside ``material={"color": ..., "opacity": ...}``.
- Packed arrays (``np.ndarray`` props of point lists) go out as msgpack ``bin``
  holding little-endian float32 / uint8 / uint32 data; small vectors as lists.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, Iterable

import numpy as np

from . import schema

_key_counter = itertools.count()

# Props that carry packed typed arrays, with the dtype they travel as (from the schema).
PACKED_PROPS: dict[str, np.dtype[Any]] = schema.packed_dtypes()


_PLAIN = frozenset({float, int, str, bool, type(None), bytes})


def to_wire_value(name: str, value: Any) -> Any:
    """Convert one prop value to what msgpack sends."""
    if value.__class__ in _PLAIN:  # the common case, first: this runs per number
        return value
    if isinstance(value, Element):
        return value.to_wire()
    if isinstance(value, np.ndarray):
        dtype = PACKED_PROPS.get(name)
        if dtype is not None:
            if dtype == np.uint8 and value.dtype.kind == "f":
                value = np.clip(value * 255.0 + 0.5, 0, 255)
            return np.ascontiguousarray(value, dtype=dtype).tobytes()
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_wire_value(name, v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire_value(k, v) for k, v in value.items()}
    return value


class Element:
    """A scene node. Positional arguments are children; keywords are props."""

    tag: ClassVar[str] = "Element"
    default_key: ClassVar[str | None] = None

    def __init__(self, *children: Element | dict[str, Any] | str, key: str | None = None,
                 **props: Any):
        self.key: str = key or self.default_key or f"{self.tag.lower()}-{next(_key_counter)}"
        self.children: list[Element | dict[str, Any] | str] = list(children)
        self.props: dict[str, Any] = props

    def __getattr__(self, name: str) -> Any:
        # props read back like attributes, as in vuer (element.position)
        props = self.__dict__.get("props")
        if props is not None and name in props:
            return props[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, {len(self.children)} children)"

    def to_wire(self) -> dict[str, Any]:
        node: dict[str, Any] = {"tag": self.tag, "key": self.key}
        for name, value in self.props.items():
            if value is not None:
                node[name] = to_wire_value(name, value)
        if self.children:
            node["children"] = [to_wire_node(c) for c in self.children]
        return node

    _serialize = to_wire  # the name vuer uses


def to_wire_node(node: Element | dict[str, Any] | str) -> Any:
    if isinstance(node, Element):
        return node.to_wire()
    if isinstance(node, dict):
        return {k: to_wire_value(k, v) for k, v in node.items()}
    return node


def _element(tag: str) -> type[Element]:
    """The element class of a schema tag: its doc and default key come from the schema."""
    spec = schema.BY_TAG[tag]
    return type(tag, (Element,), {"tag": tag, "__doc__": spec.doc, "default_key": spec.default_key})


# --- structure -------------------------------------------------------------
_SCENE = schema.BY_TAG["Scene"]
_SCENE_UP: tuple[float, ...] = tuple(_SCENE.defaults()["up"])


class Scene(Element):
    """The scene root. ``up`` is the world's up axis: ROS is Z-up."""

    tag = _SCENE.tag
    default_key = _SCENE.default_key

    def __init__(self, *children: Element, up: Iterable[float] = _SCENE_UP,
                 bgChildren: list[Element] | None = None, **props: Any):
        super().__init__(*children, up=list(up), **props)
        self.bg_children = list(bgChildren or [])

    def to_wire(self) -> dict[str, Any]:
        node = super().to_wire()
        node.setdefault("children", [])
        node["bgChildren"] = [to_wire_node(c) for c in self.bg_children]
        return node


class DefaultScene(Scene):
    """A Z-up scene with a grid, lights and the DEFAULT grab target.

    ``show_helper``/``grid`` False hides the grid (seed compatibility).
    """

    def __init__(self, *children: Element, grid: bool = True, show_helper: bool = True,
                 bgChildren: list[Element] | None = None, **props: Any):
        bg: list[Element] = []
        if grid and show_helper:
            bg.append(Grid(key="grid"))
        bg += [HemisphereLight(key="hemisphere-light"),
               DirectionalLight(key="sun", position=[3.0, 2.0, 6.0], intensity=1.2),
               GrabRender()]
        super().__init__(*children, bgChildren=bg + list(bgChildren or []), **props)


Group = _element("Group")
VuerGroup = Group  # vuer's own Python Group sends the tag "VuerGroup": the client takes both

# --- primitives (args are three.js constructor arguments) -----------------
Box = _element("Box")
Sphere = _element("Sphere")
Cylinder = _element("Cylinder")
Cone = _element("Cone")
Plane = _element("Plane")
Arrow = _element("Arrow")

# --- bulk geometry; CubeList, SphereList and MarkerList are ours ------------------------
Line = _element("Line")
TriMesh = _element("TriMesh")
PointCloud = _element("PointCloud")
CubeList = _element("CubeList")
SphereList = _element("SphereList")
MarkerList = _element("MarkerList")
Text = _element("Text")

# --- models by URL ---------------------------------------------------------
Obj = _element("Obj")
Stl = _element("Stl")
Dae = _element("Dae")
Glb = _element("Glb")

# --- cameras and grabbing --------------------------------------------------
Frustum = _element("Frustum")
CameraView = _element("CameraView")
GrabRender = _element("GrabRender")

# --- ROS displays: point clouds and laser scans ------------------------------
Cloud = _element("Cloud")

# --- scenery ---------------------------------------------------------------
Grid = _element("Grid")
HemisphereLight = _element("HemisphereLight")
DirectionalLight = _element("DirectionalLight")
AmbientLight = _element("AmbientLight")
PointLight = _element("PointLight")

# --- ROS displays: maps ---------------------------------------------------
MapTile = _element("MapTile")

ALL_TAGS: tuple[str, ...] = tuple(sorted(e.tag for e in schema.ELEMENTS))
