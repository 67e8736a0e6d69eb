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
    range: tuple[float, float] | None = None
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
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
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
