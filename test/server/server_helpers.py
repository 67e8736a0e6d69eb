"""Test helpers: :class:`FakeBrowser` is a real websockets client that speaks
the protocol the way the browser client does (INIT first, applies scene events
to its own SceneTree, answers RPCs on demand)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect

from vuer_ros.protocol import SceneTree


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


class FakeBrowser:
    """A protocol client over a real websocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.tree = SceneTree()
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: Any, token: str | None = "fake", init: bool = True, **connect_kw: Any) -> "FakeBrowser":
        ws = await connect(server.ws_url, compression=None, max_size=None, **connect_kw)
        browser = cls(ws)
        if init:
            await browser.send({"ts": 0, "etype": "INIT",
                                "value": {"clientType": "vuer_ros", "renderer": "fake", "id": token,
                                          "userAgent": "FakeBrowser", "width": 4, "height": 2}})
        return browser

    async def send(self, obj: Any) -> None:
        await self.ws.send(pack(obj))

    async def recv(self, timeout: float = 2.0) -> dict[str, Any]:
        """The next server event; scene events are applied to ``self.tree``."""
        event = msgpack.unpackb(await asyncio.wait_for(self.ws.recv(), timeout), raw=False)
        self.seen.append(event)
        if event["etype"] in ("SET", "UPDATE", "ADD", "UPSERT", "REMOVE"):
            self.tree.apply(event)
        return event

    async def recv_until(self, etype: str, timeout: float = 2.0) -> dict[str, Any]:
        while True:
            event = await self.recv(timeout)
            if event["etype"] == etype:
                return event

    async def answer(self, request: dict[str, Any], value: dict[str, Any]) -> None:
        await self.send({"ts": 0, "etype": request["rtype"], "key": request.get("key"), "value": value})

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> "FakeBrowser":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
