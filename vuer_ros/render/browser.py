"""HeadlessBrowser: a headless Chromium showing the server's client page, to render into.

    async with VuerServer(port=0) as server, HeadlessBrowser(server, 640, 480) as browser:
        frame = await browser.session.grab(format="rgb")

- ``$VUER_ROS_CHROMIUM``, else Debian's Chromium (``/usr/lib/chromium/chromium``,
  then ``/usr/bin/chromium``); software WebGL through ANGLE + SwiftShader, a
  fresh temporary profile, its own process group.
- The page gets exactly ``width`` x ``height``: new-headless Chromium counts
  its invisible browser UI in ``--window-size``; the window is made larger by
  the known difference, checked against the size the page reports in INIT (a
  different difference is learnt per binary, with one relaunch). Chromium's
  minimum window width is 500 px: below that, pass width/height to grabs.
- A server with TLS (bound off loopback, or given a certificate): Chromium trusts
  exactly its certificate's key (``--ignore-certificate-errors-spki-list``, never
  a blanket ignore), and the page and websocket URLs carry the access token.
- The page is ``server.url?ws=...&renderer=headless&id=<token>``; the client
  echoes the token in INIT, which is how its session is found. ``start()``
  returns once that INIT arrived (the first SET is queued before anything
  else, and the client applies events in order, so a grab issued now sees it).
- A watchdog restarts Chromium (with backoff) when it exits or its session
  stays gone; ``browser.session`` is always the current session.
- ``stop()`` (also ``async with``, and atexit as a last resort) kills the whole
  process group and removes the profile. Chromium's chatter goes to a log file
  that is only shown when something fails.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import signal
import tempfile
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import urlencode

if TYPE_CHECKING:
    from ..server import VuerServer, VuerSession

logger = logging.getLogger(__name__)

CHROMIUM_ENV = "VUER_ROS_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")

# Flags measured to give WebGL2 headless on machines without a GPU (notes/headless-rendering.md).
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--password-store=basic",
)


# log lines that say nothing about a failure here (no D-Bus in containers)
_NOISE = ("dbus/", "Fontconfig", "fontconfig")


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or its page never connected."""


def find_chromium(executable: str | os.PathLike[str] | None = None) -> str:
    """The Chromium binary to run; :class:`BrowserError` says how to install it.

    An explicit ``executable`` (or ``$VUER_ROS_CHROMIUM``) must exist; otherwise
    Debian's binary is used (the real one, skipping the wrapper script)."""
    explicit = executable or os.environ.get(CHROMIUM_ENV)
    if explicit:
        path = shutil.which(str(explicit)) or str(explicit)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise BrowserError(f"Chromium executable {str(explicit)!r} does not exist or is not executable; "
                           "install Chromium with `apt-get install chromium`")
    for path in CHROMIUM_CANDIDATES:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    which = shutil.which("chromium") or shutil.which("chromium-browser")
    if which:
        return which
    raise BrowserError(f"Chromium not found (looked at {', '.join(CHROMIUM_CANDIDATES)} and PATH); "
                       f"install with `apt-get install chromium`, or set {CHROMIUM_ENV}")


# -- last-resort cleanup -------------------------------------------------------------------------
_live: "weakref.WeakSet[HeadlessBrowser]" = weakref.WeakSet()
_claimed: dict[str, str] = {}  # session id -> token, for clients that do not echo the token
# How much larger than the page the window must be: new headless Chromium counts its
# invisible browser UI in --window-size (143 px of height, measured on Debian's Chromium 156).
# The first launch checks this against the size the page reports and learns the real
# difference per binary (one relaunch) if it is another.
NEW_HEADLESS_UI: tuple[int, int] = (0, 143)
_window_extra: dict[str, tuple[int, int]] = {}
_fix_tried: dict[str, bool] = {}


def _cleanup_at_exit() -> None:
    for browser in list(_live):
        browser._kill_sync()


atexit.register(_cleanup_at_exit)


def _kill_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _group_alive(pgid: int) -> bool:
    """Any process of the group still running (zombies do not count)?"""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


