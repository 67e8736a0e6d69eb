"""Listed render cameras: several cameras in one run, each with its own name, size,
intrinsics, optical frame and placement, for the live node and render-bag alike.

ROS-free, like params.py and displays.py. In the node's parameter file a camera is a
map under ``render.cameras`` (ROS parameters cannot hold a list of maps)::

    render:
      cameras:
        front: {width: 320, height: 240, fov: 70, camera_frame: base_link}
        top: {path: config/top_path.yaml}      # a camera path file (render/camera_path.py)

which the node reads as the parameters ``render.cameras.front.width``, ... The same
map may be a file of its own (``render.cameras_file``, ``render-bag --cameras FILE``),
whose relative ``path`` values are taken from the file's folder::

    front: {width: 320, height: 240, fov: 70, camera_frame: base_link}
    top: {path: top_path.yaml}

Each key is checked as the single-camera parameter it stands for (:data:`ENTRY_KEYS`:
type, range); size, fov, clip range, eye and target left out take the render.*
values. Listed cameras replace the node's own camera: camera ``front`` publishes on
``vuer/front/image``, ``vuer/front/image/compressed``, ``vuer/front/camera_info``,
``vuer/front/depth``, with the optical frame ``vuer_front_optical`` unless it sets
``optical_frame``. Errors name the key (``render.cameras.front.fov: ...``, or the
file and line). ``python -m vuer_ros.cameras`` prints the keys table of
docs/parameters.md (``--write docs/parameters.md`` updates it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .config import ConfigError, check_value
from .params import BY_NAME, CAMERAS_PREFIX as PREFIX
from .render.camera_path import CameraPathError, read_camera_path
from .render.camera_spec import CameraSpec
from .scene.frame_id import frame_id
from .yaml_lines import YamlFileError, line_of, read_yaml

# a topic name token: letters, digits, single underscores, not first or last
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")

# a camera entry's keys -> the single-camera parameter each is checked as (and, for the
# inherited ones, takes its value from when left out)
ENTRY_KEYS: dict[str, str] = {
    "width": "render.width", "height": "render.height", "fov": "render.fov",
    "near": "render.near", "far": "render.far", "eye": "render.eye", "target": "render.target",
    "camera_frame": "render.camera_frame",
    "camera_frame_is_optical": "render.camera_frame_is_optical",
    "target_frame": "render.target_frame", "path": "render.camera_path",
    "optical_frame": "render.optical_frame",
}
INHERITED = ("width", "height", "fov", "near", "far", "eye", "target")
_MEANING = {
    "width": "Image width in pixels.", "height": "Image height in pixels.",
    "fov": "Vertical field of view (degrees).", "near": "Near clip distance (m).",
    "far": "Far clip distance (m); depth beyond it is +inf.",
    "eye": "Fixed camera: position [x, y, z] in fixed_frame; with target_frame an offset "
           "from its origin.",
    "target": "Fixed camera: the point it looks at; with target_frame an offset from its "
              "origin.",
    "camera_frame": "TF frame the camera rides on (its +X forward, +Z up).",
    "camera_frame_is_optical": "camera_frame is an optical frame (Z forward).",
    "target_frame": "TF frame whose origin the camera follows (rviz's Orbit Target Frame).",
    "path": "A camera path file (keyframes or an orbit); relative to a cameras file's folder.",
    "optical_frame": "Frame id of its images and camera_info, on TF.",
}


@dataclass
class CameraEntry:
    """One listed camera as written: its keys, and how messages point at them."""

    name: str
    values: dict[str, Any]
    where: Callable[[str | None], str]     # key (None: the entry) -> "render.cameras.front.fov"
    folder: Path | None = None             # relative path files start here (a cameras file's)


def param_entries(params: Mapping[str, Any]) -> list[CameraEntry]:
    """The cameras a flat parameter map lists (``render.cameras.<name>.<key>``)."""
    entries: dict[str, CameraEntry] = {}
    for key, value in params.items():
        if not key.startswith(PREFIX):
            continue
        name, _, option = key[len(PREFIX):].partition(".")
        if not option or "." in option:
            raise ConfigError(f"parameter {key}: write render.cameras.<name>.<key> "
                              "(e.g. render.cameras.front.width)")
        entry = entries.get(name)
        if entry is None:
            entry = entries[name] = CameraEntry(name, {}, _param_where(name))
        entry.values[option] = value
    return list(entries.values())


def _param_where(name: str) -> Callable[[str | None], str]:
    def where(key: str | None) -> str:
        return f"{PREFIX}{name}" + (f".{key}" if key else "")
    return where


def file_entries(path: str | os.PathLike[str]) -> list[CameraEntry]:
    """The cameras listed in a cameras file: ``{name: {key: value, ...}, ...}``."""
    source = os.fspath(path)
    try:
        doc = read_yaml(path, "cameras file")
    except YamlFileError as e:
        raise ConfigError(str(e)) from None
    if not isinstance(doc, dict) or not doc:
        raise ConfigError(f"cameras file {source}: expected a map of camera names to their "
                          "keys, e.g. `front: {width: 320, camera_frame: base_link}`")
    out = []
    for name, values in doc.items():
        def where(key: str | None, n: Any = name, node: Any = values) -> str:
            line = line_of(node, key) if key is not None and isinstance(node, dict) \
                else line_of(doc, n)
            return f"cameras file {source}{f':{line}' if line else ''}: " + \
                (f"{n}.{key}" if key else str(n))
        if not isinstance(values, dict):
            raise ConfigError(f"{where(None)}: expected a map of its keys "
                              f"({', '.join(ENTRY_KEYS)}), got {values!r}")
        out.append(CameraEntry(str(name), dict(values), where, Path(source).parent))
    return out


def listed_cameras(params: Mapping[str, Any], inherited: CameraSpec) -> tuple[CameraSpec, ...]:
    """The cameras ``params`` list (render.cameras.* and render.cameras_file), sorted by
    name; ``inherited``: the node's own camera, whose size, fov, clip range, eye and
    target a camera leaving them out takes. ConfigError names the key that is wrong."""
    entries = param_entries(params)
    cameras_file = str(params.get("render.cameras_file", "") or "").strip()
    if cameras_file:
        entries += file_entries(cameras_file)
    seen: dict[str, CameraEntry] = {}
    for entry in entries:
        if entry.name in seen:
            raise ConfigError(f"{entry.where(None)}: camera '{entry.name}' is listed twice "
                              f"(also as {seen[entry.name].where(None)})")
        seen[entry.name] = entry
    return tuple(camera_from_entry(seen[name], inherited) for name in sorted(seen))


def camera_from_entry(entry: CameraEntry, inherited: CameraSpec) -> CameraSpec:
    name = entry.name
    if not _NAME.match(name):
        raise ConfigError(f"{entry.where(None)}: camera name {name!r} must be letters and "
                          "digits with single _ between them, starting with a letter (it names "
                          "its topics, vuer/<name>/image)")
    values: dict[str, Any] = {k: getattr(inherited, k) for k in INHERITED}
    values.update(camera_frame="", camera_frame_is_optical=False, target_frame="", path=None,
                  optical_frame=f"vuer_{name}_optical")
    for key, value in entry.values.items():
        parameter = ENTRY_KEYS.get(key)
        if parameter is None:
            raise ConfigError(f"{entry.where(key)}: a camera has no key {key!r} "
                              f"(it has: {', '.join(ENTRY_KEYS)})")
        value = check_value(BY_NAME[parameter], value, label=entry.where(key))
        if key in ("eye", "target"):
            value = tuple(value)
        elif key in ("camera_frame", "target_frame", "optical_frame"):
            value = frame_id(value.strip())
        elif key == "path":
            value = read_path(value, entry.where(key), entry.folder) if value.strip() else None
        values[key] = value
    spec = CameraSpec(name=name, **values)
    try:
        spec.check()
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return spec


def read_path(value: str, where: str, folder: Path | None = None) -> Any:
    """The camera path file ``value`` names (relative to ``folder``); ConfigError with
    ``where`` (the key naming it) and the file's own line and key."""
    path = Path(os.path.expanduser(value.strip()))
    if folder is not None and not path.is_absolute():
        path = folder / path
    try:
        return read_camera_path(path)
    except CameraPathError as e:
        raise ConfigError(f"{where}: {e}") from None


