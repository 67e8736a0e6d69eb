"""Errors raised by the server layer; each message says what to do about it."""

from __future__ import annotations


class ServerError(Exception):
    """Base class of the server layer's errors."""


class RpcError(ServerError):
    """The browser answered an RPC with ``value.error`` instead of a result."""

    def __init__(self, etype: str, key: str | None, message: str, session: str = "") -> None:
        self.etype = etype
        self.key = key
        self.error = message
        where = f" from session {session}" if session else ""
        super().__init__(f"{etype} key={key!r}{where} failed in the browser: {message}")


class GrabError(RpcError):
    """A GRAB_RENDER the browser could not serve (unknown view key, bad size, ...),
    or a frame that does not match what was asked for."""


class SessionClosed(TimeoutError):
    """The session's websocket closed before the RPC was answered.

    A ``TimeoutError`` (== ``asyncio.TimeoutError``), so ``except
    asyncio.TimeoutError`` around a grab keeps working; it is raised at once
    instead of at the ttl. Wait for a new session (``app.wait_for_session``).
    """

