"""Test helpers for the server off loopback: real TLS clients (``http.client`` over
``ssl``, the ``websockets`` client), and an address of this machine other than
loopback to bind or connect from."""

from __future__ import annotations

import asyncio
import http.client
import ssl
from typing import Any

from vuer_ros.server.network import machine_addresses


def network_address() -> str | None:
    """A non-loopback IPv4 address of this machine (None: it has none)."""
    return next((a for a in machine_addresses() if ":" not in a), None)


def https_get(port: int, path: str, context: ssl.SSLContext | None, *, host: str = "127.0.0.1",
              headers: dict[str, str] | None = None, source: str | None = None,
              ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET ``path`` sent as given (no normalisation) over TLS (``context``) or plain HTTP (None)."""
    source_address = (source, 0) if source else None
    if context is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection(
            host, port, timeout=5, source_address=source_address)
    else:
        conn = http.client.HTTPSConnection(host, port, timeout=5, context=context,
                                           source_address=source_address)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


async def aget(*args: Any, **kwargs: Any) -> tuple[int, http.client.HTTPMessage, bytes]:
    return await asyncio.to_thread(https_get, *args, **kwargs)
