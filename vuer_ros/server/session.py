"""VuerSession: one connected browser, as the seed API sees it.

Scene operations on a session (``sess.set @ ...``, ``sess.update @ ...``) change
the *shared* scene and reach every connected viewer: vuer_ros serves one scene
to many viewers (a robot has one world state), unlike vuer where each session
could diverge. RPCs (``grab_render``, ``grab``) go to this session's browser only.

A session never talks to the socket itself: it queues encoded messages on its
:class:`Outbox` and the server's sender task writes them out. It knows the
server only through the ``broadcast`` callable it was given (scene events go
to every viewer). RPC bookkeeping (matching answers, deadlines, late answers,
error answers) is the sans-I/O :class:`RpcBook` (protocol/rpc.py); the session
keeps one asyncio future per request and one timer for the earliest deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Awaitable, Callable, Coroutine, Mapping

from ..protocol import ClientEvent, GrabRenderRequest, ServerEvent, ServerRPC, encode
from ..protocol.events import SCENE_ETYPES
from ..protocol.rpc import Answered, Match, RpcBook, answer_error
from .errors import GrabError, SessionClosed
from .frames import WIRE_FORMAT, Frame
from .outbox import Outbox
from .scene_ops import SceneOps

logger = logging.getLogger(__name__)


def camera_to_wire(camera: Any) -> dict[str, Any] | None:
    """A grab camera as sent: a dict ``{position, quaternion, fov, near, far}``
    (three.js convention: looks down local -Z) or any object with ``to_wire()``."""
    if camera is None:
        return None
    to_wire = getattr(camera, "to_wire", None)
    wire = to_wire() if to_wire is not None else camera
    if not isinstance(wire, Mapping):
        raise TypeError(f"camera must be a dict {{position, quaternion, fov, near, far}} or have to_wire(); "
                        f"got {type(camera).__name__}")
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in wire.items()}


class VuerSession(SceneOps):
    """A connected browser. Created by the server; users get it from
    ``@app.spawn``, ``app.sessions`` or ``await app.wait_for_session(...)``."""

    def __init__(self, sid: str, outbox: Outbox, broadcast: Callable[[ServerEvent], None], *,
                 remote: str = "", path: str = "/", queue_len: int = 100) -> None:
        self.id = sid
        self.remote = remote
        self.path = path
        self.outbox = outbox
        self._broadcast = broadcast  # the server's: apply to the shared scene, queue for every viewer
        self.info: dict[str, Any] = {}  # the INIT event's value
        self.connected_at = time.monotonic()
        self.initialized = asyncio.Event()
        self.closed = False
        self._closed_event = asyncio.Event()
        self.socket: Any = None  # the websockets connection (vuer's ``session.socket``)
        # the latest client events, newest last (vuer's downlink queue)
        self.downlink_queue: deque[ClientEvent] = deque(maxlen=queue_len)
        self._rpcs = RpcBook()
        # rtype -> (the waiting rpc() call's future, its ttl for the timeout message)
        self._answers: dict[str, tuple[asyncio.Future[ClientEvent], float | None]] = {}
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._waiters: dict[str, list[asyncio.Future[ClientEvent]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- identity ------------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        """The ``id`` query parameter the page was opened with (echoed in INIT)."""
        token = self.info.get("id")
        return token if isinstance(token, str) and token else None

    @property
    def CURRENT_WS_ID(self) -> str:  # noqa: N802 - vuer's name
        return self.id

    def __repr__(self) -> str:
        return f"<VuerSession {self.label}>"

    @property
    def label(self) -> str:
        extra = [self.remote] if self.remote else []
        if self.token:
            extra.append(f"id={self.token}")
        renderer = self.info.get("renderer")
        if isinstance(renderer, str) and renderer:
            extra.append(renderer)
        return f"{self.id} ({', '.join(extra)})" if extra else self.id

    # -- sending -------------------------------------------------------------------------
    def _send_event(self, event: ServerEvent) -> None:
        if event.etype in SCENE_ETYPES:
            self._broadcast(event)  # one scene, many viewers
        else:
            self.send(event)

    def send(self, event: ServerEvent | bytes) -> None:
        """Send one event to this browser only (never dropped when it falls behind)."""
        if self.closed:
            logger.debug("session %s is closed; dropping %s", self.label, getattr(event, "etype", "message"))
            return
        self.outbox.push_rpc(event if isinstance(event, bytes) else encode(event))

    # -- RPC -----------------------------------------------------------------------------
    async def rpc(self, request: ServerRPC, ttl: float | None = 2.0) -> ClientEvent:
        """Send an RPC and wait for the browser's answer.

        Raises ``TimeoutError`` (== ``asyncio.TimeoutError``) when no answer came
        within ``ttl`` seconds; :class:`SessionClosed` (a ``TimeoutError``) at once
        when the browser disconnects while the RPC waits, and after ``ttl`` when
        the session was already closed (so retry loops do not spin);
        :class:`RpcError` / :class:`GrabError` when the browser answered with
        ``value.error``.
        """
        what = f"{request.etype} key={request.key!r}"
        if self.closed:
            # wait as if unanswered: a retry loop like the seed's (`except TimeoutError: continue`)
            # must not spin on a dead session, and a cancel (spawn handler ending) lands here
            await asyncio.sleep(ttl if ttl is not None else 1.0)
            raise SessionClosed(f"{what}: session {self.label} is closed; "
                                "get a live one with app.wait_for_session()")
        message = encode(request)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ClientEvent] = loop.create_future()
        self._rpcs.register(request, None if ttl is None else loop.time() + ttl)
        self._answers[request.rtype] = (future, ttl)
        self._arm_deadline_timer()
        answered = False
        try:
            self.outbox.push_rpc(message)
            # the book's deadline, the answer or the disconnect settles the future; a cancel
            # of this task goes straight through (no wait_for to swallow it)
            event = await future
            answered = True
        finally:
            self._answers.pop(request.rtype, None)
            if not answered:
                if future.done() and not future.cancelled():
                    future.exception()  # settled, then this task was cancelled: nobody else will read it
                self._rpcs.withdraw(request.rtype)  # cancelled: an answer that still comes is late
                self._arm_deadline_timer()
                self.outbox.withdraw(message)  # still queued for a slow client: not worth rendering now
        error = answer_error(request, event, self.label)
        if error is not None:
            raise error
        return event

    async def grab_render(self, quality: float = 0.95, downsample: int = 1, ttl: float = 2.0,
                          key: str = "DEFAULT", **options: Any) -> ClientEvent:
        """Grab a JPEG of view ``key`` (vuer's API): ``response.value["frame"]`` is the JPEG."""
        request = GrabRenderRequest(key, quality=quality, downsample=downsample, **options)
        return await self.rpc(request, ttl=ttl)

    async def grab(self, format: str = "rgb", width: int | None = None, height: int | None = None,
                   camera: Any = None, key: str = "DEFAULT", depth: bool = False,
                   quality: float = 0.95, ttl: float = 2.0, downsample: int | None = None) -> Frame:
        """Grab a render decoded into a :class:`Frame` (``.rgb`` top-down uint8,
        ``.depth`` float32 metres or None, ``.encoded`` for jpeg/png).

        ``format="rgb"`` transfers raw pixels (fastest); ``camera`` renders from
        ``{position, quaternion, fov, near, far}`` (three.js convention) for this
        grab only.
        """
        wire_format = WIRE_FORMAT.get(format)
        if wire_format is None:
            raise ValueError(f"format {format!r}: use one of 'rgb', 'jpeg', 'png'")
        request = GrabRenderRequest(
            key, format=wire_format, width=width, height=height, camera=camera_to_wire(camera),
            depth=True if depth else None, quality=quality if wire_format == "jpeg" else None,
            downsample=downsample)
        event = await self.rpc(request, ttl=ttl)
        try:
            return Frame.from_response(event, format, depth=depth)
        except GrabError as e:
            raise GrabError("GRAB_RENDER", key, f"{e.error} (session {self.label})") from None

    # -- waiting for client events -------------------------------------------------------
    async def till(self, etype: str, timeout: float | None = None) -> ClientEvent:
        """Wait for the next client event of type ``etype`` from this browser."""
        future: asyncio.Future[ClientEvent] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(etype, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            waiters = self._waiters.get(etype, [])
            if future in waiters:
                waiters.remove(future)

    async def forever(self) -> None:
        """Wait until this browser disconnects."""
        await self._closed_event.wait()

    def spawn_task(self, coro: Coroutine[Any, Any, Any] | Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run a background task that is cancelled when this session closes."""
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    async def flush(self, timeout: float | None = 2.0) -> bool:
        """Wait until everything queued for this browser went out; False on timeout."""
        try:
            await asyncio.wait_for(self.outbox.drained(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self, flush_timeout: float = 2.0) -> None:
        """Send what is queued (up to ``flush_timeout`` s), then close the connection."""
        if self.socket is not None and not self.closed:
            await self.flush(flush_timeout)
            await self.socket.close()

    # -- client messages popped by the vuer-style API ---------------------------------------
    def popleft(self) -> ClientEvent | None:
        return self.downlink_queue.popleft() if self.downlink_queue else None

    def pop(self) -> ClientEvent | None:
        return self.downlink_queue.pop() if self.downlink_queue else None

    def clear(self) -> None:
        self.downlink_queue.clear()

    # -- called by the server --------------------------------------------------------------
    def _deliver(self, event: ClientEvent) -> Match:
        """Hand a client event to a waiting RPC, or else to ``till`` waiters and the
        downlink queue; returns what the event is to the RPC book (the server logs
        late and unknown answers)."""
        match = self._rpcs.match(event)
        if isinstance(match, Answered):
            waiting = self._answers.get(event.etype)
            if waiting is not None and not waiting[0].done():
                waiting[0].set_result(event)
            self._arm_deadline_timer()
            return match
        for future in self._waiters.pop(event.etype, []):
            if not future.done():
                future.set_result(event)
        self.downlink_queue.append(event)
        return match

    def _close(self) -> None:
        """The connection is gone: fail pending RPCs at once, stop tasks, drop the outbox."""
        if self.closed:
            return
        self.closed = True
        self._closed_event.set()
        self.outbox.close()
        self._cancel_deadline_timer()
        for request in self._rpcs.close():
            self._fail(request, SessionClosed(
                f"{request.etype} key={request.key!r}: session {self.label} disconnected before answering"))
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(SessionClosed(f"session {self.label} disconnected"))
        self._waiters.clear()
        for task in list(self._tasks):
            task.cancel()

    # -- RPC deadlines: one timer, at the book's earliest deadline ------------------------------
    def _arm_deadline_timer(self) -> None:
        deadline = self._rpcs.next_deadline()
        timer = self._deadline_timer
        if timer is not None and timer.when() == deadline:
            return
        self._cancel_deadline_timer()
        if deadline is not None:
            self._deadline_timer = asyncio.get_running_loop().call_at(deadline, self._on_deadline)

    def _cancel_deadline_timer(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        for request in self._rpcs.expire(asyncio.get_running_loop().time()):
            waiting = self._answers.get(request.rtype)
            ttl = waiting[1] if waiting is not None else None
            self._fail(request, TimeoutError(
                f"{request.etype} key={request.key!r}: no answer from session {self.label} within ttl={ttl} s"))
        self._arm_deadline_timer()  # the next one (or this one again if the clock woke us a hair early)

    def _fail(self, request: ServerRPC, error: BaseException) -> None:
        waiting = self._answers.get(request.rtype)
        if waiting is not None and not waiting[0].done():
            waiting[0].set_exception(error)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("task %s of session %s failed: %r", task.get_name(), self.label, exc, exc_info=exc)
