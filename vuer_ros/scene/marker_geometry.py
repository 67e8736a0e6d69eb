"""rviz marker shapes as protocol elements: sizes, axes and colours.

Input here is already validated numbers (see ``markers.py``); output is the
geometry children of one marker's Group (the Group carries the marker pose).
All sizes follow rviz2 (rviz_default_plugins markers, rviz_rendering Arrow
and Axes, which the pose displays use as well):

- three.js cylinders and cones have their axis along local +Y. rviz arrows
  point along +X and rviz cylinders along +Z. The conversion is the two
  quaternions below, used nowhere else: ``Q_Y_TO_X`` (-90 deg about Z) and
  ``Q_Y_TO_Z`` (+90 deg about X). A node's ``scale`` applies in its own axes
  before its rotation, so a rotated node's scale lists (local x, y, z).
- rviz's unit shapes: cube 1 m, sphere and cylinder 1 m diameter, scaled by
  ``scale``; the arrow of the pose form is a 0.77 m shaft of 1 m diameter and a
  0.23 m head of 2 m diameter, scaled by (scale.x length, scale.y, scale.z).
- colour: ``material = {color: "#rrggbb", opacity, transparent}``; per-point
  colours go as packed uint8 RGB (or RGBA when any alpha < 1) with a white
  material so they are not tinted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..protocol.elements import (
    Box,
    Cone,
    CubeList,
    Cylinder,
    Dae,
    Element,
    Glb,
    Line,
    Obj,
    PointCloud,
    Sphere,
    SphereList,
    Stl,
    Text,
    TriMesh,
)
from .keys import part_key
from .transform import Quat, Vec3, quat_between, quat_rotate

RADIAL_SEGMENTS = 32
# SPHERE as SphereList draws it (16 x 12): 352 triangles instead of 960 for 32 x 16, which
# matters when SwiftShader draws 1,000 spheres; the outline is at most 1.9% of the radius
# inside the true sphere (1 - cos(pi / 16)), half a pixel for a 26-pixel radius
SPHERE_SEGMENTS = (16, 12)
# Lit marker solids are Lambert surfaces: rviz (Ogre) lights markers diffusely, with no
# specular term, and three's standard (PBR) material at its default roughness 1 looks
# almost the same for about 25% more of SwiftShader's drawing time (bench/node_rate.py).
LIT = "lambert"

_S45 = math.sqrt(0.5)
Q_Y_TO_X: Quat = (0.0, 0.0, -_S45, _S45)   # local +Y -> +X (local +X -> -Y, +Z stays)
Q_Y_TO_Z: Quat = (_S45, 0.0, 0.0, _S45)    # local +Y -> +Z (local +Z -> -Y, +X stays)
Y_AXIS: Vec3 = (0.0, 1.0, 0.0)

# rviz_rendering::Arrow default proportions (pose form): shaft 0.77 x 1.0, head 0.23 x 2.0
ARROW_SHAFT_LENGTH = 0.77
ARROW_SHAFT_DIAMETER = 1.0
ARROW_HEAD_LENGTH = 0.23
ARROW_HEAD_DIAMETER = 2.0
# head length of a two-point ARROW when scale.z is 0: 0.23 of the length (ArrowMarker)
ARROW_POINTS_HEAD_FRACTION = 0.23
# head length of each ARROW_STRIP arrow when scale.z is 0: shaft:head = 3:1
ARROW_STRIP_HEAD_FRACTION = 0.25

# rviz_rendering::Axes' default colours: X red, Y green, Z blue
AXIS_COLORS = ((1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0))

MESH_TAGS: dict[str, type[Element]] = {".stl": Stl, ".obj": Obj, ".dae": Dae, ".glb": Glb,
                                       ".gltf": Glb}

Rgba = tuple[float, float, float, float]
Material = dict[str, Any]
"""A protocol ``material`` prop: color, opacity, transparent."""


def color_hex(r: float, g: float, b: float) -> str:
    def byte(v: float) -> int:
        return 0 if v <= 0.0 else 255 if v >= 1.0 else int(v * 255.0 + 0.5)
    return f"#{byte(r):02x}{byte(g):02x}{byte(b):02x}"


@lru_cache(maxsize=4096)
def material(color: Rgba) -> Material:
    """One colour for the whole marker (cached and shared: never mutate the result)."""
    a = min(max(color[3], 0.0), 1.0)
    return {"color": color_hex(color[0], color[1], color[2]), "opacity": a, "transparent": a < 1.0}


def vertex_material(colors: np.ndarray) -> Material:
    """White material under per-vertex colours; transparent if any alpha < 1."""
    return {"color": "#ffffff", "opacity": 1.0, "transparent": bool(colors.shape[1] == 4)}


def colors_u8(colors: np.ndarray) -> np.ndarray:
    """(N, 4) float 0..1 -> (N, 3) uint8, or (N, 4) when any alpha is below 1."""
    c8: np.ndarray = (np.clip(colors, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if c8.shape[0] == 0 or int(c8[:, 3].min()) == 255:
        c8 = np.ascontiguousarray(c8[:, :3])
    return c8


# -- solid shapes ---------------------------------------------------------------
Linear = tuple[tuple[int, float] | None, tuple[int, float] | None, tuple[int, float] | None]
"""A linear map of a marker's scale (sx, sy, sz) onto a vector: component k is
``factor * scale[axis]`` for its ``(axis, factor)``, or 0 for None. rviz's unit shapes
place and size their solids only this way."""

_SAME: Linear = ((0, 1.0), (1, 1.0), (2, 1.0))


@dataclass(frozen=True)
class Part:
    """One solid of a marker type built from rviz's unit shapes: ``tag`` with fixed
    ``args`` and ``quaternion``, at ``position`` and with node ``scale``, both linear in
    the marker's scale. A marker's own elements (:func:`sphere`, ...) and a MarkerList's
    items (scene/marker_list.py, drawn by the client from :meth:`wire`) come from it."""

    name: str                  # the part key's suffix (keys.part_key)
    tag: type[Element]
    args: tuple[float, ...]
    quaternion: Quat | None
    position: Linear | None
    scale: Linear

    @staticmethod
    def _apply(m: Linear, s: Vec3) -> list[float]:
        return [0.0 if c is None else c[1] * s[c[0]] for c in m]

    def element(self, key: str, scale: Vec3, mat: Material) -> Element:
        props: dict[str, Any] = {"args": list(self.args)}
        if self.position is not None:
            props["position"] = self._apply(self.position, scale)
        if self.quaternion is not None:
            props["quaternion"] = list(self.quaternion)
        props["scale"] = self._apply(self.scale, scale)
        return self.tag(key=part_key(key, self.name), **props, material=mat, materialType=LIT)

    def wire(self) -> dict[str, Any]:
        """The part as a MarkerList sends it: ``position`` and ``scale`` as 3x3
        matrices (9 numbers, row-major) that multiply the item's scale."""
        def matrix(m: Linear | None) -> list[float]:
            out = [0.0] * 9
            for k, c in enumerate(m or (None, None, None)):
                if c is not None:
                    out[3 * k + c[0]] = c[1]
            return out
        node: dict[str, Any] = {"tag": self.tag.tag, "args": list(self.args),
                                "position": matrix(self.position), "scale": matrix(self.scale)}
        if self.quaternion is not None:
            node["quaternion"] = list(self.quaternion)
        return node


