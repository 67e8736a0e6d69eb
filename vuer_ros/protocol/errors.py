"""Errors an RPC answer can carry: the browser answered with ``value.error``
instead of a result. Raised by the server's sessions; defined here because
telling them apart is protocol (see rpc.py), not I/O."""

from __future__ import annotations


class RpcError(Exception):
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
