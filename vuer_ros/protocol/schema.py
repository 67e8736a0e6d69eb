"""The wire schema: every element tag, its props (type, default, meaning) and
the dtypes its packed array props travel as. The one definition of all that.

Read by ``protocol/elements.py`` (the element classes and the packed-array
conversion), ``protocol/scene_tree.py`` (the empty scene, the child lists) and
``protocol/schema_gen.py``, which writes from it the client's
``web/src/schema.generated.js`` (tags, defaults, dtypes) and the tag table of
docs/protocol.md; test/protocol/test_schema.py keeps those current.

A prop's default is what the browser client uses when the prop is absent
(``None``: there is none: the prop is optional, or computed from others).
Transform props every 3D node takes (position, quaternion, rotation, scale,
matrix, visible) are described once in docs/protocol.md, not per element; an
element that lists ``scale`` uses it for something else than a transform.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# Node fields that hold child nodes: every node's children, and the Scene's second list.
CHILD_LISTS: tuple[str, ...] = ("children", "bgChildren")

# Packed arrays travel as msgpack ``bin``: little-endian data of one of these dtypes.
F64, F32, I32, U32, U8 = "<f8", "<f4", "<i4", "<u4", "u1"


@dataclass(frozen=True)
class PropSpec:
    """One prop: wire name, type (as docs/protocol.md writes it), client default,
    meaning; ``dtype`` for a packed array prop (a numpy dtype string)."""

    name: str
    type: str
    default: Any = None
    doc: str = ""
    dtype: str | None = None


@dataclass(frozen=True)
class ElementSpec:
    """One element tag.

    ``extension``: a vuer_ros tag (the Vuer client does not know it);
    ``aliases``: other tags the client draws as this one; ``default_key``: the
    key a Python element of this tag gets when none is given.
    """

    tag: str
    doc: str
    props: tuple[PropSpec, ...] = ()
    extension: bool = False
    aliases: tuple[str, ...] = ()
    default_key: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The client's defaults, prop name -> value (a copy: callers may mutate it)."""
        return {p.name: copy.deepcopy(p.default) for p in self.props if p.default is not None}

    def packed(self) -> dict[str, np.dtype[Any]]:
        """Packed array props, name -> dtype."""
        return {p.name: np.dtype(p.dtype) for p in self.props if p.dtype is not None}


def _packed(name: str, dtype: str, doc: str) -> PropSpec:
    return PropSpec(name, f"{np.dtype(dtype).name} bin", None, doc, dtype)


# `material` and `materialType` are described once in docs/protocol.md ("Nodes")
def _material(default: dict[str, Any] | None = None, doc: str = "") -> PropSpec:
    return PropSpec("material", "material", default or {"color": "#ffffff"}, doc)


def _material_type(default: str = "standard") -> PropSpec:
    return PropSpec("materialType", "string", default)


_MESH = (_material(), _material_type())
_DOUBLE_SIDED = {"color": "#ffffff", "side": "double"}

# a point list's per-item values: 3 per item, or 3 or 4 for colours
_ITEM_COLORS = "3 or 4 per item (rgb, rgba); none: the material colour"


def _model(tag: str, doc: str) -> ElementSpec:
    return ElementSpec(tag, doc, (
        PropSpec("src", "string", None, "URL of the file; a relative URL resolves against the page"),
        PropSpec("upAxis", "string", None, '`"y"` or `"z"`: overrides the axis convention the format implies'),
        PropSpec("useEmbeddedMaterials", "boolean", False,
                 "true: keep the file's materials even when `material`/`materialType` are given"),
        _material(doc="replaces the file's materials when `material` or `materialType` is given"),
        _material_type(),
    ))


def _light(tag: str, doc: str, intensity: float, *extra: PropSpec, color_doc: str = "") -> ElementSpec:
    return ElementSpec(tag, doc, (
        PropSpec("color", "color", "#ffffff", color_doc),
        PropSpec("intensity", "number", intensity),
        *extra,
    ))


_FRUSTUM_COLOR = PropSpec("colorFrustum", "color", "#ffff00", "colour of the frustum lines")