# rviz's unit shapes (the pose-form ARROW: rotated Y -> X, so local (x, y, z) lie along
# (-Y, X, Z): shaft and head diameters from scale.y / scale.z, lengths from scale.x)
_CYLINDER_ARGS = (0.5, 0.5, 1.0, RADIAL_SEGMENTS)
PARTS: dict[int, tuple[Part, ...]] = {
    1: (Part("body", Box, (1.0, 1.0, 1.0), None, None, _SAME),),                     # CUBE
    2: (Part("body", Sphere, (0.5, *SPHERE_SEGMENTS), None, None, _SAME),),  # SPHERE
    3: (Part("body", Cylinder, _CYLINDER_ARGS, Q_Y_TO_Z, None,                       # CYLINDER
             ((0, 1.0), (2, 1.0), (1, 1.0))),),
    0: (Part("shaft", Cylinder, _CYLINDER_ARGS, Q_Y_TO_X, ((0, ARROW_SHAFT_LENGTH / 2.0), None, None),
             ((1, ARROW_SHAFT_DIAMETER), (0, ARROW_SHAFT_LENGTH), (2, ARROW_SHAFT_DIAMETER))),
        Part("head", Cone, (0.5, 1.0, RADIAL_SEGMENTS), Q_Y_TO_X,               # ARROW
             ((0, ARROW_SHAFT_LENGTH + ARROW_HEAD_LENGTH / 2.0), None, None),
             ((1, ARROW_HEAD_DIAMETER), (0, ARROW_HEAD_LENGTH), (2, ARROW_HEAD_DIAMETER)))),
}
"""Marker type -> its solids, for the types made of unit shapes alone (ARROW: its pose
form; the two-point form is built by :func:`arrow_between`)."""


