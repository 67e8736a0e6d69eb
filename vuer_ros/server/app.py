"""VuerServer: one port serving the client bundle over HTTP and the scene
channel over a websocket, with one shared scene and many sessions.

- Access: on loopback (the default) everything is open, as before. Bound to any
  other address the server speaks TLS only (:mod:`.tls`: given files or a
  self-signed certificate made once) and every request needs the access token
  (:mod:`.access`: given or random per start); the URL to open carries it and is
  logged with a QR code. A request without it gets 401, a websocket without it is
  closed with 1008 before anything of the scene is sent.
- HTTP (no upgrade): :class:`StaticFiles` answers from ``process_request``.
- Websocket upgrade: a :class:`VuerSession` with its own :class:`Outbox` and
  sender task. Its first message is one SET of the current scene.
- Scene events are applied to the :class:`SharedScene`, encoded once and
  queued on every session; a session that falls behind has its backlog
  replaced by one SET of the current scene (see outbox.py). Sessions running
  the Vuer client get both in its form (vuer_clients.py).
- Browser messages: RPC answers go to the waiting ``rpc()``; INIT fills
  ``session.info``; every event goes to the handlers registered with ``on()``.
  A malformed message is logged (once per cause and session) and skipped.

Scene operations may be called from any thread: calls from outside the
event loop are handed to it (``call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import http
import inspect
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import urlencode

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from ..protocol import ClientEvent, DecodeError, ServerEvent, encode
from ..protocol.codec import MAX_CLIENT_MESSAGE, decode_client_event
from ..protocol.events import SCENE_ETYPES
from ..protocol.rpc import Answered, Late, Unknown
from .access import TOKEN_QUERY, AccessGuard, RefusalLog, check_token, new_token
from .logs import ThrottledLog
from .network import certificate_names, is_loopback, is_wildcard, reach_hosts, url_host
from .outbox import RESYNC, Outbox
from .qr import qr_text
from .scene_ops import SceneOps
from .session import VuerSession
from .shared_scene import SharedScene
from .static import StaticFiles, default_client_dir
from .tls import TlsIdentity, load_identity, self_signed_identity
from .vuer_clients import VuerClients

logger = logging.getLogger(__name__)
# websockets logs every HTTP GET and connection at INFO; keep that quiet unless asked for
_ws_logger = logging.getLogger(__name__ + ".websockets")
if _ws_logger.level == logging.NOTSET:
    _ws_logger.setLevel(logging.WARNING)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8012

Handler = Callable[[ClientEvent, VuerSession], "Awaitable[Any] | Any"]
SessionPredicate = Callable[[VuerSession], bool]


class VuerServer(SceneOps):
    """The scene server. ``async with VuerServer(port=0) as server: ...``

    Args:
        host: interface to bind; 127.0.0.1 by default (anything wider is an explicit
            choice, and needs TLS and the access token).
        port: TCP port; 0 picks a free one (read it back from ``server.port``).
        client_dir: the built browser client (default ``$VUER_ROS_CLIENT_DIR`` or
            ``vuer_ros/client_build``).
        mounts: ``{name: folder}`` served read-only at ``/files/<name>/``.
        max_backlog_events, max_backlog_bytes: a session with more queued scene
            events than this gets one SET of the current scene instead.
        max_message_bytes: larger browser messages are logged and dropped
            (the connection is closed only past 4x this).
        ping_interval, ping_timeout: websocket keepalive (None: off).
        token: the access token (8-128 of ``A-Z a-z 0-9 . _ ~ -``). Empty or None: a
            random one per start off loopback, none on loopback.
        cert, key: PEM files of the TLS certificate (chain) and its key; with them the
            server speaks TLS on loopback too. Without them off loopback: the
            self-signed certificate kept in ``tls_dir`` (default
            ``$ROS_HOME/vuer_ros/tls``, made on first use).
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                 client_dir: str | os.PathLike[str] | None = None,
                 mounts: Mapping[str, str | os.PathLike[str]] | None = None,
                 max_backlog_events: int = 256, max_backlog_bytes: int = 64 * 1024 * 1024,
                 max_message_bytes: int = MAX_CLIENT_MESSAGE,
                 ping_interval: float | None = 20.0, ping_timeout: float | None = 20.0,
                 close_timeout: float = 2.0, token: str | None = None,
                 cert: str | os.PathLike[str] | None = None, key: str | os.PathLike[str] | None = None,
                 tls_dir: str | os.PathLike[str] | None = None) -> None:
        self.host = host
        # off loopback: TLS and a token, always (the scene and the robot's meshes are not public)
        self.on_network = not is_loopback(host)
        if bool(cert) != bool(key):
            raise ValueError(f"TLS needs both a certificate and its key (got cert={cert!r}, key={key!r})")
        self._tls_files = (cert, key) if cert and key else None
        self._tls_dir = tls_dir
        self.tls: TlsIdentity | None = None   # the certificate in use, once serving
        if token:
            check_token(token)
        self.access = AccessGuard(token or (new_token() if self.on_network else None),
                                  secure=self.uses_tls)
        self._refusals = RefusalLog(logger)
        self._requested_port = int(port)
        self._bound_port: int | None = None
        self.static = StaticFiles(Path(client_dir) if client_dir else default_client_dir(),
                                  {k: Path(v) for k, v in (mounts or {}).items()})
        self.scene = SharedScene()
        self.vuer_clients = VuerClients(self.scene)  # sessions running the Vuer client (vuer_clients.py)
        self.max_backlog_events = max_backlog_events
        self.max_backlog_bytes = max_backlog_bytes
        self.max_message_bytes = max_message_bytes
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self._sessions: dict[str, VuerSession] = {}
        self._handlers: dict[str, dict[int, Handler]] = {}
        self._handler_ids = iter(range(1, 1 << 62))
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._changed = asyncio.Event()
        self._bad_messages = ThrottledLog(logger, interval=10.0)

    # -- lifecycle ----------------------------------------------------------------------------
    async def serve(self) -> "VuerServer":
        """Start listening (returns at once; see :meth:`serve_forever`)."""
        if self._server is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._changed = asyncio.Event()
        ssl_context = None
        if self.uses_tls:
            self.tls = await asyncio.to_thread(self._tls_identity)
            ssl_context = self.tls.server_context()
        if not self.static.bundle_ready:
            logger.warning("browser client not built: %s is missing; GET / shows how to build it "
                           "(cd web && npm ci && npm run build, or set VUER_ROS_CLIENT_DIR)",
                           self.static.client_dir / "index.html")
        self._server = await serve(
            self._handle_connection, self.host, self._requested_port,
            process_request=self._process_request,
            compression=None,  # permessage-deflate slows raw frames by 30-50%
            max_size=max(self.max_message_bytes * 4, 1 << 20),
            ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
            close_timeout=self.close_timeout,
            logger=_ws_logger,
            ssl=ssl_context,
        )
        sock = next(iter(self._server.sockets))
        self._bound_port = int(sock.getsockname()[1])
        self._log_where()
        return self

    def _tls_identity(self) -> TlsIdentity:
        if self._tls_files is not None:
            return load_identity(*self._tls_files)
        return self_signed_identity(certificate_names(self.host), self._tls_dir)

    def _log_where(self) -> None:
        if not self.uses_tls and not self.access.required:
            logger.info("vuer_ros server at %s (websocket on the same port)", self.url)
            return
        what = []
        if self.tls is not None:
            origin = "self-signed certificate" if self.tls.generated else "certificate"
            what.append(f"TLS with the {origin} {self.tls.cert_path}, SHA-256 fingerprint {self.tls.fingerprint}")
        if self.access.required:
            what.append("the access token is in the URL")
        others = [url_host(h) for h in reach_hosts(self.host)[1:]] if self.on_network else []
        also = f"; the same URL also works with the host {', '.join(others)}" if others else ""
        logger.info("vuer_ros server at %s (websocket on the same port; %s%s)", self.open_url,
                    "; ".join(what), also)
        if self.on_network:
            logger.info("scan to open it on a headset or phone:\n%s", qr_text(self.open_url))

    async def serve_forever(self) -> None:
        await self.serve()
        assert self._server is not None
        await self._server.serve_forever()

    async def stop(self) -> None:
        """Close every session and stop listening."""
        server, self._server = self._server, None
        if server is None:
            return
        self._loop = self._loop_thread = None
        server.close()  # closes connections with 1001 (going away)
        try:
            await asyncio.wait_for(server.wait_closed(), self.close_timeout + 3.0)
        except asyncio.TimeoutError:
            logger.warning("some connections did not close within %.1f s", self.close_timeout + 3.0)
        for session in list(self._sessions.values()):
            session._close()
        self._sessions.clear()
        self._notify()

    async def __aenter__(self) -> "VuerServer":
        return await self.serve()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (the requested one until started)."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def uses_tls(self) -> bool:
        """Speaks TLS: certificate files were given, or it is bound off loopback."""
        return self._tls_files is not None or self.on_network

    @property
    def scheme(self) -> str:
        return "https" if self.uses_tls else "http"

    @property
    def token(self) -> str | None:
        """The access token every request needs (None: none needed)."""
        return self.access.token

    @property
    def url(self) -> str:
        """The client page as this machine reaches it, e.g. ``http://127.0.0.1:8012/``
        (no token: see :attr:`open_url` and :meth:`with_token`)."""
        host = "127.0.0.1" if is_wildcard(self.host) else self.host
        return f"{self.scheme}://{url_host(host)}:{self.port}/"

    @property
    def ws_url(self) -> str:
        """The websocket as this machine reaches it (no token)."""
        return "ws" + self.url[len("http"):]

    @property
    def open_url(self) -> str:
        """The URL a person opens (logged, and shown as a QR code off loopback): a
        host other machines reach, and the access token."""
        host = reach_hosts(self.host)[0] if self.on_network else \
            ("127.0.0.1" if is_wildcard(self.host) else self.host)
        return self.with_token(f"{self.scheme}://{url_host(host)}:{self.port}/")

    def with_token(self, url: str) -> str:
        """``url`` with the access token added to its query (unchanged when none is needed)."""
        if self.access.token is None:
            return url
        return f"{url}{'&' if '?' in url else '?'}{urlencode({TOKEN_QUERY: self.access.token})}"

    def mount(self, name: str, root: str | os.PathLike[str]) -> str:
        """Serve ``root`` read-only at ``/files/<name>/``; returns the absolute URL prefix."""
        return self.url.rstrip("/") + self.static.mount(name, root)

    # -- sessions ---------------------------------------------------------------------------------
    @property
    def sessions(self) -> list[VuerSession]:
        """Connected sessions, oldest first."""
        return list(self._sessions.values())

    async def wait_for_session(self, predicate: SessionPredicate | None = None, *, id: str | None = None,
                               timeout: float | None = 10.0) -> VuerSession:
        """A connected session that has sent INIT and matches ``predicate`` /
        the ``id`` token of its page URL; waits up to ``timeout`` seconds."""

        def matches(s: VuerSession) -> bool:
            if s.closed or not s.initialized.is_set():
                return False
            if id is not None and s.token != id:
                return False
            return predicate(s) if predicate is not None else True

        async def wait() -> VuerSession:
            while True:
                changed = self._changed
                for s in self._sessions.values():
                    if matches(s):
                        return s
                await changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            want = f"id={id!r}" if id is not None else "a matching session"
            raise asyncio.TimeoutError(
                f"no browser session ({want}) sent INIT within {timeout} s; open {self.open_url} "
                f"({len(self._sessions)} connected now)") from None

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- handlers -------------------------------------------------------------------------------
    def on(self, etype: str, handler: Handler | None = None) -> Any:
        """Call ``handler(event, session)`` for every client event of ``etype``
        (sync or async). Returns a function that removes it; also a decorator."""
        if handler is None:
            def decorator(fn: Handler) -> Handler:
                self.on(etype, fn)
                return fn
            return decorator
        hid = next(self._handler_ids)
        self._handlers.setdefault(etype, {})[hid] = handler

        def remove() -> None:
            self._handlers.get(etype, {}).pop(hid, None)
        return remove

    def add_handler(self, event_type: str, fn: Handler | None = None, once: bool = False) -> Any:
        """vuer's spelling of :meth:`on` (``once=True``: removed after the first call)."""
        if fn is None:
            return lambda f: self.add_handler(event_type, f, once=once)
        if not once:
            return self.on(event_type, fn)
        removers: list[Callable[[], None]] = []

        def once_fn(event: ClientEvent, session: VuerSession) -> Any:
            removers[0]()
            return fn(event, session)
        removers.append(self.on(event_type, once_fn))
        return removers[0]

    # -- scene ------------------------------------------------------------------------------------
    def broadcast(self, event: ServerEvent) -> None:
        """Apply a scene event to the shared scene and queue it for every session;
        any other event is queued (never dropped) for every session."""
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self.broadcast, event)
            return
        if event.etype in SCENE_ETYPES:
            wire = self.scene.apply_wire(event)
            message = encode(wire)
            # Vuer clients get the event in their form, translated once for all of them
            vuer_message = self.vuer_clients.event_message(wire) if self.vuer_clients.sessions else b""
            for session in self._sessions.values():
                if session.outbox.push_scene(vuer_message if self.vuer_clients.is_vuer(session) else message,
                                             event.coalesce_key):
                    episode = session.outbox.episode
                    assert episode is not None
                    logger.warning(
                        "session %s fell behind: %d queued scene events (%.1f MiB) dropped, to be replaced "
                        "by one SET of the current scene (episode %d for this client)",
                        session.label, episode.events, episode.bytes / 2**20, session.outbox.episodes)
        else:
            message = encode(event)
            for session in self._sessions.values():
                session.outbox.push_rpc(message)

    def _send_event(self, event: ServerEvent) -> None:
        self.broadcast(event)

    # -- HTTP -----------------------------------------------------------------------------------------
    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # the scene channel: the token is checked before the session starts
        verdict = self.access.check(request.path, request.headers, self.port)
        if not verdict.allowed:
            self._refusals.note(_address(connection.remote_address),
                                f"GET {request.path.split('?', 1)[0][:200]}", verdict)
            reply = self.access.refused(verdict)
        else:
            reply = await asyncio.to_thread(self.static.reply, request.path)
            if verdict.set_cookie:
                reply.headers.append(self.access.set_cookie(self.port))
        if reply.status == 503:
            logger.warning("GET %s: the browser client is not built (%s missing)", request.path,
                           self.static.client_dir / "index.html")
        return Response(reply.status, http.HTTPStatus(reply.status).phrase, Headers(reply.headers), reply.body)

    # -- websocket --------------------------------------------------------------------------------------
    async def _handle_connection(self, ws: ServerConnection) -> None:
        remote = ws.remote_address
        remote_str = f"{remote[0]}:{remote[1]}" if isinstance(remote, tuple) and len(remote) >= 2 else ""
        path = ws.request.path if ws.request is not None else "/"
        headers = ws.request.headers if ws.request is not None else Headers()
        verdict = self.access.check(path, headers, self.port, websocket=True)
        if not verdict.allowed:   # before any session exists: nothing of the scene is sent
            self._refusals.note(_address(remote), "a websocket", verdict)
            await ws.close(CloseCode.POLICY_VIOLATION, self.access.close_reason(verdict))
            return
        sid = uuid.uuid4().hex[:8]
        outbox = Outbox(self.max_backlog_events, self.max_backlog_bytes)
        session = self._make_session(sid, outbox, remote_str, path)
        session.socket = ws
        outbox.request_resync()  # first message: one SET of the current scene
        self._sessions[sid] = session
        logger.info("session %s connected (%d connected)", session.label, len(self._sessions))
        sender = asyncio.create_task(self._sender(ws, session), name=f"vuer-send-{sid}")
        self._notify()
        try:
            await self._receive(ws, session)
        finally:
            session._close()
            sender.cancel()
            self._sessions.pop(sid, None)
            self.vuer_clients.forget(session)
            self._bad_messages.forget(lambda cause: isinstance(cause, tuple) and cause[0] == sid)
            self._notify()
            logger.info("session %s disconnected (code %s; %d connected)", session.label,
                        ws.close_code, len(self._sessions))
            try:
                await sender
            except (asyncio.CancelledError, Exception):
                pass

    def _make_session(self, sid: str, outbox: Outbox, remote: str, path: str) -> VuerSession:
        return VuerSession(sid, outbox, self.broadcast, remote=remote, path=path)

    async def _sender(self, ws: ServerConnection, session: VuerSession) -> None:
        outbox = session.outbox
        try:
            while True:
                item = await outbox.get()
                if item is RESYNC:
                    message = (self.vuer_clients.snapshot_message() if self.vuer_clients.is_vuer(session)
                               else self.scene.snapshot_message())
                    episode = outbox.end_episode()
                    if episode is not None:
                        logger.info("session %s caught up: one SET replaced %d scene events (%.1f MiB)",
                                    session.label, episode.events, episode.bytes / 2**20)
                else:
                    assert isinstance(item, bytes)
                    message = item
                await ws.send(message)
                outbox.sent()
        except (EOFError, ConnectionClosed):
            pass
        except Exception:
            logger.exception("sending to session %s failed; closing it", session.label)
            await ws.close(1011, "server error")

    async def _receive(self, ws: ServerConnection, session: VuerSession) -> None:
        try:
            async for message in ws:
                self._on_message(session, message)
        except ConnectionClosed:
            pass

    def _on_message(self, session: VuerSession, message: str | bytes) -> None:
        try:
            event = decode_client_event(message, self.max_message_bytes)
        except DecodeError as e:
            self._bad(session, e.cause, "%s; dropped", e)
            return
        match = session._deliver(event)
        if isinstance(match, Answered):
            return
        if isinstance(match, Late):
            self._bad(session, "late-rpc", "answer to %s key=%r arrived after its RPC gave up (%s); dropped",
                      match.request.etype, match.request.key, match.reason.value)
            return
        if isinstance(match, Unknown):
            self._bad(session, "unknown-rpc", "answer %s matches no RPC this session is waiting for (never "
                      "asked, answered already, or arrived after its RPC gave up long ago); dropped",
                      event.etype)
            return
        if event.etype == "INIT":
            session.info = event.value if isinstance(event.value, dict) else {}
            first = not session.initialized.is_set()
            session.initialized.set()
            logger.info("session %s: INIT %s", session.label,
                        {k: v for k, v in session.info.items() if k != "userAgent"})
            self._notify()
            if first:
                self.vuer_clients.on_init(session)
                self._on_init(session, event)
        for handler in list(self._handlers.get(event.etype, {}).values()):
            try:
                result = handler(event, session)
                if inspect.isawaitable(result):
                    session.spawn_task(result, name=f"on-{event.etype}")
            except Exception:
                logger.exception("handler %r for %s from session %s failed",
                                 getattr(handler, "__name__", handler), event.etype, session.label)

    def _on_init(self, session: VuerSession, event: ClientEvent) -> None:
        """Hook for subclasses: the session's first INIT arrived."""

    def _bad(self, session: VuerSession, cause: str, msg: str, *args: Any) -> None:
        self._bad_messages.warning((session.id, cause), "session %s: " + msg, session.label, *args)


def _address(remote: Any) -> str:
    """The client's address (without its port: one browser opens many connections)."""
    return str(remote[0]) if isinstance(remote, tuple) and remote else ""
