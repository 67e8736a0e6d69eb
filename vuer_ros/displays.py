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
``displays.auto`` from showing its topic). ``python -m vuer_ros.displays``
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
    range: tuple[float, float] | None = None

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
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            raise ConfigError(f"{where}: {value!r} is outside {self.range[0]:g} .. {self.range[1]:g}")
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

# -- paths, poses, points, polygons, odometry ---------------------------------------------------


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
        kind = entry.get("type")
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
