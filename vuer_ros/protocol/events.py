"""Protocol events: server -> browser scene operations and RPCs, browser -> server events.

Server events are ``{ts, etype, data}`` with ``ts`` an int in milliseconds; an
RPC adds ``uuid``, ``key`` and ``rtype = "<ETYPE>_RESPONSE@<uuid>"`` and the
browser answers with a client event whose ``etype`` is that ``rtype``.
Client events are ``{ts, etype, key, value}``.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from .elements import Element, to_wire_node

SCENE_ETYPES = ("SET", "UPDATE", "ADD", "UPSERT", "REMOVE")
# an RPC's answer etype is "<ETYPE>_RESPONSE@<uuid>"
RESPONSE_MARK = "_RESPONSE@"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ServerEvent:
    """A server event. ``coalesce_key``, when set, says that a later event with the same
    key sets everything this one sets: a client that has not been sent this one yet gets
    only the later one (latest state wins; the server's scene tree applies both)."""

    etype: str
    data: Any
    ts: int = field(default_factory=now_ms)
    coalesce_key: str | None = field(default=None, compare=False)

    def to_wire(self) -> dict[str, Any]:
        return {"ts": self.ts, "etype": self.etype, "data": self.data}

    _serialize = to_wire


def _nodes(elements: Iterable[Element | dict[str, Any]]) -> list[dict[str, Any]]:
    return [to_wire_node(e) for e in elements]


def Set(scene: Element | dict[str, Any]) -> ServerEvent:
    """Replace the whole scene."""
    return ServerEvent("SET", to_wire_node(scene))


def Update(*elements: Element | dict[str, Any], strict: bool = False) -> ServerEvent:
    """Patch props of existing nodes, matched by key anywhere in the tree."""
    return ServerEvent("UPDATE", {"nodes": _nodes(elements), "strict": strict})


def Add(*elements: Element | dict[str, Any], to: str | None = None) -> ServerEvent:
    """Insert nodes under parent ``to`` (None: the scene root)."""
    return ServerEvent("ADD", {"nodes": _nodes(elements), "to": to})


def Upsert(*elements: Element | dict[str, Any], to: str | None = None, strict: bool = False) -> ServerEvent:
    """Update nodes whose key exists, add the others under ``to``."""
    return ServerEvent("UPSERT", {"nodes": _nodes(elements), "to": to, "strict": strict})


def Remove(*keys: str) -> ServerEvent:
    """Delete nodes (and their subtrees) by key."""
    return ServerEvent("REMOVE", {"keys": list(keys)})


@dataclass
class ServerRPC(ServerEvent):
    """A request the browser answers with an event of etype ``rtype``."""

    key: str = "DEFAULT"
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    @property
    def rtype(self) -> str:
        return f"{self.etype}{RESPONSE_MARK}{self.uuid}"

    def to_wire(self) -> dict[str, Any]:
        return {**super().to_wire(), "key": self.key, "uuid": self.uuid, "rtype": self.rtype}

    _serialize = to_wire


def GrabRenderRequest(key: str = "DEFAULT", **options: Any) -> ServerRPC:
    """Ask the browser for a render of view ``key`` (DEFAULT or a CameraView key).

    Options (all optional, see docs/protocol.md): quality, downsample, format
    ("jpeg" | "png" | "rgba"), width, height, depth (bool), camera
    ({position, quaternion, fov, near, far} in three.js camera convention).
    """
    return ServerRPC("GRAB_RENDER", {k: v for k, v in options.items() if v is not None}, key=key)


@dataclass
class ClientEvent:
    etype: str
    value: Any = None
    key: str | None = None
    ts: int = 0

    @classmethod
    def from_wire(cls, payload: Any) -> "ClientEvent":
        """Validate a decoded browser message; raise ValueError saying what is wrong."""
        if not isinstance(payload, dict):
            raise ValueError(f"client message is a {type(payload).__name__}, expected a map")
        etype = payload.get("etype")
        if not isinstance(etype, str) or not etype:
            raise ValueError("client message has no string 'etype'")
        ts = payload.get("ts", 0)
        if not isinstance(ts, (int, float)):
            raise ValueError(f"client event {etype}: 'ts' is a {type(ts).__name__}")
        key = payload.get("key")
        return cls(etype=etype, value=payload.get("value"), key=key if isinstance(key, str) else None,
                   ts=int(ts))

    def __eq__(self, other: object) -> bool:
        # vuer lets handlers compare an event with its etype string
        if isinstance(other, str):
            return self.etype == other
        if isinstance(other, ClientEvent):  # field by field (a hand-written __eq__ stops dataclass making one)
            return (self.etype, self.value, self.key, self.ts) == (other.etype, other.value, other.key, other.ts)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
