"""The viewer's parameters from a ROS 2 parameter file, without ROS.

``vuer-ros render-bag --config config/viewer.yaml`` must render a bag exactly
as the live node shows it, so this reads the node's own parameter file the
way rcl does and fills in the node's own defaults (the table in
``vuer_ros/params.py``, ROS-free; nothing is duplicated here):

- The file is ``{node-name-pattern: {ros__parameters: {...}}}``. Entries whose
  pattern matches the node (``/**``, ``/*``, ``vuer_viewer``,
  ``/ns/vuer_viewer``, ``**/vuer_viewer``, ...) apply in file order, later
  values winning, as with ``--params-file``.
- Nested maps are flattened with ``.`` (``render: {rate: 5}`` is ``render.rate``).
- Values are checked against the table as the node's declarations check them
  (type, range, array length), with the node's lenient coercions: an int where
  a double is declared, a single string where a string array is, ``[]``.
- Keys the node does not declare are reported (they would be ignored there too).

``viewer_params(path, overrides)`` returns every parameter: defaults, then the
file, then ``overrides`` (command-line flags).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from .params import BY_NAME, CAMERAS_PREFIX, DISPLAYS_PREFIX, NODE_NAME, PARAMS, ParamSpec

__all__ = ["ConfigError", "default_params", "read_params_file", "viewer_params"]


class ConfigError(ValueError):
    """A parameter file or value the node would not accept; says which and why."""


def default_params() -> dict[str, Any]:
    """Every parameter at the node's default (lists copied)."""
    return {p.name: list(p.default) if isinstance(p.default, list) else p.default for p in PARAMS}


def _node_pattern(pattern: str) -> re.Pattern[str]:
    """rcl's node-name wildcards: ``**`` any number of tokens, ``*`` one token."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("/**", i):
            out.append("(/[^/]+)*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "$")


def _matches_node(key: str, node_name: str) -> bool:
    """Whether a top-level key of a parameter file addresses the node. The namespace
    the node will run in is not known here, so ``/<any ns>/vuer_viewer`` counts too."""
    key = key.strip()
    if _node_pattern(key).match("/" + node_name):
        return True
    return key.rstrip("/").rsplit("/", 1)[-1] == node_name


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def read_params_file(path: str | os.PathLike[str], node_name: str = NODE_NAME
                     ) -> tuple[dict[str, Any], list[str]]:
    """The parameters a ROS 2 parameter file sets for the viewer node, flattened,
    unchecked, and the names it sets that the node does not declare."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read parameter file {path}: {e.strerror or e}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"parameter file {path} is not valid YAML: {e}") from None
    if doc is None:
        return {}, []
    if not isinstance(doc, Mapping):
        raise ConfigError(f"parameter file {path}: expected a map of node names to "
                          "{ros__parameters: {...}} (the ROS 2 --params-file format)")
    values: dict[str, Any] = {}
    for key, entry in doc.items():
        if not _matches_node(str(key), node_name):
            continue
        if not isinstance(entry, Mapping) or "ros__parameters" not in entry:
            raise ConfigError(f"parameter file {path}: entry {key!r} has no 'ros__parameters' "
                              "map (write `/**:\\n  ros__parameters:\\n    fixed_frame: map`)")
        params = entry["ros__parameters"]
        if params is None:
            continue
        if not isinstance(params, Mapping):
            raise ConfigError(f"parameter file {path}: {key!r}.ros__parameters must be a map")
        _flatten("", params, values)
    unknown = [k for k in values if k not in BY_NAME and k != "use_sim_time"
               and not k.startswith((DISPLAYS_PREFIX, CAMERAS_PREFIX))]
    for k in unknown:
        del values[k]
    values.pop("use_sim_time", None)
    return values, unknown


def check_value(spec: ParamSpec, value: Any, source: str = "", label: str = "") -> Any:
    """``value`` as the node would store it for ``spec`` (ConfigError if it would refuse;
    ``label``: how the message names the value, when not as the parameter)."""
    where = f" ({source})" if source else ""
    kind = spec.type_name

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{label}: {why}" if label else f"parameter {spec.name}{where}: {why}")

    if kind == "bool":
        if not isinstance(value, bool):
            raise bad(f"expected true or false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"expected an integer, got {value!r}")
        out: Any = value
    elif kind == "double":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"expected a number, got {value!r}")
        out = float(value)
        if not math.isfinite(out):
            raise bad(f"expected a finite number, got {value!r}")
    elif kind == "string":
        if not isinstance(value, str):
            raise bad(f"expected a string, got {value!r}")
        return value
    elif kind == "string[]":
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise bad(f"expected a list of strings, got {value!r}")
        return list(value)
    elif kind == "double[]":
        if value is None:
            value = []
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad(f"expected a list of numbers, got {value!r}")
        out = [float(v) for v in value]
        if not all(math.isfinite(v) for v in out):
            raise bad(f"expected finite numbers, got {value!r}")
        if spec.length is not None and len(out) != spec.length:
            raise bad(f"expected {spec.length} numbers, got {len(out)}")
        return out
    else:  # pragma: no cover - the table only has the types above
        raise bad(f"unsupported type {kind}")
    if spec.range is not None:
        lo, hi = spec.range
        if not lo <= out <= hi:
            raise bad(f"{out!r} is outside its range {lo:g} .. {hi:g}")
    return out


def viewer_params(path: str | os.PathLike[str] | None = None,
                  overrides: Mapping[str, Any] | None = None,
                  node_name: str = NODE_NAME) -> tuple[dict[str, Any], list[str]]:
    """Every viewer parameter: the node's defaults, then the parameter file at
    ``path`` (if any), then ``overrides``; all checked. Also returns the
    undeclared names the file set (the node ignores them; tell the user). Display
    entries (``displays.<name>.<key>``) and listed cameras (``render.cameras.<name>.<key>``)
    pass as they are: vuer_ros/displays.py and vuer_ros/cameras.py check them."""
    params = default_params()
    unknown: list[str] = []
    values: dict[str, Any] = {}
    if path is not None:
        values, unknown = read_params_file(path, node_name)
    for source, given in ((str(path), values), ("command line", overrides or {})):
        for name, value in given.items():
            spec = BY_NAME.get(name)
            if spec is not None:
                params[name] = check_value(spec, value, source)
            elif name.startswith((DISPLAYS_PREFIX, CAMERAS_PREFIX)):
                params[name] = value
            else:
                raise ConfigError(f"unknown parameter {name!r}")
    return params, unknown
