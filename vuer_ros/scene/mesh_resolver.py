"""MeshResolver: a marker's mesh_resource (or texture_resource) URI -> the URL the
browser loads it from; and bytes carried in a message (mesh_file, texture) -> a URL
the server serves them at (``embed``, from memory: vuer_ros/server/blobs.py).

What may be served (the allowed roots):
- ``package://<pkg>/<path>``: the share folder of ament package ``<pkg>``
  (found through the ament index, AMENT_PREFIX_PATH), mounted on demand at
  ``/files/pkg-<pkg>/``;
- ``file:///<abs path>``: a file inside one of the ``mesh_roots`` folders
  (mounted at ``/files/root<i>/``) or inside an ament package's share folder
  (served as that package, as if it were ``package://``);
- ``http://`` and ``https://``: passed through unchanged (the browser fetches them).
Anything else, a path leaving its root (``..``, symlinks out), or a file that
does not exist, raises ``MeshNotAllowed``/``MeshNotFound`` with a message saying
what to do; the scene model logs it once with the marker's key and skips the
marker. URLs are root-relative (``/files/...``), so they work from any host
the page was opened on.

No rclpy (ament_index_python is plain Python).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import quote, unquote, urlsplit


class MeshError(ValueError):
    """A mesh_resource that cannot be served."""


class MeshNotAllowed(MeshError):
    pass


class MeshNotFound(MeshError):
    pass


Mount = Callable[[str, Path], str]
"""``mount(name, root) -> URL prefix`` (``/files/<name>/``): serve ``root`` read-only."""

Embed = Callable[[bytes, str, object], str]
"""``embed(data, suffix, owner) -> URL``: serve ``data`` while ``owner`` lives."""


def _ament_prefixes() -> list[Path]:
    return [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]


def package_share(package: str) -> Path:
    """The share folder of an ament package (MeshNotFound when it is not indexed)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:  # pragma: no cover - no ament index at all
        for prefix in _ament_prefixes():
            marker = prefix / "share" / "ament_index" / "resource_index" / "packages" / package
            if marker.is_file():
                return prefix / "share" / package
        raise MeshNotFound(f"package '{package}' is not in the ament index") from None
    try:
        return Path(get_package_share_directory(package))
    except (PackageNotFoundError, ValueError, LookupError):
        raise MeshNotFound(f"package '{package}' is not in the ament index (AMENT_PREFIX_PATH); "
                           "source its workspace") from None


class MeshResolver:
    """Callable ``resolver(uri) -> url`` for ``SceneModel(resolve_mesh=...)``."""

    def __init__(self, mount: Mount, roots: Sequence[str | os.PathLike[str]] = (),
                 share_of: Callable[[str], Path] = package_share,
                 prefixes: Callable[[], list[Path]] = _ament_prefixes,
                 embed: Embed | None = None) -> None:
        self._mount = mount
        self._embed = embed
        self.roots = [Path(r).expanduser().resolve() for r in roots if str(r)]
        self._share_of = share_of
        self._prefixes = prefixes
        self._mounted: dict[str, tuple[Path, str]] = {}   # mount name -> (root, url prefix)

    def __call__(self, uri: str) -> str:
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            return uri
        if scheme == "package":
            package = parts.netloc
            if not package:
                raise MeshNotAllowed("package:// needs a package name (package://<pkg>/<path>)")
            share = self._share_of(package)
            return self._serve(f"pkg-{package}", share, unquote(parts.path).lstrip("/"), uri)
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise MeshNotAllowed("only local file:/// URIs are served")
            path = Path(unquote(parts.path))
            if not path.is_absolute():
                raise MeshNotAllowed("file:// needs an absolute path")
            return self._serve_file(path, uri)
        raise MeshNotAllowed(f"unsupported scheme {scheme or '(none)'!r}; use package://, "
                             "file:// or http(s)://")

    def embed(self, data: bytes, suffix: str, owner: object) -> str:
        """The URL the browser fetches ``data`` from, served while ``owner`` (the element
        showing it) lives; ``suffix`` (``.stl``, ``.png``...) names its format."""
        if self._embed is None:
            raise MeshNotAllowed("bytes carried in a message cannot be served here (no server)")
        return self._embed(data, suffix, owner)

    def _serve_file(self, path: Path, uri: str) -> str:
        real = path.resolve()
        for i, root in enumerate(self.roots):
            if real.is_relative_to(root):
                return self._serve(f"root{i}", root, str(real.relative_to(root)), uri)
        for prefix in self._prefixes():
            share = prefix.resolve() / "share"
            if real.is_relative_to(share) and len(real.relative_to(share).parts) >= 2:
                package = real.relative_to(share).parts[0]
                index = share / "ament_index" / "resource_index" / "packages" / package
                if index.is_file():
                    root = share / package
                    return self._serve(f"pkg-{package}", root, str(real.relative_to(root)), uri)
        allowed = ", ".join(str(r) for r in self.roots) or "none"
        raise MeshNotAllowed(f"{path} is outside the allowed mesh roots (mesh_roots: {allowed}; "
                             "and ament package share folders); add its folder to the "
                             "mesh_roots parameter")

    def _serve(self, name: str, root: Path, relative: str, uri: str) -> str:
        root_real = root.resolve()
        target = (root_real / relative).resolve()
        if not relative or not target.is_relative_to(root_real) or any(
                part.startswith(".") for part in Path(relative).parts):
            raise MeshNotAllowed(f"the path leaves its root {root_real} or names a hidden file")
        if not target.is_file():
            raise MeshNotFound(f"file {target} does not exist")
        known = self._mounted.get(name)
        if known is None or known[0] != root_real:
            prefix = self._mount(name, root_real)
            known = (root_real, prefix if prefix.endswith("/") else prefix + "/")
            self._mounted[name] = known
        return known[1] + quote(str(target.relative_to(root_real)))