ELEMENTS: tuple[ElementSpec, ...] = (
    # --- structure -------------------------------------------------------------
    ElementSpec("Scene", "The scene root: the world's up axis, the background and two child lists.", (
        PropSpec("up", "[x, y, z]", [0, 0, 1],
                 "world up: the orbit camera, the grid and the hemisphere light follow it (ROS is Z-up)"),
        PropSpec("background", "color", "#303030", "rviz's background"),
        PropSpec("bgChildren", "nodes", None, "a second child list (grid, lights, GrabRender)"),
    ), default_key="scene"),
    ElementSpec("Group", "A transform node: its transform applies to its children (the TF frame groups).",
                aliases=("VuerGroup",)),

    # --- primitives: `args` are three.js geometry constructor arguments --------
    ElementSpec("Box", "A box.", (
        PropSpec("args", "number[]", [1, 1, 1, 1, 1, 1],
                 "[width, height, depth, widthSegments, heightSegments, depthSegments] along local x, y, z"),
        *_MESH)),
    ElementSpec("Sphere", "A sphere (or a part of one).", (
        PropSpec("args", "number[]", [1, 32, 16, 0, 2 * math.pi, 0, math.pi],
                 "[radius, widthSegments, heightSegments, phiStart, phiLength, thetaStart, thetaLength]"),
        *_MESH)),
    ElementSpec("Cylinder", "A cylinder along local Y (three.js).", (
        PropSpec("args", "number[]", [1, 1, 1, 32], "[radiusTop, radiusBottom, height, radialSegments]"),
        *_MESH)),
    ElementSpec("Cone", "A cone along local Y, apex at +Y.", (
        PropSpec("args", "number[]", [1, 1, 32], "[radius, height, radialSegments]"),
        *_MESH)),
    ElementSpec("Plane", "A rectangle in local XY, normal +Z; seen from both sides.", (
        PropSpec("args", "number[]", [1, 1, 1, 1], "[width, height, widthSegments, heightSegments]"),
        _material(_DOUBLE_SIDED), _material_type())),
    ElementSpec("Arrow", "Vuer's arrow, from the node's origin along `direction` (rviz arrows are built "
                "from Cylinder + Cone instead).", (
        PropSpec("direction", "[x, y, z]", [1, 0, 0], "where it points"),
        PropSpec("scale", "number", 1, "length in metres (not a transform scale)"),
        PropSpec("headScale", "number", 1,
                 "head size: 25% x 10% of the length times this (the shaft's radius is 4% of the length)"),
        PropSpec("color", "color", None, "colour when `material.color` is absent"),
        _material({"color": "#ffff00"}), _material_type())),

    # --- bulk geometry ---------------------------------------------------------
    ElementSpec("Line", "A line strip (rviz LINE_STRIP) or separate segments (LINE_LIST), any width.", (
        _packed("points", F32, "3 per point; or `[[x, y, z], ...]`"),
        PropSpec("segments", "boolean", False, "true: point pairs are segments; false: one strip"),
        PropSpec("lineWidth", "number", 1, "pixels, or metres with `worldUnits` (then 0.01 when absent)"),
        PropSpec("worldUnits", "boolean", False, "true: `lineWidth` is in metres"),
        _packed("vertexColors", U8, "3 or 4 per point, or `[[r, g, b], ...]` 0-1; or `true` beside `colors`"),
        _packed("colors", U8, "per-point colours when `vertexColors` holds none"),
        PropSpec("color", "color", None, "colour when `material.color` is absent (Vuer's form)"),
        _material(doc="`color`, `opacity`, `transparent`, `depthTest`; per-point colours win over `color`"),
    )),
    ElementSpec("TriMesh", "A triangle mesh.", (
        _packed("vertices", F32, "3 per vertex"),
        _packed("faces", U32, "3 per triangle; absent: every 3 vertices are a triangle (rviz TRIANGLE_LIST)"),
        _packed("colors", U8, "3 or 4 per vertex"),
        _packed("normals", F32, "3 per vertex; absent: computed"),
        _packed("uvs", F32, "2 per vertex: texture coordinates, (0, 0) the image's top-left corner, "
                "v downwards (as rviz); outside 0-1 the image repeats"),
        PropSpec("texture", "string", None, "URL of a PNG or JPEG image drawn with `uvs`; it multiplies "
                 "the material and vertex colours"),
        _material(_DOUBLE_SIDED), _material_type())),
    ElementSpec("PointCloud", "Square points of a size in metres (rviz POINTS), whatever the camera.", (
        _packed("vertices", F32, "3 per point"),
        _packed("colors", U8, "3 or 4 per point"),
        PropSpec("size", "number", 0.01, "point width in metres"),
        PropSpec("sizeY", "number", None, "point height in metres (rviz POINTS); absent: `size`"),
        _material(doc="`color`, `opacity`, `transparent`, `depthTest`; per-point colours win over `color`"),
    )),
    ElementSpec("CubeList", "rviz CUBE_LIST: one mesh and one draw call for the whole list.", (
        _packed("positions", F32, "3 per cube"),
        _packed("colors", U8, _ITEM_COLORS),
        PropSpec("scale", "number or [x, y, z]", [1, 1, 1], "size of each cube (not a transform scale)"),
        _packed("scales", F32, "3 per cube: sizes that override `scale`"),
        *_MESH), extension=True),
    ElementSpec("SphereList", "rviz SPHERE_LIST: one mesh and one draw call for the whole list.", (
        _packed("positions", F32, "3 per sphere"),
        _packed("colors", U8, _ITEM_COLORS),
        PropSpec("scale", "number or [x, y, z]", [1, 1, 1], "diameters of each sphere (not a transform scale)"),
        _packed("scales", F32, "3 per sphere: diameters that override `scale`"),
        *_MESH), extension=True),
    ElementSpec("MarkerList", "Many rviz markers of one namespace and type as one node (CUBE, SPHERE, "
                "CYLINDER, pose-form ARROW, TEXT_VIEW_FACING; opaque): item i is marker `ids[i]`, "
                "drawn as each of `parts`, placed by its pose and sized by its scale, as that "
                "marker's own nodes would be.", (
        PropSpec("ns", "string", "", "the markers' namespace"),
        PropSpec("markerType", "integer", None, "their rviz Marker.type (0 ARROW, 1 CUBE, 2 SPHERE, "
                 "3 CYLINDER, 9 TEXT_VIEW_FACING): what expands them into their own nodes"),
        _packed("ids", I32, "1 per item: the marker's id"),
        _packed("poses", F64, "7 per item: position x, y, z and quaternion x, y, z, w, in the "
                "node's frame"),
        _packed("scales", F32, "3 per item: the marker's scale"),
        _packed("colors", U8, "4 per item: sRGB and alpha; alpha 0: not drawn, otherwise opaque"),
        PropSpec("texts", "string[]", None, "1 per item: the text of a `Text` part"),
        PropSpec("parts", "part[]", [], "what every item is drawn as, in its pose's frame: "
                 "`{tag, args, quaternion, materialType, position, scale}`, a Box, Sphere, "
                 "Cylinder or Cone whose `position` and node `scale` are 3x3 matrices (9 numbers, "
                 "row-major) times the item's scale; or `{tag: \"Text\", fontSize, anchorX, "
                 "anchorY, materialType}`, a billboard whose `fontSize` is a row (3 numbers) times "
                 "the item's scale"),
    ), extension=True),
    ElementSpec("Text", "Flat text in the font bundled with the client (no network); unlit.", (
        PropSpec("text", "string", "", "the text (or the node's string children)"),
        PropSpec("fontSize", "number", 0.1, "height of the capitals in metres"),
        PropSpec("billboard", "boolean", False, "true: always faces the camera (rviz TEXT_VIEW_FACING)"),
        PropSpec("anchorX", "string", "center", "`left|center|right`"),
        PropSpec("anchorY", "string", "middle", "`top|middle|bottom`; middle: the middle of the capitals"),
        _material(_DOUBLE_SIDED), _material_type("basic"))),

    # --- models by URL: axes as rviz and Foxglove show ROS meshes --------------
    _model("Obj", "An OBJ model, taken as is (the format has no axis convention)."),
    _model("Stl", "An STL model, taken as is; drawn with `material` (the format has none)."),
    _model("Dae", "A COLLADA model: follows its `<up_axis>` (Z_UP as is, Y_UP turned so +Y becomes +Z); "
           "vuer_ros sends `upAxis: \"z\"` for ROS meshes, which rviz draws as authored."),
    _model("Glb", "A glTF binary model: Y-up by its spec, turned so +Y becomes +Z."),

    # --- cameras (three.js convention: looking down local -Z, +Y up) -----------
    ElementSpec("Frustum", "A camera frustum drawn as lines, looking down local -Z; `scale` scales it "
                "as a transform.", (
        PropSpec("fov", "number", 60, "vertical field of view, degrees"),
        PropSpec("aspect", "number", 4 / 3, "width / height"),
        PropSpec("near", "number", 0.1, "metres"),
        PropSpec("far", "number", 1, "metres"),
        _FRUSTUM_COLOR,
        PropSpec("color", "color", None, "colour when `colorFrustum` is absent"),
    )),
    ElementSpec("CameraView", "A camera to grab from (GRAB_RENDER with its key), looking down its local -Z, "
                "+Y up; its pose is its world pose (it may sit under a TF Group).", (
        PropSpec("fov", "number", 60, "vertical field of view, degrees"),
        PropSpec("width", "integer", 640, "image width, pixels"),
        PropSpec("height", "integer", 480, "image height, pixels"),
        PropSpec("near", "number", 0.01, "metres"),
        PropSpec("far", "number", 1000, "metres"),
        PropSpec("showFrustum", "boolean", False, "true: draw its frustum (otherwise nothing is drawn)"),
        PropSpec("frustumScale", "number", 0.3, "length of the drawn frustum, metres"),
        _FRUSTUM_COLOR,
    )),
    ElementSpec("GrabRender", "Marks the default view as grabbable; nothing drawn.", default_key="DEFAULT"),

    # --- scenery ---------------------------------------------------------------
    ElementSpec("Grid", "A square grid in the ground plane (normal to the scene's `up`).", (
        PropSpec("size", "number", 20, "width in metres"),
        PropSpec("divisions", "integer", 20, "cells along a side"),
        PropSpec("color", "color", "#505054", "colour of the lines"),
        PropSpec("centerColor", "color", "#8c8c90", "colour of the two centre lines"),
    )),
    _light("HemisphereLight", "Sky light from the scene's `up` side, ground light from below.", 1,
           PropSpec("groundColor", "color", "#444444", "colour from below"), color_doc="colour from above"),
    _light("DirectionalLight", "Parallel light from the node's `position` towards the world origin.", 1),
    _light("AmbientLight", "Uniform light from everywhere.", 0.5),
    _light("PointLight", "Light from the node's position in every direction.", 1,
           PropSpec("distance", "number", 0, "range in metres; 0: no limit"),
           PropSpec("decay", "number", 2, "falls off as 1 / distance^decay (2: physical)")),

    # --- ROS displays: TF axes ---------------------------------------------------

    # --- ROS displays: point clouds and laser scans ------------------------------
    ElementSpec("Cloud", "A point cloud as rviz's PointCloud2 and LaserScan displays draw it, in one draw "
                "call (scene/cloud_display.py); opaque clouds write depth.", (
        _packed("vertices", F32, "3 per point"),
        _packed("colors", U8, "3 or 4 per point (rgb, rgba); none: `color` for every point"),
        PropSpec("style", "string", "Flat Squares",
                 "`Points` (round dots), `Squares` (screen-facing squares with rviz's rim), "
                 "`Flat Squares` (screen-facing squares), `Spheres` (screen-facing discs shaded "
                 "towards the rim), `Boxes` (cubes along the node's axes, faces shaded as rviz)"),
        PropSpec("size", "number", 0.01, "a point's width: metres, or pixels with `units` `pixels`"),
        PropSpec("units", "string", "metres", "`metres` or `pixels`"),
        PropSpec("color", "color", "#ffffff", "colour of every point when `colors` is absent"),
        PropSpec("alpha", "number", 1,
                 "opacity, times each point's alpha; below 1, or with 4-channel colours, the cloud "
                 "is blended and writes no depth (rviz)"),
    ), extension=True),

    # --- ROS displays: maps -------------------------------------------------------
    ElementSpec("MapTile", "A tile of an occupancy grid (rviz's Map display): `width` x `height` "
                "cells of `resolution` metres in the node's XY plane, cell (i, j) over "
                "[x + i, x + i + 1] x [y + j, y + j + 1] resolutions; each cell's byte coloured "
                "through `palette`; unlit, seen from both sides, drawn behind what lies in its "
                "plane.", (
        PropSpec("x", "integer", 0, "the tile's first column in its map, cells"),
        PropSpec("y", "integer", 0, "the tile's first row in its map, cells"),
        PropSpec("width", "integer", 0, "cells per row"),
        PropSpec("height", "integer", 0, "rows"),
        PropSpec("resolution", "number", 1, "cell side, metres"),
        _packed("cells", U8, "`width * height` bytes, row by row, row 0 at the node's origin: "
                "each cell's int8 as a byte (-1 is 255)"),
        _packed("palette", U8, "256 RGBA colours, sRGB bytes: the colour of each cell byte"),
        PropSpec("alpha", "number", 1, "opacity; below 1 blended and not written to depth "
                 "(rviz: from 0.9998 on, opaque)"),
        PropSpec("drawBehind", "boolean", False,
                 "true: drawn before everything else and never hiding it (rviz's Draw Behind)"),
    ), extension=True),

    # --- ROS displays: paths, poses, points, polygons, odometry -------------------
)

BY_TAG: dict[str, ElementSpec] = {e.tag: e for e in ELEMENTS}


def packed_dtypes() -> dict[str, np.dtype[Any]]:
    """Packed array props of all elements by name: the wire converts an array by its
    prop name alone (also inside plain-dict nodes), so a name means one dtype."""
    out: dict[str, np.dtype[Any]] = {}
    for element in ELEMENTS:
        for name, dtype in element.packed().items():
            if out.setdefault(name, dtype) != dtype:
                raise ValueError(f"packed prop {name!r}: {element.tag} sends {dtype}, another tag {out[name]}")
    return out
