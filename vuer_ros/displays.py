"""The displays the viewer shows, as rviz lists them: one table of display types with
their options, read by the node's parameters, the offline renderer and the docs.

ROS-free, like params.py. A display in the node's parameter file is a map under
``displays``, as an rviz config lists displays (type, topic, options)::

    displays:
      auto: true                 # every topic of a supported type gets a display
      front_lidar:               # a name of your choosing
        type: PointCloud2
        topic: /lidar/points
        style: Flat Squares
        size: 0.05

which the node reads as the parameters ``displays.front_lidar.type``,
``displays.front_lidar.topic``, ... Options left out take rviz's defaults
(this table); a display listed with ``enabled: false`` is not shown (and keeps
``displays.auto`` from showing its topic). Some displays are there unless the
parameters say otherwise (``DEFAULT_DISPLAYS``): the TF display as ``displays.tf``,
so ``displays.tf.enabled: false`` turns it off and ``displays.tf.show_names: true``
sets an option (its ``type`` may be left out). ``python -m vuer_ros.displays``
prints the options tables of docs/displays.md (``--write docs/displays.md``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .config import ConfigError
from .params import DISPLAYS_PREFIX as PREFIX

AUTO = PREFIX + "auto"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# keys every display entry may have besides its options
_ENTRY_KEYS = ("type", "topic", "enabled")


@dataclass(frozen=True)
class OptionSpec:
    """One display option: its name in the parameter file, default (its type), meaning,
    and the values it may take (``choices`` for a string, ``range`` for a number)."""

    name: str
    default: Any
    description: str
    choices: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None     # of a number, or of each number of a list
    regex: bool = False              # a string that is a regular expression ('' for none)

    def check(self, value: Any, where: str) -> Any:
        """``value`` as the display uses it; ConfigError naming ``where`` otherwise."""
        d = self.default
        if isinstance(d, bool):
            ok = isinstance(value, bool)
        elif isinstance(d, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(d, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value)
            value = float(value) if ok else value
        elif isinstance(d, str):
            ok = isinstance(value, str)
        elif isinstance(d, (list, tuple)):
            ok = isinstance(value, (list, tuple)) and len(value) == len(d) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            value = [float(v) for v in value] if ok else value
        else:  # pragma: no cover - the table has only these types
            ok = False
        if not ok:
            raise ConfigError(f"{where}: expected {_type_name(d)}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(self.choices)}")
        if self.range is not None and not all(
                self.range[0] <= v <= self.range[1] for v in (value if isinstance(value, list) else [value])):
            raise ConfigError(f"{where}: {value!r} is outside {self.range[0]:g} .. {self.range[1]:g}")
        if self.regex:
            try:
                re.compile(value)
            except re.error as e:
                raise ConfigError(f"{where}: {value!r} is not a regular expression ({e})") from None
        return value


def _type_name(d: Any) -> str:
    if isinstance(d, bool):
        return "true or false"
    if isinstance(d, int):
        return "an integer"
    if isinstance(d, float):
        return "a number"
    if isinstance(d, str):
        return "a string"
    return f"a list of {len(d)} numbers"


@dataclass(frozen=True)
class DisplayType:
    """A kind of display (rviz's display class ``rviz_default_plugins/<name>``)."""

    name: str
    description: str
    msgtypes: tuple[str, ...] = ()           # the message types its topic may carry
    options: tuple[OptionSpec, ...] = ()
    topic: bool = True                       # shows one topic (TF and the grid do not)

    def option(self, name: str) -> OptionSpec | None:
        return next((o for o in self.options if o.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {o.name: list(o.default) if isinstance(o.default, (list, tuple)) else o.default
                for o in self.options}


@dataclass(frozen=True)
class DisplayConfig:
    """One display as configured: its name, type, topic and every option's value."""

    name: str
    type: str
    topic: str = ""
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)


DISPLAY_TYPES: dict[str, DisplayType] = {}
# displays there are unless the parameters list one of their type: name -> type (the entry
# ``displays.<name>`` may leave out ``type``; ``displays.<name>.enabled: false`` hides it)
DEFAULT_DISPLAYS: dict[str, str] = {}


def _add(display_type: DisplayType) -> DisplayType:
    assert display_type.name not in DISPLAY_TYPES, display_type.name
    DISPLAY_TYPES[display_type.name] = display_type
    return display_type


# -- markers and the robot model -----------------------------------------------------------------
MARKER = _add(DisplayType(
    "Marker", "visualization_msgs/Marker, with rviz's marker semantics (docs/markers.md).",
    ("visualization_msgs/msg/Marker",)))
MARKER_ARRAY = _add(DisplayType(
    "MarkerArray", "visualization_msgs/MarkerArray, each marker as the Marker display shows it.",
    ("visualization_msgs/msg/MarkerArray",)))
ROBOT_MODEL = _add(DisplayType(
    "RobotModel", "A URDF from a std_msgs/String topic (transient local, as "
    "robot_state_publisher publishes it); its links drawn on their TF frames.",
    ("std_msgs/msg/String",)))

# -- TF (axes, names, arrows) ---------------------------------------------------------------------
TF = _add(DisplayType(
    "TF", "rviz's TF display: at every TF frame that reaches the fixed frame, its axes "
    "(X red, Y green, Z blue), optionally its name, and an arrow to its parent. On by "
    "default as the display `tf` (`displays.tf.enabled: false` turns it off).",
    options=(
        OptionSpec("show_names", False, "Draw each frame's name below its origin."),
        OptionSpec("show_axes", True, "Draw each frame's axes (0.2 m long, 0.02 m thick, "
                   "times marker_scale)."),
        OptionSpec("show_arrows", True, "Draw an arrow from each frame to its parent."),
        OptionSpec("marker_scale", 1.0, "Scale of the axes, names and arrows.",
                   range=(0.0, 1000.0)),
        OptionSpec("frame_timeout", 15.0, "Seconds after which a frame whose transform stopped "
                   "changing is hidden; it turns grey after a third of it and fades out in the "
                   "last third.", range=(1.0, 1e9)),
        OptionSpec("filter_whitelist", "", "A regular expression: only frames whose name it "
                   "matches (anywhere) are drawn; empty: all.", regex=True),
        OptionSpec("filter_blacklist", "", "A regular expression: frames whose name it matches "
                   "(anywhere) are not drawn; empty: none.", regex=True),
    ), topic=False))
DEFAULT_DISPLAYS["tf"] = TF.name

# -- point clouds and laser scans -----------------------------------------------------------------
# rviz's PointCloudCommon properties (both displays have them), in rviz's order; colours are
# [r, g, b] 0-255 as rviz's config writes them
_RAINBOW = "rviz's rainbow: red at the minimum through yellow, green, cyan, blue to magenta"
_CLOUD_OPTIONS = (
    OptionSpec("style", "Flat Squares", "How each point is drawn: Points (round dots of size_pixels), "
               "Squares (screen-facing squares with a rim), Flat Squares (screen-facing squares), "
               "Spheres (screen-facing discs shaded towards the rim), Boxes (cubes along the "
               "cloud's axes); all but Points are size metres wide.",
               choices=("Points", "Squares", "Flat Squares", "Spheres", "Boxes")),
    OptionSpec("size", 0.01, "Point width in metres (all styles but Points).", range=(0.0001, 1e6)),
    OptionSpec("size_pixels", 3.0, "Point diameter in pixels (style Points).", range=(1.0, 1e4)),
    OptionSpec("alpha", 1.0, "Opacity (times each point's alpha from an rgba field). Below 1, "
               "or with per-point alpha, the cloud is blended and writes no depth.",
               range=(0.0, 1.0)),
    OptionSpec("decay_time", 0.0, "Seconds to keep each cloud (by receive time); 0: only the latest.",
               range=(0.0, 1e6)),
    OptionSpec("color_transformer", "", "How points are coloured (rviz's Color Transformer); "
               '"": as rviz picks for the first cloud (RGB8 with an rgb/rgba field, else Intensity).',
               choices=("", "RGB8", "RGBF32", "Intensity", "AxisColor", "FlatColor")),
    OptionSpec("channel_name", "intensity", "Intensity: the field to colour by (intensity falls "
               "back to intensities)."),
    OptionSpec("use_rainbow", True, f"Intensity: {_RAINBOW}; false: min_color to max_color."),
    OptionSpec("invert_rainbow", False, "Intensity: the rainbow the other way round."),
    OptionSpec("min_color", [0.0, 0.0, 0.0], "Intensity without rainbow: colour of the minimum."),
    OptionSpec("max_color", [255.0, 255.0, 255.0], "Intensity without rainbow: colour of the maximum."),
    OptionSpec("autocompute_intensity_bounds", True, "Intensity: the bounds are each cloud's "
               "minimum and maximum; false: min_intensity and max_intensity."),
    OptionSpec("min_intensity", 0.0, "Intensity: the value coloured as the minimum."),
    OptionSpec("max_intensity", 4096.0, "Intensity: the value coloured as the maximum."),
    OptionSpec("axis", "Z", f"AxisColor: the axis coloured along ({_RAINBOW}).",
               choices=("X", "Y", "Z")),
    OptionSpec("use_fixed_frame", True, "AxisColor: the axis of the fixed frame; false: of the "
               "cloud's frame."),
    OptionSpec("autocompute_value_bounds", True, "AxisColor: the bounds are each cloud's minimum "
               "and maximum along the axis; false: min_value and max_value."),
    OptionSpec("min_value", -10.0, "AxisColor: the coordinate coloured as the minimum (m)."),
    OptionSpec("max_value", 10.0, "AxisColor: the coordinate coloured as the maximum (m)."),
    OptionSpec("color", [255.0, 255.0, 255.0], "FlatColor: the colour of every point."),
    OptionSpec("max_points", 5_000_000, "Largest cloud (width x height points, or ranges of a "
               "scan) shown; a bigger one is refused, logged once with its sizes, before its "
               "data is read (not an rviz option).", range=(1, 2**32)),
)
POINT_CLOUD2 = _add(DisplayType(
    "PointCloud2", "sensor_msgs/PointCloud2 as rviz's PointCloud2 display draws it: any field "
    "layout, placed at the TF of its stamp, coloured by rviz's transformers (docs/displays.md, "
    "\"Point clouds and laser scans\").",
    ("sensor_msgs/msg/PointCloud2",), _CLOUD_OPTIONS))
LASER_SCAN = _add(DisplayType(
    "LaserScan", "sensor_msgs/LaserScan projected as laser_geometry does (range_min <= r < "
    "range_max), then drawn as a PointCloud2 display draws it, with its intensities as the "
    "intensity channel.",
    ("sensor_msgs/msg/LaserScan",), _CLOUD_OPTIONS))

# -- maps -----------------------------------------------------------------------------------------
MAP = _add(DisplayType(
    "Map", "A nav_msgs/OccupancyGrid as a plane of cells at its origin, coloured by rviz's "
    "palettes, patched by map_msgs/OccupancyGridUpdate (see \"The Map display\" above).",
    ("nav_msgs/msg/OccupancyGrid",), (
        OptionSpec("color_scheme", "map", "How cell values are coloured (rviz's palettes).",
                   choices=("map", "costmap", "raw")),
        OptionSpec("alpha", 0.7, "Opacity of the map; from 0.9998 on it is opaque and hides "
                   "what is below it.", range=(0.0, 1.0)),
        OptionSpec("draw_behind", False, "Draw the map before everything else, never hiding "
                   "it (rviz's Draw Behind)."),
        OptionSpec("update_topic", "", "map_msgs/OccupancyGridUpdate topic patching the map; "
                   "empty: the map's topic + `_updates`, as rviz."),
        OptionSpec("use_timestamp", False, "Place the map by the TF at its header stamp "
                   "(the latest when unknown) instead of the latest TF."),
        OptionSpec("binary_representation", False, "Two colours: free below "
                   "binary_threshold, occupied from it on."),
        OptionSpec("binary_threshold", 100, "Lowest value drawn occupied with "
                   "binary_representation.", range=(0, 100)),
    )))

# -- paths, poses, points, polygons, odometry ---------------------------------------------------
# rviz_default_plugins' Path, Pose, PoseArray, PointStamped, Polygon and Odometry displays, with
# their property defaults. Colours are [r, g, b] 0-255 as rviz writes them. rviz hands its
# "radius" properties of arrows and axes to rviz_rendering as diameters (a 0.05 "Shaft Radius"
# draws a shaft 0.05 m across); the names and the drawn sizes are kept as rviz has them.
_RGB = (0.0, 255.0)
_UNIT = (0.0, 1.0)
_LENGTH = (0.0, 1000.0)


def _color(default: tuple[float, float, float], what: str) -> OptionSpec:
    return OptionSpec("color", list(default), f"Colour of {what}, [r, g, b] 0-255.", range=_RGB)


def _alpha(what: str, default: float = 1.0, name: str = "alpha") -> OptionSpec:
    return OptionSpec(name, default, f"Opacity of {what} (0: invisible, 1: opaque).", range=_UNIT)


def _size(name: str, default: float, description: str) -> OptionSpec:
    return OptionSpec(name, default, description, range=_LENGTH)


def _arrow_options(shaft_length: float, shaft_radius: float, head_length: float,
                   head_radius: float) -> tuple[OptionSpec, ...]:
    return (_size("shaft_length", shaft_length, "Length of the arrow's shaft (m)."),
            _size("shaft_radius", shaft_radius, "The arrow shaft's \"radius\" as rviz names it: "
                  "drawn as its diameter (m)."),
            _size("head_length", head_length, "Length of the arrow's head (m)."),
            _size("head_radius", head_radius, "The arrow head's \"radius\" as rviz names it: drawn "
                  "as its diameter (m)."))


def _axes_options(length: float, radius: float) -> tuple[OptionSpec, ...]:
    return (_size("axes_length", length, "Length of each axis (m)."),
            _size("axes_radius", radius, "Each axis's \"radius\" as rviz names it: drawn as its "
                  "diameter (m)."))


PATH = _add(DisplayType(
    "Path", "nav_msgs/Path: a line through the poses' positions, optionally an arrow or axes at "
    "each pose; placed by TF at the path's header stamp (the poses' own headers are not read).",
    ("nav_msgs/msg/Path",), (
        OptionSpec("line_style", "Lines", "Lines: 1 pixel wide; Billboards: line_width metres wide.",
                   choices=("Lines", "Billboards")),
        OptionSpec("line_width", 0.03, "Width of the line with line_style Billboards (m).",
                   range=(0.001, 1000.0)),
        _color((25.0, 255.0, 0.0), "the line"),
        _alpha("the line"),
        OptionSpec("buffer_length", 1, "Paths shown: the last N received.", range=(1, 100000)),
        OptionSpec("offset", [0.0, 0.0, 0.0], "Shift of the whole path in the fixed frame, "
                   "[x, y, z] (m).", range=(-1e6, 1e6)),
        OptionSpec("pose_style", "None", "What is drawn at each pose.",
                   choices=("None", "Axes", "Arrows")),
        _size("axes_length", 0.3, "Length of each axis with pose_style Axes (m)."),
        _size("axes_radius", 0.03, "Each axis's \"radius\" with pose_style Axes: drawn as its "
              "diameter (m)."),
        OptionSpec("pose_color", [255.0, 85.0, 255.0], "Colour of the arrows with pose_style Arrows, "
                   "[r, g, b] 0-255.", range=_RGB),
        _size("shaft_length", 0.1, "Arrow shaft length with pose_style Arrows (m)."),
        _size("head_length", 0.2, "Arrow head length with pose_style Arrows (m)."),
        _size("shaft_diameter", 0.1, "Arrow shaft diameter with pose_style Arrows (m)."),
        _size("head_diameter", 0.3, "Arrow head diameter with pose_style Arrows (m)."),
    )))
POSE = _add(DisplayType(
    "Pose", "geometry_msgs/PoseStamped: an arrow along the pose's +X, or its axes; placed by TF "
    "at the header stamp.",
    ("geometry_msgs/msg/PoseStamped",), (
        OptionSpec("shape", "Arrow", "Arrow, or the pose's axes (X red, Y green, Z blue).",
                   choices=("Arrow", "Axes")),
        _color((255.0, 25.0, 0.0), "the arrow"),
        _alpha("the arrow"),
        *_arrow_options(1.0, 0.05, 0.3, 0.1),
        *_axes_options(1.0, 0.1),
    )))
POSE_ARRAY = _add(DisplayType(
    "PoseArray", "geometry_msgs/PoseArray: a flat arrow (1-pixel lines), a solid arrow or axes "
    "at each pose; placed by TF at the header stamp.",
    ("geometry_msgs/msg/PoseArray",), (
        OptionSpec("shape", "Arrow (Flat)", "The shape drawn at each pose.",
                   choices=("Arrow (Flat)", "Arrow (3D)", "Axes")),
        _color((255.0, 25.0, 0.0), "the arrows"),
        _alpha("the arrows"),
        _size("arrow_length", 0.3, "Length of the flat arrows (m)."),
        *_arrow_options(0.23, 0.01, 0.07, 0.03),
        *_axes_options(0.3, 0.01),
    )))
POINT_STAMPED = _add(DisplayType(
    "PointStamped", "geometry_msgs/PointStamped: a sphere at the point, the last history_length "
    "points each placed by TF at its header stamp.",
    ("geometry_msgs/msg/PointStamped",), (
        _color((204.0, 41.0, 204.0), "the spheres"),
        _alpha("the spheres"),
        _size("radius", 0.2, "The sphere's \"radius\" as rviz names it: drawn as its diameter (m)."),
        OptionSpec("history_length", 1, "Points shown: the last N received.", range=(1, 100000)),
    )))
POLYGON = _add(DisplayType(
    "Polygon", "geometry_msgs/PolygonStamped: a closed 1-pixel line through the points; placed "
    "by TF at the header stamp.",
    ("geometry_msgs/msg/PolygonStamped",), (
        _color((25.0, 255.0, 0.0), "the polygon"),
        _alpha("the polygon"),
    )))
ODOMETRY = _add(DisplayType(
    "Odometry", "nav_msgs/Odometry: an arrow (or axes) at each pose that moved more than a "
    "tolerance from the last one drawn, the last keep of them, each placed by TF at its header "
    "stamp; covariance as an ellipsoid (position) and discs or a cone (orientation).",
    ("nav_msgs/msg/Odometry",), (
        _size("position_tolerance", 0.1, "A pose closer than this to the last one drawn, and within "
              "angle_tolerance of its orientation, is not drawn (m)."),
        _size("angle_tolerance", 0.1, "See position_tolerance (rad)."),
        OptionSpec("keep", 100, "Poses kept, the oldest dropped first; 0: keep all.",
                   range=(0, 1000000)),
        OptionSpec("shape", "Arrow", "Arrow, or the pose's axes (X red, Y green, Z blue).",
                   choices=("Arrow", "Axes")),
        _color((255.0, 25.0, 0.0), "the arrows"),
        _alpha("the arrows"),
        *_arrow_options(1.0, 0.05, 0.3, 0.1),
        *_axes_options(1.0, 0.1),
        OptionSpec("covariance", True, "Show the pose covariance."),
        OptionSpec("covariance_position", True, "Show the position covariance: an ellipsoid of one "
                   "standard deviation (an ellipse in 2D, when the z, roll and pitch variances are 0)."),
        OptionSpec("covariance_position_color", [204.0, 51.0, 204.0], "Colour of the position "
                   "ellipsoid, [r, g, b] 0-255.", range=_RGB),
        _alpha("the position ellipsoid", 0.3, "covariance_position_alpha"),
        _size("covariance_position_scale", 1.0, "Standard deviations the ellipsoid spans."),
        OptionSpec("covariance_orientation", True, "Show the orientation covariance: a disc at "
                   "each axis's tip (roll, pitch, yaw), or in 2D a flat cone of the yaw."),
        OptionSpec("covariance_orientation_frame", "Local", "Local: the discs turn with the pose; "
                   "Fixed: they stay in the header frame's axes.", choices=("Local", "Fixed")),
        OptionSpec("covariance_orientation_color_style", "Unique", "Unique: one colour; RGB: roll "
                   "red, pitch green, yaw blue.", choices=("Unique", "RGB")),
        OptionSpec("covariance_orientation_color", [255.0, 255.0, 127.0], "Colour of the orientation "
                   "shapes with color style Unique, [r, g, b] 0-255.", range=_RGB),
        _alpha("the orientation shapes", 0.5, "covariance_orientation_alpha"),
        _size("covariance_orientation_offset", 1.0, "Distance of the discs from the pose (m); in 2D "
              "the length of the cone."),
        _size("covariance_orientation_scale", 1.0, "Standard deviations the orientation shapes span."),
    )))


def display_configs(params: Mapping[str, Any]) -> list[DisplayConfig]:
    """The displays a flat parameter map lists (``displays.<name>.<key>``), checked:
    ConfigError names the display and the key that is wrong."""
    entries: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        if not key.startswith(PREFIX) or key == AUTO:
            continue
        name, _, option = key[len(PREFIX):].partition(".")
        if not _NAME.match(name) or not option or "." in option:
            raise ConfigError(f"parameter {key}: write displays.<name>.<option>, the name made of "
                              "letters, digits and _ (e.g. displays.front_lidar.topic)")
        entries.setdefault(name, {})[option] = value
    out = []
    for name, entry in entries.items():
        where = f"{PREFIX}{name}"
        kind = entry.get("type", DEFAULT_DISPLAYS.get(name))
        if kind not in DISPLAY_TYPES:
            raise ConfigError(f"{where}.type: {kind!r} is not a display type; use one of "
                              f"{', '.join(sorted(DISPLAY_TYPES))}")
        dtype = DISPLAY_TYPES[kind]
        topic = entry.get("topic", "")
        if not isinstance(topic, str) or (dtype.topic and not topic.strip()):
            raise ConfigError(f"{where}.topic: a {kind} display needs a topic name")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}.enabled: expected true or false, got {enabled!r}")
        options = dtype.defaults()
        for option, value in entry.items():
            if option in _ENTRY_KEYS:
                continue
            spec = dtype.option(option)
            if spec is None:
                known = ", ".join([*_ENTRY_KEYS, *(o.name for o in dtype.options)])
                raise ConfigError(f"{where}.{option}: a {kind} display has no option {option!r} "
                                  f"(it has: {known})")
            options[option] = spec.check(value, f"{where}.{option}")
        out.append(DisplayConfig(name, kind, topic.strip(), enabled, options))
    for name, kind in DEFAULT_DISPLAYS.items():   # unless one of its type (or name) is listed
        if not any(d.type == kind or d.name == name for d in out):
            out.append(DisplayConfig(name, kind, "", True, DISPLAY_TYPES[kind].defaults()))
    for kind in {d.type for d in out if not DISPLAY_TYPES[d.type].topic}:
        listed = [f"{PREFIX}{d.name}" for d in out if d.type == kind and d.enabled]
        if len(listed) > 1:
            raise ConfigError(f"{', '.join(listed)}: one {kind} display at most (it shows no "
                              "topic); give the others enabled: false")
    return out


def markdown_tables(types: Sequence[DisplayType] | None = None) -> str:
    """The display types and their options, as docs/displays.md lists them."""
    out = []
    for t in types or sorted(DISPLAY_TYPES.values(), key=lambda t: t.name):
        msg = ", ".join(f"`{m}`" for m in t.msgtypes) or "(no topic)"
        out.append(f"### {t.name}\n\n{t.description} Topic type: {msg}.\n")
        if t.options:
            out.append("| option | default | values | meaning |\n|---|---|---|---|")
            for o in t.options:
                values = (" / ".join(o.choices) if o.choices else
                          f"{o.range[0]:g} .. {o.range[1]:g}" if o.range else "")
                out.append(f"| `{o.name}` | `{_format(o.default)}` | {values} | {o.description} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _format(d: Any) -> str:
    if isinstance(d, bool):
        return str(d).lower()
    if isinstance(d, str):
        return f'"{d}"'
    if isinstance(d, (list, tuple)):
        return "[" + ", ".join(f"{v:g}" for v in d) + "]"
    return f"{d:g}" if isinstance(d, float) else str(d)


def write_doc(path: str) -> None:
    """Replace the tables of ``path`` (from its marker line on) with the current ones."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text()
    marker = "<!-- display tables: generated by python -m vuer_ros.displays --write -->\n"
    start = text.index(marker) + len(marker)
    doc.write_text(text[:start] + "\n" + markdown_tables())


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write_doc(sys.argv[2])
    else:
        print(markdown_tables(), end="")
