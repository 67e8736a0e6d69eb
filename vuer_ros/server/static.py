"""StaticFiles: maps a request path to a file under the client bundle or a
named mount root, refusing anything that would leave its root, or to bytes
held in memory (``blobs``).

Sans I/O towards the network: ``reply(path)`` returns an :class:`HttpReply`
(status, headers, body); the server turns it into a websockets response. It
reads files, so call it off the event loop (``asyncio.to_thread``).

URL layout (docs/protocol.md): ``/`` is the client's ``index.html``; other
paths are files of the client root; ``/files/<mount>/<path>`` are files of the
mount root registered as ``<mount>`` (meshes, textures); ``/blobs/<sha256><suffix>``
are bytes held in memory (meshes and textures carried in messages: blobs.py).
"""

from __future__ import annotations

import email.utils
import html
import http
import logging
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .blobs import BLOBS_PREFIX, BlobStore

logger = logging.getLogger(__name__)

CLIENT_DIR_ENV = "VUER_ROS_CLIENT_DIR"
DEFAULT_CLIENT_DIR = Path(__file__).resolve().parent.parent / "client_build"
FILES_PREFIX = "/files/"

# Types browsers and loaders care about; mimetypes' tables differ between systems.
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".stl": "model/stl",
    ".obj": "model/obj",
    ".mtl": "model/mtl",
    ".dae": "model/vnd.collada+xml",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".ply": "application/octet-stream",
    ".urdf": "application/xml",
    ".xml": "application/xml",
    ".hdr": "application/octet-stream",
}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def default_client_dir() -> Path:
    """The client bundle to serve: ``$VUER_ROS_CLIENT_DIR`` or ``vuer_ros/client_build``."""
    env = os.environ.get(CLIENT_DIR_ENV)
    return Path(env).expanduser() if env else DEFAULT_CLIENT_DIR


@dataclass
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def reason(self) -> str:
        return http.HTTPStatus(self.status).phrase


# a blob's URL names its bytes (their hash): it never changes, so browsers keep it
IMMUTABLE = "public, max-age=31536000, immutable"