# -- the docs --------------------------------------------------------------------------------------
def markdown_table() -> str:
    """The camera keys table of docs/parameters.md."""
    rows = ["| key | checked as | default | meaning |", "|---|---|---|---|"]
    for key, parameter in ENTRY_KEYS.items():
        if key in INHERITED:
            default = f"`{parameter}`'s value"
        elif key == "optical_frame":
            default = '`"vuer_<name>_optical"`'
        else:
            d = BY_NAME[parameter].default
            default = f"`{str(d).lower()}`" if isinstance(d, bool) else '`""` (none)'
        rows.append(f"| `{key}` | `{parameter}` | {default} | {_MEANING[key]} |")
    return "\n".join(rows) + "\n"


_START = "<!-- camera keys: generated by python -m vuer_ros.cameras --write -->\n"
_END = "<!-- end of camera keys -->\n"


def write_doc(path: str) -> None:
    """Replace the table between the markers of ``path`` with the current one."""
    doc = Path(path)
    text = doc.read_text()
    start, end = text.index(_START) + len(_START), text.index(_END)
    doc.write_text(text[:start] + markdown_table() + text[end:])


__all__ = ["CameraEntry", "ENTRY_KEYS", "INHERITED", "camera_from_entry", "file_entries",
           "listed_cameras", "markdown_table", "param_entries", "read_path"]


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write_doc(sys.argv[2])
    else:
        print(markdown_table(), end="")