def cube(key: str, scale: Vec3, mat: Material) -> list[Element]:
    # the Box's size in its args (what the Vuer client reads): the unit box of PARTS scaled
    return [Box(key=part_key(key, "body"), args=[scale[0], scale[1], scale[2]], material=mat,
                materialType=LIT)]


def _solid(mtype: int, key: str, scale: Vec3, mat: Material) -> list[Element]:
    return [part.element(key, scale, mat) for part in PARTS[mtype]]


def sphere(key: str, scale: Vec3, mat: Material) -> list[Element]:
    return _solid(2, key, scale, mat)


def cylinder(key: str, scale: Vec3, mat: Material) -> list[Element]:
    """Axis Y -> Z; local (x, y, z) end up along (X, Z, -Y): diameters x/y, height z."""
    return _solid(3, key, scale, mat)


def arrow_from_pose(key: str, scale: Vec3, mat: Material) -> list[Element]:
    """ARROW without points: along +X, length scale.x, width scale.y, height scale.z."""
    return _solid(0, key, scale, mat)


def rviz_arrow(key: str, shaft: float, shaft_diameters: tuple[float, float], head: float,
               head_diameters: tuple[float, float], mat: Material, suffix: str = "") -> list[Element]:
    """rviz_rendering::Arrow along +X from the origin: a cylinder shaft ``shaft`` long, then a
    cone head ``head`` long; the diameters across local (Y, Z). (The pose displays' arrows,
    sized in metres; a marker's ARROW is PARTS[0], linear in its scale.)"""
    # rotated Y -> X, so local (x, y, z) lie along (-Y, X, Z)
    return [
        Cylinder(key=part_key(key, "shaft" + suffix), args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS],
                 position=[shaft / 2.0, 0.0, 0.0], quaternion=list(Q_Y_TO_X),
                 scale=[shaft_diameters[0], shaft, shaft_diameters[1]], material=mat,
                 materialType=LIT),
        Cone(key=part_key(key, "head" + suffix), args=[0.5, 1.0, RADIAL_SEGMENTS],
             position=[shaft + head / 2.0, 0.0, 0.0], quaternion=list(Q_Y_TO_X),
             scale=[head_diameters[0], head, head_diameters[1]], material=mat,
             materialType=LIT),
    ]


SOLIDS: dict[int, Callable[[str, Vec3, Material], list[Element]]] = {
    1: cube, 2: sphere, 3: cylinder, 0: arrow_from_pose}
"""Marker type -> the builder of a marker's elements, for the types of PARTS."""


def listable(mtype: int, has_points: bool, scale: Vec3, alpha: float) -> bool:
    """Whether a marker can be a MarkerList item (scene/marker_list.py): made of unit
    shapes alone or a TEXT_VIEW_FACING, opaque or invisible (translucent solids are drawn
    one by one, depth-sorted), not mirrored."""
    return ((mtype in PARTS or mtype == 9) and not has_points and not 0.0 < alpha < 1.0
            and scale[0] >= 0.0 and scale[1] >= 0.0 and scale[2] >= 0.0)