def _reply(status: int, body: bytes, ctype: str, extra: list[tuple[str, str]] | None = None,
           cache: str = "no-cache") -> HttpReply:
    headers = [
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Connection", "close"),
        ("Content-Type", ctype),
        ("Content-Length", str(len(body))),
        ("Cache-Control", cache),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return HttpReply(status, headers + (extra or []), body)


def text_reply(status: int, text: str) -> HttpReply:
    return _reply(status, text.encode(), "text/plain; charset=utf-8")


def refused_reply(reason: str) -> HttpReply:
    """401 for a request without the access token (access.py): what to do, nothing else."""
    text = (f"401 Unauthorized ({reason}): this vuer_ros server needs its access token. Open the URL "
            "it logged (https://host:port/?token=...) or scan the QR code it printed.\n")
    return _reply(401, text.encode(), "text/plain; charset=utf-8",
                  [("WWW-Authenticate", 'Bearer realm="vuer_ros"')], cache="no-store")


def bundle_missing_page(client_dir: Path) -> HttpReply:
    """503 page shown at ``/`` when the client bundle is not built."""
    where = html.escape(str(client_dir / "index.html"))
    page = f"""<!doctype html><meta charset="utf-8"><title>vuer_ros: client not built</title>
<h1>vuer_ros: the browser client is not built</h1>
<p>The server is running, but <code>{where}</code> does not exist.</p>
<p>Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (or run
<code>scripts/setup.sh</code>), or point <code>{CLIENT_DIR_ENV}</code> at a built client.</p>
"""
    return _reply(503, page.encode(), "text/html; charset=utf-8")


class PathRefused(Exception):
    """A request path that tries to leave its root (403)."""


@dataclass
class StaticFiles:
    """Files of the client bundle and of named mount roots, served read-only, and
    bytes held in memory."""

    client_dir: Path = field(default_factory=default_client_dir)
    mounts: dict[str, Path] = field(default_factory=dict)
    blobs: BlobStore = field(default_factory=BlobStore)

    def __post_init__(self) -> None:
        self.client_dir = Path(self.client_dir)
        self.mounts = {name: Path(root) for name, root in dict(self.mounts).items()}
        for name in self.mounts:
            _check_mount_name(name)

    # -- configuration -------------------------------------------------------------
    def mount(self, name: str, root: str | os.PathLike[str]) -> str:
        """Serve the files under ``root`` at ``/files/<name>/``; return that URL prefix."""
        _check_mount_name(name)
        self.mounts[name] = Path(root)
        return f"{FILES_PREFIX}{name}/"

    @property
    def bundle_ready(self) -> bool:
        return (self.client_dir / "index.html").is_file()

    # -- lookup ----------------------------------------------------------------------
    def resolve(self, request_path: str) -> Path | None:
        """The file a request path names; None if there is none.

        Raises :class:`PathRefused` for paths that would leave their root: ``..``
        or ``.`` segments (also percent-encoded), empty segments (``//etc``),
        backslashes, NUL bytes and symlinks pointing outside the root.
        """
        raw = request_path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/"):
            raise PathRefused(f"request path {raw!r} is not absolute")
        decoded = unquote(raw, errors="strict")
        if "\x00" in decoded or "\\" in decoded:
            raise PathRefused(f"request path {raw!r} holds a NUL or backslash")
        parts = decoded[1:].split("/")
        if parts and parts[-1] == "":
            parts = parts[:-1]  # a trailing slash: a directory, which is never served
            if not parts:
                parts = ["index.html"]
        for part in parts:
            if part in ("", ".", ".."):
                raise PathRefused(f"request path {raw!r} has a {part or 'empty'!r} segment")
        root = self.client_dir
        if decoded.startswith(FILES_PREFIX):
            if len(parts) < 3:
                return None
            root_or_none = self.mounts.get(parts[1])
            if root_or_none is None:
                return None
            root, parts = root_or_none, parts[2:]
        if any(part.startswith(".") for part in parts):
            return None  # dotfiles (.git, .env) are never served
        real_root = root.resolve()
        candidate = real_root.joinpath(*parts)
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(real_root):
            raise PathRefused(f"request path {raw!r} resolves outside its root")
        return real if real.is_file() else None

    def reply(self, request_path: str) -> HttpReply:
        """The HTTP reply for a GET of ``request_path`` (blocking file read)."""
        path_only = request_path.split("?", 1)[0]
        if path_only in ("/", "/index.html") and not self.bundle_ready:
            return bundle_missing_page(self.client_dir)
        if path_only.startswith(BLOBS_PREFIX):
            name = path_only[len(BLOBS_PREFIX):]
            data = self.blobs.get(name)
            if data is None:
                return text_reply(404, "404 Not Found\n")
            return _reply(200, data, content_type(Path(name)), [("Access-Control-Allow-Origin", "*")],
                          cache=IMMUTABLE)
        try:
            found = self.resolve(request_path)
        except (PathRefused, UnicodeDecodeError) as e:
            logger.warning("refused HTTP GET %r: %s", request_path[:200], e)
            return text_reply(403, "403 Forbidden\n")
        if found is None:
            return text_reply(404, "404 Not Found\n")
        try:
            body = found.read_bytes()
        except OSError as e:
            logger.warning("cannot read %s for GET %r: %s", found, request_path[:200], e)
            return text_reply(404, "404 Not Found\n")
        extra = [("Access-Control-Allow-Origin", "*")] if path_only.startswith(FILES_PREFIX) else []
        return _reply(200, body, content_type(found), extra)


def _check_mount_name(name: str) -> None:
    if not name or "/" in name or name in (".", "..") or name.startswith("."):
        raise ValueError(f"mount name {name!r}: use a plain name like 'meshes' (no '/', no leading '.')")

