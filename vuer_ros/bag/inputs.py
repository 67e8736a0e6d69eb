"""The bags a ``render-bags`` run is given, and the names their outputs take.

INPUTS may be:
- a bag: a rosbag2 folder (with ``metadata.yaml``), a ``.mcap`` or ``.db3`` file (any
  other file given by name is taken as a bag too, and fails alone if it is not one);
- a folder holding bags, searched through: every rosbag2 folder in it is one bag (its
  own files are not searched), and every ``.mcap`` / ``.db3`` file outside those;
  hidden folders and the output folder are left out;
- a glob pattern (quoted, so the shell leaves it: ``'fleet/**/*.mcap'``), each match
  taken as above;
- a list file: ``@FILE``, or a ``.txt`` / ``.list`` file, one input per line (any of
  the above; blank lines and ``#`` comments skipped; relative paths from the list's folder).

A bag met twice is rendered once. Each bag's outputs are named by its path relative
to the folder all the bags share, without the file suffix: ``fleet/a/run1.mcap`` and
``fleet/b/run2/`` become ``a/run1`` and ``b/run2`` under the output folder (one bag:
its own name). Two bags that would share a name keep their suffix (``run_mcap``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..view.errors import RenderError

BAG_SUFFIXES = (".mcap", ".db3")
LIST_SUFFIXES = (".txt", ".list")


class InputError(RenderError):
    """An input names nothing, or nothing that holds a bag."""

    exit_code = 2


@dataclass(frozen=True)
class FoundBag:
    path: Path      # absolute
    name: str       # its outputs' name under the output folder ('/'-separated)


def _is_rosbag2(folder: Path) -> bool:
    return (folder / "metadata.yaml").is_file()


def _search(folder: Path, skip: Path | None) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if _is_rosbag2(here):
            yield here
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (skip is None or (here / d).resolve() != skip))
        for name in sorted(files):
            if name.endswith(BAG_SUFFIXES):
                yield here / name


def _expand(item: str, base: Path, skip: Path | None, seen_lists: set[Path],
            where: str) -> Iterator[Path]:
    if item.startswith("@") or (item.endswith(LIST_SUFFIXES) and (base / item).is_file()):
        yield from _read_list(base / item.lstrip("@"), skip, seen_lists)
        return
    if glob.has_magic(item):
        pattern = item if os.path.isabs(item) else str(base / item)
        matches = sorted(glob.glob(pattern, recursive=True))
        found = [b for m in matches for b in _bags_at(Path(m), skip, explicit=False)]
        if not found:
            raise InputError(f"{where}{item!r} matches no bag (rosbag2 folders, .mcap or .db3 files)")
        yield from found
        return
    path = base / item
    if not path.exists():
        raise InputError(f"{where}input {item} does not exist")
    found = list(_bags_at(path, skip, explicit=True))
    if not found:
        raise InputError(f"{where}folder {item} holds no bag (rosbag2 folders, .mcap or .db3 "
                         "files)")
    yield from found


def _bags_at(path: Path, skip: Path | None, explicit: bool) -> Iterator[Path]:
    if path.is_dir():
        if _is_rosbag2(path):
            yield path
        elif skip is None or path.resolve() != skip:
            yield from _search(path, skip)
    elif explicit or path.suffix in BAG_SUFFIXES:
        yield path


def _read_list(path: Path, skip: Path | None, seen_lists: set[Path]) -> Iterator[Path]:
    resolved = path.resolve()
    if resolved in seen_lists:
        return
    seen_lists.add(resolved)
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise InputError(f"list file {path}: {e.strerror or e}") from None
    for number, line in enumerate(lines, 1):
        item = line.split("#", 1)[0].strip()
        if item:
            yield from _expand(item, path.parent, skip, seen_lists, f"{path}:{number}: ")


def find_bags(inputs: Sequence[str], exclude: str | os.PathLike[str] | None = None,
              cwd: Path | None = None) -> list[FoundBag]:
    """The bags ``inputs`` name, in order, each once, with their outputs' names;
    anything under ``exclude`` (the output folder) is left out. Raises
    :class:`InputError` (one line) for an input that names nothing."""
    base = cwd or Path.cwd()
    skip = Path(exclude).resolve() if exclude is not None else None
    seen_lists: set[Path] = set()
    paths: dict[Path, None] = {}
    for item in inputs:
        for p in _expand(item, base, skip, seen_lists, ""):
            resolved = p.resolve()
            if skip is not None and resolved.is_relative_to(skip):
                continue
            paths.setdefault(resolved, None)
    if not paths:
        raise InputError("no bags to render: every input is inside the output folder")
    return [FoundBag(p, n) for p, n in zip(paths, output_names(list(paths)))]


def output_names(paths: Sequence[Path]) -> list[str]:
    """Each bag's outputs' name (see the module docstring)."""
    if len(paths) == 1:
        return [_stem(paths[0].name)]
    common = Path(os.path.commonpath([str(p.parent) for p in paths]))
    rel = [p.relative_to(common) for p in paths]
    names = [(r.parent / _stem(r.name)).as_posix() for r in rel]
    clash = {n for n in names if names.count(n) > 1}
    return [r.as_posix().replace(".", "_") if n in clash else n for r, n in zip(rel, names)]


def _stem(name: str) -> str:
    for suffix in BAG_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def fingerprint(path: Path) -> list[list[object]]:
    """What says a bag changed: each file's (path in the bag, size, mtime ns)."""
    files: Iterable[Path] = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file())
    out: list[list[object]] = []
    for f in files:
        st = f.stat()
        out.append([f.name if f == path else f.relative_to(path).as_posix(), st.st_size,
                    st.st_mtime_ns])
    return out


__all__ = ["FoundBag", "InputError", "find_bags", "fingerprint", "output_names"]