def rviz_axes(key: str, length: float, diameter: float, suffix: str = "") -> list[Element]:
    """rviz_rendering::Axes: cylinders from the origin along +X (red), +Y (green) and +Z (blue),
    ``length`` long and ``diameter`` across (rviz passes its axes "radius" here)."""
    half = length / 2.0
    return [
        Cylinder(key=part_key(key, "x" + suffix), args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS],
                 position=[half, 0.0, 0.0], quaternion=list(Q_Y_TO_X),
                 scale=[diameter, length, diameter], material=material(AXIS_COLORS[0]),
                 materialType=LIT),
        Cylinder(key=part_key(key, "y" + suffix), args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS],
                 position=[0.0, half, 0.0], scale=[diameter, length, diameter],
                 material=material(AXIS_COLORS[1]), materialType=LIT),
        Cylinder(key=part_key(key, "z" + suffix), args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS],
                 position=[0.0, 0.0, half], quaternion=list(Q_Y_TO_Z),
                 scale=[diameter, length, diameter], material=material(AXIS_COLORS[2]),
                 materialType=LIT),
    ]


def arrow_between(key: str, start: Vec3, end: Vec3, shaft_diameter: float, head_diameter: float,
                  head_length: float, mat: Material, suffix: str = "") -> list[Element]:
    """An arrow from ``start`` to ``end``: a cylinder shaft and a cone head of
    ``head_length`` (already clamped to the arrow's length)."""
    d = (end[0] - start[0], end[1] - start[1], end[2] - start[2])
    length = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    q = quat_between(Y_AXIS, d)
    shaft = max(length - head_length, 0.0)
    ux, uy, uz = quat_rotate(q, Y_AXIS)
    a, b = shaft / 2.0, shaft + head_length / 2.0
    return [
        Cylinder(key=part_key(key, "shaft" + suffix),
                 args=[shaft_diameter / 2.0, shaft_diameter / 2.0, shaft, RADIAL_SEGMENTS],
                 position=[start[0] + ux * a, start[1] + uy * a, start[2] + uz * a],
                 quaternion=list(q), material=mat, materialType=LIT),
        Cone(key=part_key(key, "head" + suffix), args=[head_diameter / 2.0, head_length, RADIAL_SEGMENTS],
             position=[start[0] + ux * b, start[1] + uy * b, start[2] + uz * b],
             quaternion=list(q), material=mat, materialType=LIT),
    ]


def arrow_strip(key: str, points: np.ndarray, scale: Vec3, mat: Material) -> list[Element]:
    """ARROW_STRIP: one arrow per consecutive pair of points, each as a two-point ARROW
    (scale.x shaft diameter, scale.y head diameter, scale.z head length clamped to the
    arrow; 0: a quarter of it). A pair of equal points has no direction: no arrow (rviz
    draws it with zero length)."""
    out: list[Element] = []
    pts = points.tolist()
    for i in range(len(pts) - 1):
        p0, p1 = pts[i], pts[i + 1]
        length = math.dist(p0, p1)
        if length == 0.0:
            continue
        head = min(max(scale[2], 0.0), length) if scale[2] > 0.0 else ARROW_STRIP_HEAD_FRACTION * length
        out += arrow_between(key, (p0[0], p0[1], p0[2]), (p1[0], p1[1], p1[2]), scale[0], scale[1],
                             head, mat, suffix=f".{i}")
    return out


# -- point lists ------------------------------------------------------------------
def _colored(colors: np.ndarray | None, mat: Material) -> tuple[np.ndarray | None, Material]:
    if colors is None:
        return None, mat
    c8 = colors_u8(colors)
    return c8, vertex_material(c8)


def line(key: str, points: np.ndarray, segments: bool, width: float,
         colors: np.ndarray | None, mat: Material) -> list[Element]:
    # Lines go out as plain lists, not packed arrays: the Vuer client only reads
    # [[x, y, z], ...] points and [[r, g, b], ...] vertex colours (0-1), and takes
    # its colour from a top-level `color` (ours reads `material`).
    c8, mat = _colored(colors, mat)
    vertex_colors = None if c8 is None else np.round(c8[:, :3] / 255.0, 4).tolist()
    return [Line(key=part_key(key, "body"), points=points.astype(np.float32).tolist(),
                 segments=segments, lineWidth=width, worldUnits=True, vertexColors=vertex_colors,
                 color=mat.get("color"), material=mat)]


def cube_list(key: str, points: np.ndarray, scale: Vec3, colors: np.ndarray | None,
              mat: Material) -> list[Element]:
    c8, mat = _colored(colors, mat)
    return [CubeList(key=part_key(key, "body"), positions=points.astype(np.float32),
                     scale=[scale[0], scale[1], scale[2]], colors=c8, material=mat, materialType=LIT)]


