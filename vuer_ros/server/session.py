"""VuerSession: one connected browser, as the seed API sees it.

Scene operations on a session (``sess.set @ ...``, ``sess.update @ ...``) change
the *shared* scene and reach every connected viewer: vuer_ros serves one scene
to many viewers (a robot has one world state), unlike vuer where each session
could diverge. RPCs (``grab_render``, ``grab``) go to this session's browser only.

A session never talks to the socket itself: it queues encoded messages on its
:class:`Outbox` and the server's sender task writes them out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Awaitable, Coroutine, Mapping

from ..protocol import ClientEvent, GrabRenderRequest, ServerEvent, ServerRPC, encode
from ..protocol.events import SCENE_ETYPES
from .errors import GrabError, RpcError, SessionClosed
from .frames import WIRE_FORMAT, Frame
from .outbox import Outbox
from .scene_ops import SceneOps

if TYPE_CHECKING:
    from .app import VuerServer

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

    def __init__(self, server: "VuerServer", sid: str, outbox: Outbox, remote: str = "",
                 path: str = "/", queue_len: int = 100) -> None:
        self.server = server
        self.id = sid
        self.remote = remote
        self.path = path
        self.outbox = outbox
        self.info: dict[str, Any] = {}  # the INIT event's value
        self.connected_at = time.monotonic()
        self.initialized = asyncio.Event()
        self.closed = False
        self._closed_event = asyncio.Event()
        self.socket: Any = None  # the websockets connection (vuer's ``session.socket``)
        # the latest client events, newest last (vuer's downlink queue)
        self.downlink_queue: deque[ClientEvent] = deque(maxlen=queue_len)
        self._pending: dict[str, tuple[asyncio.Future[ClientEvent], ServerRPC]] = {}
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
            self.server.broadcast(event)  # one scene, many viewers
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
        future: asyncio.Future[ClientEvent] = asyncio.get_running_loop().create_future()
        self._pending[request.rtype] = (future, request)
        message = encode(request)
        answered = False
        try:
            self.outbox.push_rpc(message)
            try:
                # not wait_for: on Python 3.11 it swallows a cancel that lands together with
                # SessionClosed, and a seed loop catching TimeoutError then spins forever
                async with asyncio.timeout(ttl):
                    event = await future
                answered = True
            except asyncio.TimeoutError as e:
                if isinstance(e, SessionClosed):
                    raise
                raise asyncio.TimeoutError(
                    f"{what}: no answer from session {self.label} within ttl={ttl} s") from None
        finally:
            self._pending.pop(request.rtype, None)
            if not answered:
                self.outbox.withdraw(message)  # still queued for a slow client: not worth rendering now
        value = event.value
        if isinstance(value, dict) and value.get("error"):
            error_type = GrabError if request.etype == "GRAB_RENDER" else RpcError
            raise error_type(request.etype, request.key, str(value["error"]), self.label)
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
    def _deliver(self, event: ClientEvent) -> bool:
        """Hand a client event to a waiting RPC or ``till``; True if it was an RPC answer."""
        pending = self._pending.get(event.etype)
        if pending is not None:
            future, _ = pending
            if not future.done():
                future.set_result(event)
            return True
        for future in self._waiters.pop(event.etype, []):
            if not future.done():
                future.set_result(event)
        self.downlink_queue.append(event)
        return False

    def _close(self) -> None:
        """The connection is gone: fail pending RPCs at once, stop tasks, drop the outbox."""
        if self.closed:
            return
        self.closed = True
        self._closed_event.set()
        self.outbox.close()
        for future, request in list(self._pending.values()):
            if not future.done():
                future.set_exception(SessionClosed(
                    f"{request.etype} key={request.key!r}: session {self.label} disconnected before answering"))
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(SessionClosed(f"session {self.label} disconnected"))
        self._waiters.clear()
        for task in list(self._tasks):
            task.cancel()

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("task %s of session %s failed: %r", task.get_name(), self.label, exc, exc_info=exc)
