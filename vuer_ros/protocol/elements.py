"""Scene elements: the nodes of the Vuer scene tree, and their wire form.

One source of truth for element tags and props. A node on the wire is a map
``{tag, key, children?, **props}`` (see docs/protocol.md). Elements keep the
Vuer names and prop semantics so a scene made here also renders in the Vuer
client; the few tags that are ours (instanced lists) are marked as such.

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

_key_counter = itertools.count()

# Props that carry packed typed arrays, with the dtype they travel as.
PACKED_PROPS: dict[str, np.dtype] = {
    "vertices": np.dtype("<f4"),
    "positions": np.dtype("<f4"),
    "normals": np.dtype("<f4"),
    "faces": np.dtype("<u4"),
    "colors": np.dtype("u1"),
    "scales": np.dtype("<f4"),
    # Line: docs/protocol.md allows packed float32 points and uint8 vertexColors
    "points": np.dtype("<f4"),
    "vertexColors": np.dtype("u1"),
}


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

    def __init__(self, *children: Element | dict | str, key: str | None = None, **props: Any):
        self.key: str = key or self.default_key or f"{self.tag.lower()}-{next(_key_counter)}"
        self.children: list[Element | dict | str] = list(children)
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


def to_wire_node(node: Element | dict | str) -> Any:
    if isinstance(node, Element):
        return node.to_wire()
    if isinstance(node, dict):
        return {k: to_wire_value(k, v) for k, v in node.items()}
    return node


def _element(tag: str, doc: str, default_key: str | None = None) -> type[Element]:
    cls = type(tag, (Element,), {"tag": tag, "__doc__": doc, "default_key": default_key})
    return cls


# --- structure -------------------------------------------------------------
class Scene(Element):
    """The scene root. ``up`` is the world's up axis: ROS is Z-up."""

    tag = "Scene"
    default_key = "scene"

    def __init__(self, *children: Element, up: Iterable[float] = (0, 0, 1),
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


Group = _element("Group", "A transform node: position/quaternion/scale/matrix apply to children.")
VuerGroup = Group

# --- primitives (args are three.js constructor arguments) -----------------
Box = _element("Box", "args=[width, height, depth] along local x, y, z.")
Sphere = _element("Sphere", "args=[radius, widthSegments, heightSegments].")
Cylinder = _element("Cylinder", "args=[radiusTop, radiusBottom, height, radialSegments]; axis is local Y (three.js).")
Cone = _element("Cone", "args=[radius, height, radialSegments]; axis is local Y.")
Plane = _element("Plane", "args=[width, height]; lies in local XY, normal +Z.")
Arrow = _element("Arrow", "Vuer arrow: direction [x,y,z], scale, headScale, color (rviz arrows are built from Cylinder + Cone instead).")
Line = _element("Line", "points (list or Nx3 packed), lineWidth, segments (pairs), worldUnits, vertexColors.")
TriMesh = _element("TriMesh", "vertices (Nx3 float32), faces (Mx3 uint32), colors (Nx3|Nx4 uint8 per vertex).")
PointCloud = _element("PointCloud", "vertices (Nx3 float32), colors (Nx3|Nx4 uint8), size (metres).")
Text = _element("Text", "text, fontSize (cap height, metres), billboard, anchorX/anchorY; bundled font.")

# --- ours: instanced lists, drawn as one instanced mesh each -----------------
CubeList = _element("CubeList", "vuer_ros extension: positions Nx3, scale [x,y,z], colors Nx3|Nx4 uint8, quaternion of the list.")
SphereList = _element("SphereList", "vuer_ros extension: positions Nx3, scale [x,y,z] diameters, colors Nx3|Nx4 uint8.")

# --- models by URL ---------------------------------------------------------
Obj = _element("Obj", "src URL of an OBJ model.")
Stl = _element("Stl", "src URL of an STL model.")
Dae = _element("Dae", "src URL of a COLLADA model.")
Glb = _element("Glb", "src URL of a glTF binary model.")

# --- cameras and grabbing --------------------------------------------------
Frustum = _element("Frustum", "Draws a camera frustum: fov, aspect, near, far, scale, colorFrustum.")
CameraView = _element("CameraView", "A grabbable camera: fov, width, height, near, far, position, quaternion; looks down local -Z (three.js).")
GrabRender = _element("GrabRender", "Marks the scene as grabbable from its default view.", default_key="DEFAULT")

# --- scenery ---------------------------------------------------------------
Grid = _element("Grid", "A grid in the world's ground plane.")
HemisphereLight = _element("HemisphereLight", "Sky/ground ambient light.")
DirectionalLight = _element("DirectionalLight", "Directional light from position towards the origin.")
AmbientLight = _element("AmbientLight", "Uniform ambient light.")

ALL_TAGS: tuple[str, ...] = tuple(sorted({
    c.tag for c in (Scene, Group, Box, Sphere, Cylinder, Cone, Plane, Arrow, Line, TriMesh,
                    PointCloud, Text, CubeList, SphereList, Obj, Stl, Dae, Glb, Frustum,
                    CameraView, GrabRender, Grid, HemisphereLight, DirectionalLight, AmbientLight)
}))
