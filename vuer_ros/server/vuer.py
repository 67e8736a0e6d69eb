"""Vuer: the vuer-compatible app (``from vuer_ros import Vuer``).

    app = Vuer()                       # 127.0.0.1:8012; Vuer(port=0) for any free port

    @app.spawn                         # per-browser handler, vuer semantics
    async def main(sess: VuerSession):
        sess.set @ DefaultScene(...)
        frame = await sess.grab_render()

    app.run()                          # blocking; or `async with Vuer(port=0) as app:`

Spawn semantics follow vuer 0.1.6: a handler starts when a browser's INIT
arrives; ``@app.spawn(renderer="headless")`` style filters match INIT fields
(fnmatch patterns); only the first matching handler runs; when it returns (or
raises) that browser's connection is closed; when the browser disconnects the
handler is cancelled. Scene ops on the app or on any session change the one
shared scene.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
import signal
from typing import Any, Awaitable, Callable, Mapping

from ..protocol import ClientEvent
from .app import DEFAULT_HOST, DEFAULT_PORT, VuerServer
from .session import VuerSession

logger = logging.getLogger(__name__)

SpawnFn = Callable[[VuerSession], Awaitable[Any]]
StartupHook = Callable[["Vuer"], Awaitable[Any]]

# vuer options that have no meaning here; accepted so vuer scripts run unchanged
IGNORED_VUER_OPTIONS = frozenset({
    "domain", "client_url", "cors", "ca_cert", "free_port", "queries", "verbose",
    "web_port", "workspace_path", "uri", "WEBSOCKET_MAX_SIZE", "REQUEST_MAX_SIZE",
})


def _matches(info: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for name, pattern in filters.items():
        value = info.get(name)
        if value is None or not fnmatch.fnmatch(str(value), str(pattern)):
            return False
    return True


class _SpawnWrapper:
    """What ``@app.spawn(start=..., **filters)`` returns (vuer's ``.start()`` included)."""

    def __init__(self, app: "Vuer", filters: dict[str, Any], start: bool) -> None:
        self.app, self.filters, self.auto_start = app, filters, start
        self.fn: SpawnFn | None = None

    def __call__(self, fn: SpawnFn) -> "_SpawnWrapper":
        self.fn = fn
        self.app._spawn_handlers.append((fn, self.filters))
        if self.auto_start:
            self.app.start()
        return self

    def start(self, **kwargs: Any) -> None:
        self.app.start(**kwargs)


class Vuer(VuerServer):
    """vuer's ``Vuer`` API on :class:`VuerServer`.

    vuer keyword arguments with no meaning here (``domain``, ``queries``,
    ``free_port``, ...) are accepted and ignored; ``cert``/``key`` (PEM files) serve
    TLS as in vuer; ``token`` sets the access token (off loopback one is required:
    VuerServer); ``queue_len`` sets the backlog
    limit; ``client_root`` the client bundle; ``static_root``/``workspace``
    folders are served at ``/files/workspace/``.
    """

    def __init__(self, host: str | None = None, port: int | None = None, *,
                 client_dir: str | os.PathLike[str] | None = None,
                 mounts: Mapping[str, str | os.PathLike[str]] | None = None,
                 queue_len: int | None = None, **options: Any) -> None:
        # vuer reads VUER_HOST / VUER_PORT from the environment: so do we (port 0 = any free port)
        host = host or os.environ.get("VUER_HOST") or DEFAULT_HOST
        port = int(os.environ.get("VUER_PORT", DEFAULT_PORT)) if port is None else port
        client_dir = client_dir or options.pop("client_root", None)
        workspace = options.pop("static_root", None) or options.pop("workspace", None)
        mounts = dict(mounts or {})
        if isinstance(workspace, (str, os.PathLike)) and str(workspace) not in ("", "."):
            mounts.setdefault("workspace", workspace)
        server_options = {k: options.pop(k) for k in list(options) if k in _SERVER_OPTIONS}
        ignored = sorted(options)
        unknown = [k for k in ignored if k not in IGNORED_VUER_OPTIONS]
        if unknown:
            logger.warning("Vuer(): ignoring unknown options %s", ", ".join(unknown))
        elif ignored:
            logger.debug("Vuer(): ignoring vuer options %s", ", ".join(ignored))
        if queue_len is not None:
            server_options.setdefault("max_backlog_events", queue_len)
        super().__init__(host, port, client_dir=client_dir, mounts=mounts, **server_options)
        self._spawn_handlers: list[tuple[SpawnFn, dict[str, Any]]] = []
        self.startup_hooks: list[StartupHook] = []

    # -- spawn --------------------------------------------------------------------------
    def spawn(self, fn: SpawnFn | None = None, start: bool = False, **filters: Any) -> Any:
        """Register a per-browser handler: ``@app.spawn``, ``@app.spawn(start=True)``,
        ``@app.spawn(renderer="headless")``."""
        wrapper = _SpawnWrapper(self, filters, start)
        if fn is None:
            return wrapper
        wrapper(fn)
        return fn if not start and not filters else wrapper

    def bind(self, fn: Any = None, start: bool = False) -> Any:
        raise NotImplementedError("vuer's generator-style app.bind is not supported by vuer_ros; "
                                  "use @app.spawn with an async handler")

    def _on_init(self, session: VuerSession, event: ClientEvent) -> None:
        matching = [fn for fn, filters in self._spawn_handlers if _matches(session.info, filters)]
        if not matching:
            return
        if len(matching) > 1:
            logger.warning("%d spawn handlers match session %s; only the first (%s) runs",
                           len(matching), session.label, getattr(matching[0], "__name__", matching[0]))
        session.spawn_task(self._run_spawned(matching[0], session),
                           name=f"spawn-{getattr(matching[0], '__name__', 'handler')}-{session.id}")

    async def _run_spawned(self, fn: SpawnFn, session: VuerSession) -> None:
        try:
            await fn(session)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("spawn handler %s failed for session %s; closing it (vuer semantics)",
                             getattr(fn, "__name__", fn), session.label)
        if not session.closed:
            logger.info("spawn handler %s returned; closing session %s (vuer semantics)",
                        getattr(fn, "__name__", fn), session.label)
            await session.close()

    # -- running ------------------------------------------------------------------------------
    async def serve(self) -> "Vuer":
        was_running = self.running
        await super().serve()
        if not was_running:
            for hook in self.startup_hooks:
                await hook(self)
        return self

    def start(self, **_ignored: Any) -> None:
        """Serve until Ctrl-C (blocking, as vuer's ``start``/``run``)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("Vuer.start()/run() block and need their own event loop; "
                               "inside async code use `await app.serve()` (or `async with app:`)")
        try:
            asyncio.run(self._serve_until_cancelled())
        except KeyboardInterrupt:
            logger.info("stopped (Ctrl-C)")
        except asyncio.CancelledError:
            logger.info("stopped (SIGTERM)")

    run = start

    async def _serve_until_cancelled(self) -> None:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        try:  # SIGTERM (systemd, ros2 launch, `timeout`) shuts down as cleanly as Ctrl-C
            loop.add_signal_handler(signal.SIGTERM, lambda: main.cancel() if main else None)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals on this platform
        try:
            await self.serve()
            print(f"vuer_ros: open {self.open_url}", flush=True)
            await asyncio.Event().wait()
        finally:
            await self.stop()


_SERVER_OPTIONS = frozenset({"max_backlog_events", "max_backlog_bytes", "max_message_bytes",
                             "ping_interval", "ping_timeout", "close_timeout", "token", "cert", "key",
                             "tls_dir"})
