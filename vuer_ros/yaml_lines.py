"""YAML files read with the line of every map and of each of its keys, so an error in
a file the user wrote can point at the line (``cam.yaml:7: keyframes[2].fov: ...``).

    doc = read_yaml(path, "camera path")   # plain dicts/lists/scalars; maps are LineMaps
    line_of(doc, "fov")                    # the line of key "fov" (1-based), or of the map

Only YAML's safe types are built (yaml.SafeLoader).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


class YamlFileError(ValueError):
    """A file that cannot be read, or is not YAML; says which and why."""


class LineMap(dict[Any, Any]):
    """A YAML map that remembers where it and each of its keys are (1-based lines)."""

    line: int = 0
    key_lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    out = LineMap(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, _ in node.value:
        try:
            out.key_lines[loader.construct_object(key_node, deep=True)] = key_node.start_mark.line + 1
        except TypeError:   # an unhashable key: construct_mapping refused it already
            pass
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def read_yaml(path: str | os.PathLike[str], what: str) -> Any:
    """The document in ``path``; YamlFileError names ``what`` it is and the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise YamlFileError(f"{what} {path}: cannot read it ({e.strerror or e})") from None
    try:
        return yaml.load(text, Loader=_Loader)   # a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise YamlFileError(f"{what} {path}{where}: not valid YAML ({problem})") from None


def line_of(node: Any, key: Any = None) -> int:
    """The line of ``key`` in map ``node`` (of the map itself without one); 0 if unknown."""
    if not isinstance(node, LineMap):
        return 0
    if key is not None and key in node.key_lines:
        return node.key_lines[key]
    return node.line