class HeadlessBrowser:
    """One headless Chromium rendering the server's scene.

    Args:
        server: the running :class:`VuerServer` (or ``Vuer`` app).
        width, height: the window (= canvas) size in pixels.
        executable: Chromium binary (default: see :func:`find_chromium`).
        start_timeout: seconds to wait for the page's INIT.
        restart: restart Chromium when it dies (watchdog).
        reconnect_grace: seconds a lost session may take to come back by itself
            before the watchdog restarts Chromium.
        extra_args: more Chromium flags.
        query: more query parameters for the page.
    """

    def __init__(self, server: "VuerServer", width: int = 640, height: int = 480, *,
                 executable: str | os.PathLike[str] | None = None, start_timeout: float = 30.0,
                 restart: bool = True, reconnect_grace: float = 5.0, max_backoff: float = 30.0,
                 extra_args: Sequence[str] = (), query: dict[str, str] | None = None) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"window size {width}x{height}: both must be positive")
        self.server = server
        self.width, self.height = int(width), int(height)
        self.executable = executable
        self.start_timeout = start_timeout
        self.restart = restart
        self.reconnect_grace = reconnect_grace
        self.max_backoff = max_backoff
        self.extra_args = tuple(extra_args)
        self.query = dict(query or {})
        self.restarts = 0
        self.token = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._pgid: int | None = None
        self._profile: str | None = None
        self._log_path: Path | None = None
        self._log_file: Any = None
        self._session: "VuerSession | None" = None
        self._ready = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._launched_at = 0.0
        self._reaper: asyncio.subprocess.Process | None = None

    # -- public ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        params = {"ws": self.server.with_token(self.server.ws_url.rstrip("/")), "renderer": "headless",
                  "id": self.token, **self.query}
        return self.server.with_token(f"{self.server.url}?{urlencode(params)}")

    @property
    def session(self) -> "VuerSession":
        """The live session of this browser (it changes after a restart)."""
        if self._session is None or self._session.closed:
            fresh = self._find_session()
            if fresh is None:
                raise BrowserError("the headless browser has no live session right now "
                                   "(restarting?); `await browser.wait_ready()` first")
            self._session = fresh
        return self._session

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def stderr_tail(self, lines: int = 30) -> str:
        """The end of Chromium's log (stdout + stderr)."""
        if self._log_path is None or not self._log_path.exists():
            return "(no Chromium log)"
        with open(self._log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode(errors="replace")
        kept = [line for line in text.splitlines() if not any(n in line for n in _NOISE)]
        return "\n".join(kept[-lines:]) or "(Chromium printed nothing of note)"

    async def start(self) -> "VuerSession":
        """Launch Chromium and wait for its page's INIT; returns the session."""
        if not self.server.running:
            raise BrowserError("start the server first (`await server.serve()` / `async with server`)")
        self._stopping = False
        _live.add(self)
        try:
            session = await self._launch_and_wait()
        except BaseException:
            await self.stop()
            raise
        if self.restart:
            self._watchdog = asyncio.create_task(self._watch(), name=f"chromium-watchdog-{self.token}")
        return session

    async def wait_ready(self, timeout: float | None = None) -> "VuerSession":
        """Wait until the browser has a live session (after a restart)."""
        await asyncio.wait_for(self._ready.wait(), timeout)
        return self.session

    async def stop(self) -> None:
        """Kill Chromium's whole process group and remove its profile."""
        self._stopping = True
        self._ready.clear()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not asyncio.current_task():
            watchdog.cancel()
            try:
                await watchdog
            except (asyncio.CancelledError, Exception):
                pass
        await self._kill()
        self._remove_profile()
        _live.discard(self)
        for sid in [sid for sid, token in _claimed.items() if token == self.token]:
            del _claimed[sid]

    async def __aenter__(self) -> "HeadlessBrowser":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- launching ---------------------------------------------------------------------------------
    def _command(self) -> list[str]:
        exe = find_chromium(self.executable)
        dw, dh = _window_extra.get(exe, NEW_HEADLESS_UI)
        tls = self.server.tls
        trust = [f"--ignore-certificate-errors-spki-list={tls.spki_sha256}"] if tls is not None else []
        return [exe, *CHROMIUM_FLAGS, *trust,
                f"--window-size={self.width + dw},{self.height + dh}", f"--user-data-dir={self._profile}",
                *self.extra_args, self.url]

    def _page_size(self, session: "VuerSession") -> tuple[int, int] | None:
        """The canvas size the page reported in INIT (None if it did not say)."""
        reported = session.info.get("width"), session.info.get("height")
        if not all(isinstance(v, (int, float)) and v > 0 for v in reported):
            return None
        return int(reported[0]), int(reported[1])  # type: ignore[arg-type]

    async def _launch_and_wait(self) -> "VuerSession":
        self._ready.clear()
        self.token = f"headless-{uuid.uuid4().hex[:12]}"
        self._profile = tempfile.mkdtemp(prefix="vuer_ros-chromium-")
        self._log_path = Path(self._profile) / "chromium.log"
        self._log_file = open(self._log_path, "wb")
        command = self._command()
        started = self._launched_at = time.monotonic()
        self._proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        self._pgid = self._proc.pid  # start_new_session: the group is the child's pid
        # if this Python process dies without stop() (SIGKILL, SIGTERM), the reaper sees its
        # stdin close and kills Chromium's group: no orphaned browsers
        self._reaper = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", f"read _; kill -KILL -{self._pgid} 2>/dev/null",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        logger.info("started Chromium pid %d (%dx%d) for %s", self._proc.pid, self.width, self.height, self.url)
        waiter = asyncio.ensure_future(self.server.wait_for_session(
            lambda s: self._is_mine(s, self._launched_at), timeout=self.start_timeout))
        exited = asyncio.ensure_future(self._proc.wait())
        try:
            done, _ = await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if waiter not in done:
            waiter.cancel()
            raise BrowserError(f"Chromium exited with code {self._proc.returncode} before its page connected "
                               f"to {self.server.url}.\nChromium output (last lines):\n{self.stderr_tail()}")
        try:
            session = waiter.result()
        except asyncio.TimeoutError:
            raise BrowserError(
                f"the headless page did not connect (no INIT with id={self.token}) within {self.start_timeout} s. "
                f"Is the client built (GET {self.server.url} must give the page)?\n"
                f"Chromium output (last lines):\n{self.stderr_tail()}") from None
        page = self._page_size(session)
        if page is not None and page != (self.width, self.height):
            exe = find_chromium(self.executable)
            known = _window_extra.get(exe, NEW_HEADLESS_UI)
            window = (self.width + known[0], self.height + known[1])
            # the window's UI takes window - page; a page larger than its window is
            # Chromium's minimum window size (500 px wide), not something to learn
            learnt = tuple(w - p if w >= p else k for w, p, k in zip(window, page, known))
            if learnt != known and not _fix_tried.get(exe):
                _fix_tried[exe] = True
                _window_extra[exe] = (learnt[0], learnt[1])
                logger.info("headless page is %dx%d in a %dx%d window: relaunching with %+d,%+d px for the "
                            "browser UI", *page, *window, *learnt)
                await self._kill()
                self._remove_profile()
                return await self._launch_and_wait()
            logger.warning("headless page reports a %dx%d canvas, asked for %dx%d%s; DEFAULT grabs without "
                           "width/height will have the page's size", *page, self.width, self.height,
                           " (Chromium's minimum window width is 500)" if self.width < 500 else "")
        self._session = session
        self._ready.set()
        logger.info("headless session %s ready in %.2f s", session.label, time.monotonic() - started)
        return session

    def _is_mine(self, session: "VuerSession", launched_at: float = 0.0) -> bool:
        """Our page echoes the token in INIT. A client that does not (the reference
        Vuer client) is matched as the first unclaimed HeadlessChrome page that
        connected after the launch."""
        if session.closed:
            return False
        if session.token is not None:
            return session.token == self.token
        if session.id in _claimed and _claimed[session.id] != self.token:
            return False
        if session.connected_at < launched_at or "HeadlessChrome" not in str(session.info.get("userAgent", "")):
            return False
        _claimed[session.id] = self.token
        return True

    def _find_session(self) -> "VuerSession | None":
        for session in reversed(self.server.sessions):
            if session.initialized.is_set() and self._is_mine(session, self._launched_at):
                return session
        return None

    # -- watchdog --------------------------------------------------------------------------------------
    async def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping:
            reason = await self._wait_for_trouble()
            if self._stopping:
                return
            logger.warning("headless Chromium: %s; restarting in %.0f s. Chromium output (last lines):\n%s",
                           reason, backoff, self.stderr_tail(15))
            self._ready.clear()
            await self._kill()
            self._remove_profile()
            await asyncio.sleep(backoff)
            try:
                await self._launch_and_wait()
                self.restarts += 1
                backoff = 1.0
            except BrowserError as e:
                logger.error("restarting headless Chromium failed: %s", e)
                backoff = min(backoff * 2, self.max_backoff)

    async def _wait_for_trouble(self) -> str:
        """Return when Chromium died or its session stayed gone for reconnect_grace."""
        assert self._proc is not None
        proc = self._proc
        while True:
            exited = asyncio.ensure_future(proc.wait())
            session = self._find_session()
            if session is not None:
                self._session = session
                self._ready.set()
                other = asyncio.ensure_future(session.forever())
            else:  # the page may reconnect by itself (same token)
                self._ready.clear()
                other = asyncio.ensure_future(self.server.wait_for_session(
                    lambda s: self._is_mine(s, self._launched_at), timeout=self.reconnect_grace))
            try:
                done, _ = await asyncio.wait({exited, other}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                exited.cancel()
                other.cancel()
            if exited in done:
                return f"process exited with code {proc.returncode}"
            if session is None and other.exception() is not None:
                return f"its page lost the connection and did not come back within {self.reconnect_grace} s"

    # -- killing -------------------------------------------------------------------------------------------
    async def _kill(self) -> None:
        proc, pgid = self._proc, self._pgid
        self._proc = self._pgid = None
        reaper, self._reaper = self._reaper, None
        if pgid is not None:
            _kill_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + 2.0
            while _group_alive(pgid) and time.monotonic() < deadline:
                if proc is not None and proc.returncode is None:
                    try:
                        await asyncio.wait_for(proc.wait(), 0.1)
                    except asyncio.TimeoutError:
                        pass
                else:
                    await asyncio.sleep(0.05)
            if _group_alive(pgid):
                _kill_group(pgid, signal.SIGKILL)
        if proc is not None and proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except asyncio.TimeoutError:
                logger.error("Chromium pid %d did not exit after SIGKILL", proc.pid)
        if reaper is not None and reaper.returncode is None:
            if reaper.stdin is not None:
                reaper.stdin.close()
            try:
                await asyncio.wait_for(reaper.wait(), 1.0)
            except asyncio.TimeoutError:
                reaper.kill()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _kill_sync(self) -> None:
        """atexit: no event loop to rely on."""
        if self._pgid is not None:
            _kill_group(self._pgid, signal.SIGKILL)
            self._pgid = None
        self._remove_profile()

    def _remove_profile(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
