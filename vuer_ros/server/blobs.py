"""BlobStore: bytes the server serves from memory, each for as long as a holder lives.

Meshes and textures carried inside ROS messages (Marker.mesh_file, Marker.texture)
have no file to point the browser at. They are served at
``/blobs/<sha256 of the bytes><suffix>`` (e.g. ``/blobs/9f86...0a08.stl``): the same
bytes get the same URL, so they are stored and fetched once however many markers
carry them, and the browser may cache them for good (the URL can never name other
bytes). Nothing is written to disk.

Lifetime: ``hold(data, suffix, owner)`` keeps the bytes while ``owner`` (the scene
element whose ``src`` is the URL) is alive; when the last owner of a URL is garbage
collected the bytes are dropped. So the store holds exactly what the scene shows;
the size of one blob is limited by the caller (vuer_ros/scene/embedded.py).

Thread-safe: elements are built on the scene's thread and may be dropped on the
server's; requests are answered on the server's.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref

BLOBS_PREFIX = "/blobs/"
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")


class _Blob:
    __slots__ = ("data", "holders")

    def __init__(self, data: bytes) -> None:
        self.data, self.holders = data, 0


class BlobStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[str, _Blob] = {}

    def hold(self, data: bytes, suffix: str, owner: object) -> str:
        """Serve ``data`` while ``owner`` lives; returns its root-relative URL.
        ``suffix`` (``.stl``, ``.png``...) gives the name its type."""
        suffix = suffix.lower()
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"blob suffix {suffix!r}: expected '.' and up to 8 letters or digits")
        name = hashlib.sha256(data).hexdigest() + suffix
        with self._lock:
            blob = self._blobs.get(name)
            if blob is None:
                blob = self._blobs[name] = _Blob(bytes(data))
            blob.holders += 1
        weakref.finalize(owner, self._release, name)
        return BLOBS_PREFIX + name

    def _release(self, name: str) -> None:
        with self._lock:
            blob = self._blobs.get(name)
            if blob is not None:
                blob.holders -= 1
                if blob.holders <= 0:
                    del self._blobs[name]

    def get(self, name: str) -> bytes | None:
        """The bytes served as ``/blobs/<name>``, or None."""
        if not _NAME.fullmatch(name):
            return None
        with self._lock:
            blob = self._blobs.get(name)
            return blob.data if blob is not None else None

    def __len__(self) -> int:
        return len(self._blobs)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(len(b.data) for b in self._blobs.values())
