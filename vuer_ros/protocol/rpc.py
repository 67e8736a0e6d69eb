"""RpcBook: one session's RPCs in flight, sans I/O (no clock, no event loop).

It owns the bookkeeping rules; the server's session is a thin asyncio adapter
that keeps one future per request and does what the book says:

- A request is registered under its ``rtype`` ("<ETYPE>_RESPONSE@<uuid>") with
  a deadline, a number on the caller's own clock (None: no deadline).
- A client event whose etype is a pending ``rtype`` answers that request
  (:class:`Answered`); the request leaves the book.
- :meth:`expire` gives up on requests whose deadline is past (``deadline <=
  now``), :meth:`withdraw` on one its caller stopped waiting for, :meth:`close`
  on all of them (the connection is gone). Their rtypes are remembered (the
  latest ``remember`` of them), so an answer that still comes is told apart:
  :class:`Late` (we asked, then gave up) from :class:`Unknown` (never asked,
  already answered, or given up too long ago to remember).
- An answer carrying ``value.error`` is a failure: :func:`answer_error` gives
  the error to raise (:class:`GrabError` for GRAB_RENDER, else :class:`RpcError`).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass

from .errors import GrabError, RpcError
from .events import RESPONSE_MARK, ClientEvent, ServerRPC

# an error answer to these raises the subclass (the caller may catch just that kind)
_ERROR_TYPES: dict[str, type[RpcError]] = {"GRAB_RENDER": GrabError}


class GaveUp(enum.Enum):
    """Why a request left the book without an answer."""

    TIMED_OUT = "timed out"
    WITHDRAWN = "withdrawn by its caller"
    CLOSED = "the session closed"


@dataclass(frozen=True)
class Pending:
    """A request waiting for its answer."""

    request: ServerRPC
    deadline: float | None


@dataclass(frozen=True)
class Answered:
    """``event`` answers the pending ``request`` (which is no longer pending)."""

    request: ServerRPC
    event: ClientEvent

    def error(self, session: str = "") -> RpcError | None:
        """The error to raise when the browser answered with ``value.error``."""
        return answer_error(self.request, self.event, session)


@dataclass(frozen=True)
class Late:
    """``event`` answers ``request``, which was given up on (``reason``)."""

    request: ServerRPC
    event: ClientEvent
    reason: GaveUp


@dataclass(frozen=True)
class Unknown:
    """``event`` is shaped as an RPC answer but matches no request the book knows."""

    event: ClientEvent


# what a client event is to the book; None: not an RPC answer at all
Match = Answered | Late | Unknown | None


def is_answer_etype(etype: str) -> bool:
    """Whether ``etype`` has the shape of an RPC answer ("<ETYPE>_RESPONSE@<uuid>")."""
    return RESPONSE_MARK in etype


def answer_error(request: ServerRPC, event: ClientEvent, session: str = "") -> RpcError | None:
    """The error an answer carries (``value.error``), typed by the request; None if it has none.

    ``session`` names the browser in the message."""
    value = event.value
    if not isinstance(value, dict) or not value.get("error"):
        return None
    error_type = _ERROR_TYPES.get(request.etype, RpcError)
    return error_type(request.etype, request.key, str(value["error"]), session)


class RpcBook:
    """The RPCs of one session: pending ones by rtype, and the recently given up."""

    def __init__(self, remember: int = 256) -> None:
        if remember < 0:
            raise ValueError(f"remember={remember}: must be >= 0")
        self.remember = remember
        self._pending: dict[str, Pending] = {}
        self._gave_up: OrderedDict[str, tuple[ServerRPC, GaveUp]] = OrderedDict()
        self.closed = False

    # -- requests ---------------------------------------------------------------------
    def register(self, request: ServerRPC, deadline: float | None) -> None:
        """Wait for an answer to ``request`` until ``deadline`` (None: until answered,
        withdrawn or closed)."""
        if self.closed:
            raise RuntimeError(f"{request.etype} key={request.key!r}: the RPC book is closed (session gone)")
        rtype = request.rtype
        if rtype in self._pending:
            raise ValueError(f"{request.etype} key={request.key!r}: rtype {rtype} is already pending")
        self._gave_up.pop(rtype, None)
        self._pending[rtype] = Pending(request, deadline)

    def withdraw(self, rtype: str) -> ServerRPC | None:
        """The caller stopped waiting (cancelled, or gave up itself). Returns the
        request, or None if it was not pending (answered, expired, closed)."""
        pending = self._pending.pop(rtype, None)
        if pending is None:
            return None
        self._forget_later(pending.request, GaveUp.WITHDRAWN)
        return pending.request

    def expire(self, now: float) -> list[ServerRPC]:
        """Give up on the requests whose deadline is ``<= now``, earliest first."""
        due = sorted((p for p in self._pending.values() if p.deadline is not None and p.deadline <= now),
                     key=lambda p: p.deadline if p.deadline is not None else now)
        for pending in due:
            del self._pending[pending.request.rtype]
            self._forget_later(pending.request, GaveUp.TIMED_OUT)
        return [p.request for p in due]

    def close(self) -> list[ServerRPC]:
        """The session is gone: every pending request fails; no more are registered."""
        self.closed = True
        failed = [p.request for p in self._pending.values()]
        self._pending.clear()
        for request in failed:
            self._forget_later(request, GaveUp.CLOSED)
        return failed

    # -- answers ----------------------------------------------------------------------
    def match(self, event: ClientEvent) -> Match:
        """What ``event`` is to the book. A pending request it answers leaves the
        book; a late answer is reported once (a repeat of it is :class:`Unknown`)."""
        pending = self._pending.pop(event.etype, None)
        if pending is not None:
            return Answered(pending.request, event)
        gave_up = self._gave_up.pop(event.etype, None)
        if gave_up is not None:
            request, reason = gave_up
            return Late(request, event, reason)
        if is_answer_etype(event.etype):
            return Unknown(event)
        return None

    # -- introspection ------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """The earliest deadline of a pending request (None: nothing to expire)."""
        deadlines = [p.deadline for p in self._pending.values() if p.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def pending(self) -> list[Pending]:
        """The requests waiting for an answer, oldest first."""
        return list(self._pending.values())

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, rtype: object) -> bool:
        return rtype in self._pending

    # -- internals ---------------------------------------------------------------------
    def _forget_later(self, request: ServerRPC, reason: GaveUp) -> None:
        if self.remember == 0:
            return
        self._gave_up[request.rtype] = (request, reason)
        self._gave_up.move_to_end(request.rtype)
        while len(self._gave_up) > self.remember:
            self._gave_up.popitem(last=False)
