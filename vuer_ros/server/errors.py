"""Errors raised by the server layer; each message says what to do about it.

:class:`RpcError` and :class:`GrabError` (an answer carrying ``value.error``)
are the protocol's (protocol/errors.py) and are re-exported here, where users
of the server look for them.
"""

from __future__ import annotations

from ..protocol.errors import GrabError, RpcError

__all__ = ["GrabError", "RpcError", "ServerError", "SessionClosed"]


class ServerError(Exception):
    """Base class of the server layer's own errors."""


class SessionClosed(ServerError, TimeoutError):
    """The session's websocket closed before the RPC was answered.

    A ``TimeoutError`` (== ``asyncio.TimeoutError``), so ``except
    asyncio.TimeoutError`` around a grab keeps working; it is raised at once
    instead of at the ttl. Wait for a new session (``app.wait_for_session``).
    """