def sphere_list(key: str, points: np.ndarray, scale: Vec3, colors: np.ndarray | None,
                mat: Material) -> list[Element]:
    c8, mat = _colored(colors, mat)
    return [SphereList(key=part_key(key, "body"), positions=points.astype(np.float32),
                       scale=[scale[0], scale[1], scale[2]], colors=c8, material=mat, materialType=LIT)]


def points_cloud(key: str, points: np.ndarray, scale: Vec3, colors: np.ndarray | None,
                 mat: Material) -> list[Element]:
    c8, mat = _colored(colors, mat)
    return [PointCloud(key=part_key(key, "body"), vertices=points.astype(np.float32),
                       colors=c8, size=scale[0], sizeY=scale[1], material=mat)]


def triangle_list(key: str, points: np.ndarray, scale: Vec3, colors: np.ndarray | None,
                  mat: Material, uvs: np.ndarray | None = None) -> list[Element]:
    """TRIANGLE_LIST: ``colors`` per vertex (already expanded), alpha already
    multiplied by the marker's; coloured meshes are unlit, as in rviz. ``uvs``:
    (N, 2) texture coordinates (the texture URL is set by the caller)."""
    n = points.shape[0]
    faces = np.arange(n, dtype=np.uint32).reshape(-1, 3)
    props: dict[str, Any] = {}
    if colors is not None:
        c8 = colors_u8(colors)
        props = {"colors": c8, "materialType": "basic"}
        mat = vertex_material(c8)
    if uvs is not None:
        props["uvs"] = uvs
    return [TriMesh(key=part_key(key, "body"), vertices=points.astype(np.float32), faces=faces,
                    scale=[scale[0], scale[1], scale[2]], material=mat, **props)]


# -- text and meshes ----------------------------------------------------------------
# TEXT_VIEW_FACING: capitals scale.z high, centred on the marker's position, facing the camera
TEXT_ANCHOR = {"anchorX": "center", "anchorY": "middle"}
TEXT_SIZE: Linear = (None, None, (2, 1.0))   # the font size: scale.z


def text(key: str, content: str, height: float, mat: Material) -> list[Element]:
    return [Text(key=part_key(key, "body"), text=content, fontSize=height, billboard=True,
                 **TEXT_ANCHOR, material=mat)]


def list_parts(mtype: int) -> list[dict[str, Any]]:
    """What a MarkerList of ``mtype`` markers draws each item as (its ``parts`` prop):
    the solids of PARTS, or for TEXT_VIEW_FACING a billboard Text whose ``fontSize`` is
    a row (3 numbers) times the item's scale, its text the item's."""
    if mtype == 9:
        row = [0.0, 0.0, 0.0]
        for c in TEXT_SIZE:
            if c is not None:
                row[c[0]] = c[1]
        return [{"tag": Text.tag, "fontSize": row, **TEXT_ANCHOR, "materialType": "basic"}]
    return [{**part.wire(), "materialType": LIT} for part in PARTS[mtype]]


def mesh(key: str, tag: type[Element], url: str, scale: Vec3, use_embedded: bool,
         mat: Material | None) -> list[Element]:
    """A mesh file (marker or URDF), with its axes as rviz takes them: rviz loads COLLADA
    ignoring its <up_axis> (vertex coordinates as authored), so a Dae goes with
    ``upAxis="z"``, which stops the client turning a Y_UP file; glTF is turned from Y-up
    to Z-up (the client's default for Glb, and rviz's); STL and OBJ are taken as is."""
    axis = {"upAxis": "z"} if tag is Dae else {}
    return [tag(key=part_key(key, "body"), src=url, scale=[scale[0], scale[1], scale[2]],
                useEmbeddedMaterials=use_embedded, material=mat, **axis)]


def mesh_tag(uri: str) -> type[Element] | None:
    """The loader element for a mesh URI, by its extension (query and fragment ignored)."""
    path = uri.split("?", 1)[0].split("#", 1)[0].lower()
    for ext, tag in MESH_TAGS.items():
        if path.endswith(ext):
            return tag
    return None
