"""RenderSession: the scene server and the browser that renders it, and grabs from it.

One for the live node and one per offline render, the same code:
- the :class:`VuerServer` (one port: client page, meshes, the scene websocket);
- the renderer: a supervised headless Chromium (``headless=True``: started,
  restarted by its own watchdog, rebuilt from scratch with backoff when the
  watchdog gives up or its page stays gone), or the first browser a user
  opened at the URL (``headless=False``; warned about, once, while there is none);
- :meth:`grab`: one frame from a :class:`RenderCamera`, with the size checked;
  a failed attempt waits for the renderer to come back and tries again, up to
  ``attempts``; a grab that timed out lets the next one wait twice as long (up
  to 60 s), so a scene heavier than the timeout still renders, slowly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from ..protocol.events import ServerEvent
from ..render.browser import BrowserError, HeadlessBrowser
from ..render.camera import RenderCamera
from ..server import Frame, GrabError, VuerServer, VuerSession
from ..server.errors import RpcError, SessionClosed
from .errors import RendererError

logger = logging.getLogger("vuer_ros.view")

# A browser whose page stays gone this long is rebuilt from scratch.
BROWSER_DEAD_S = 60.0
# A grab that timed out lets the next one wait up to twice as long, up to this.
MAX_GRAB_TIMEOUT_S = 60.0
# Chromium's window is at least this wide; grabs ask for their exact size anyway.
MIN_WINDOW_WIDTH = 500


class RenderSession:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, headless: bool = True,
                 width: int = 640, height: int = 480, grab_timeout: float = 10.0,
                 client_dir: str | None = None,
                 executable: str | os.PathLike[str] | None = None,
                 token: str = "", cert: str = "", key: str = "") -> None:
        self.server = VuerServer(host, port, client_dir=client_dir, token=token or None,
                                 cert=cert or None, key=key or None)
        self.headless = headless
        self.width, self.height = width, height
        self.grab_timeout = grab_timeout
        self.executable = executable
        self.browser: HeadlessBrowser | None = None
        self._ttl = grab_timeout
        self._supervisor: asyncio.Task[None] | None = None
        self._first_start: asyncio.Future[None] | None = None
        self._stopping = False
        self._no_browser_warned = False

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    @property
    def open_url(self) -> str:
        """The URL a person opens (with the access token, when one is needed)."""
        return self.server.open_url

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self, *, wait: bool = False) -> "RenderSession":
        """Serve, and start the headless renderer in the background. ``wait``: return
        once it renders, raising :class:`RendererError` if it cannot start (offline
        rendering); otherwise a failed start is logged and retried with backoff."""
        await self.server.serve()
        if not self.headless:
            return self
        if wait and not self.server.static.bundle_ready:
            await self.server.stop()
            raise RendererError(f"the browser client is not built ({self.server.static.client_dir} "
                                "has no index.html); run `bash scripts/setup.sh`")
        self._first_start = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(give_up=wait), name="vuer-browser")
        if wait:
            try:
                await self._first_start
            except BaseException:
                await self.stop()
                raise
        return self

    async def stop(self) -> None:
        """Stop the renderer (Chromium killed, its profile removed) and the server."""
        self._stopping = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            try:
                await supervisor
            except (asyncio.CancelledError, Exception):
                pass
        browser, self.browser = self.browser, None
        if browser is not None:
            await browser.stop()
        await self.server.stop()

    def kill(self) -> None:
        """Last resort from another thread: kill Chromium now (its loop is gone)."""
        if self.browser is not None:
            self.browser._kill_sync()

    async def __aenter__(self) -> "RenderSession":
        return await self.start(wait=True)

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _supervise(self, give_up: bool) -> None:
        """Keep one headless browser alive: start it (retrying with backoff), and
        rebuild it if its own watchdog gives up or its page stays gone."""
        backoff = 1.0
        first = self._first_start
        while not self._stopping:
            browser = HeadlessBrowser(self.server, max(self.width, MIN_WINDOW_WIDTH), self.height,
                                      executable=self.executable)
            try:
                await browser.start()
            except BrowserError as e:
                await browser.stop()
                if give_up and first is not None and not first.done():
                    first.set_exception(RendererError(str(e).splitlines()[0]))
                    return
                logger.error("cannot start the headless renderer (retrying in %.0f s): %s",
                             backoff, e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2.0, 30.0)
                continue
            backoff = 1.0
            self.browser = browser
            logger.info("headless renderer ready (Chromium pid %s, %dx%d)", browser.pid,
                        self.width, self.height)
            if first is not None and not first.done():
                first.set_result(None)
            await self._watch(browser)
            self.browser = None
            await browser.stop()

    async def _watch(self, browser: HeadlessBrowser) -> None:
        gone_since: float | None = None
        while not self._stopping:
            await asyncio.sleep(1.0)
            watchdog = browser._watchdog
            if watchdog is not None and watchdog.done():
                logger.error("the headless renderer's watchdog stopped; rebuilding the renderer")
                return
            try:
                _ = browser.session   # raises while it has no live page
                gone_since = None
            except BrowserError:
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since > BROWSER_DEAD_S:
                    logger.error("the headless renderer has had no page for %.0f s; rebuilding it",
                                 BROWSER_DEAD_S)
                    return

    # -- the scene ---------------------------------------------------------------------------------
    def broadcast(self, event: ServerEvent) -> None:
        self.server.broadcast(event)

    def mount(self, name: str, root: Any) -> str:
        """Serve folder ``root`` read-only; its root-relative URL prefix (``/files/<name>/``)."""
        absolute = self.server.mount(name, root)
        return absolute[len(self.server.url.rstrip("/")):]

    def embed(self, data: bytes, suffix: str, owner: object) -> str:
        """Serve ``data`` from memory while ``owner`` lives; its root-relative URL."""
        return self.server.static.blobs.hold(data, suffix, owner)

    # -- grabbing ----------------------------------------------------------------------------------
    def render_session(self) -> VuerSession | None:
        """The browser session to grab from now (None: none yet, or restarting)."""
        if self.headless:
            browser = self.browser
            if browser is None:
                return None
            try:
                return browser.session
            except BrowserError:
                return None
        sessions = [s for s in self.server.sessions if s.initialized.is_set() and not s.closed]
        if not sessions:
            if not self._no_browser_warned:
                self._no_browser_warned = True
                logger.warning("render.headless is false and no browser is connected: open %s to "
                               "render images (no images are published until one connects)",
                               self.server.open_url)
            return None
        if self._no_browser_warned:
            self._no_browser_warned = False
            logger.info("browser %s connected: rendering images from it", sessions[0].label)
        return sessions[0]

    async def _wait_ready(self, timeout: float) -> VuerSession | None:
        deadline = time.monotonic() + timeout
        while True:
            session = self.render_session()
            if session is not None or time.monotonic() >= deadline or self._stopping:
                return session
            await asyncio.sleep(0.05)

    async def grab(self, camera: RenderCamera, *, depth: bool = False, attempts: int = 1,
                   what: str = "grab") -> Frame:
        """One frame from ``camera``. ``attempts`` > 1 waits for a failed renderer to
        come back before each retry. Raises :class:`RendererError` (one line) when
        every attempt failed or the browser answered with something else than asked."""
        last: BaseException | None = None
        for attempt in range(attempts):
            session = self.render_session() if attempt == 0 else \
                await self._wait_ready(max(self._ttl, 30.0))
            if session is None:
                last = RendererError("no renderer is connected")
                if attempts == 1:
                    break
                continue
            ttl = max(self.grab_timeout, self._ttl)
            started = time.monotonic()
            try:
                frame = await session.grab(format="rgb", width=camera.width, height=camera.height,
                                           camera=camera, depth=depth, ttl=ttl)
            except GrabError as e:   # the browser answered with an error: repeating will not help
                raise RendererError(f"{what}: the browser could not render it: {e}", "GrabError") from None
            except asyncio.TimeoutError as e:
                last = e
                if not isinstance(e, SessionClosed):
                    # a scene heavier than the timeout still gets images, slowly
                    self._ttl = min(ttl * 2.0, MAX_GRAB_TIMEOUT_S)
                self._attempt_failed(what, attempt, attempts, session, e)
                continue
            except (RpcError, BrowserError, ConnectionError) as e:
                last = e
                self._attempt_failed(what, attempt, attempts, session, e)
                continue
            took = time.monotonic() - started
            self._ttl = max(self.grab_timeout, min(4.0 * took, MAX_GRAB_TIMEOUT_S))
            if frame.rgb.shape[:2] != (camera.height, camera.width):
                raise RendererError(f"{what}: the browser answered {frame.width}x{frame.height}, "
                                    f"asked for {camera.width}x{camera.height}", "size")
            return frame
        tail = ""
        if attempts > 1 and self.browser is not None:
            tail = "; Chromium said: " + " | ".join(self.browser.stderr_tail(5).splitlines())
        raise RendererError(f"{what}: {attempts} grab{'s' if attempts > 1 else ''} failed (last: "
                            f"{type(last).__name__}: {last}){tail}", type(last).__name__)

    def _attempt_failed(self, what: str, attempt: int, attempts: int, session: VuerSession,
                        e: BaseException) -> None:
        if attempt + 1 < attempts:
            logger.warning("%s: grab attempt %d from %s failed (%s: %s)", what, attempt + 1,
                           session.label, type(e).__name__, e)
