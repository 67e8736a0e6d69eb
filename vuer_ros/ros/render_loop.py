"""RenderLoop: the asyncio half of the viewer node, in its own thread.

It owns the :class:`SceneModel`, the :class:`VuerServer` and the renderer (a
:class:`HeadlessBrowser`, or a browser the user opened), so the scene model
is only ever touched by this thread. The rclpy half (viewer_node.py) hands
messages over with :meth:`submit` (a deque plus one ``call_soon_threadsafe``
wake-up per batch: callbacks never wait for this thread), and gets frames back
through a :class:`FrameSink` called on a third thread, the publisher, so JPEG
encoding and DDS publishing overlap the next grab.

Two periodic jobs on the loop:
- scene flush (``scene_rate`` Hz): apply what arrived, ``advance`` the clock,
  ``drain_events`` and broadcast them to every browser;
- render tick (``render.rate`` Hz): the same drain, then, in the same step,
  one GRAB_RENDER from the render camera. The browser answers a grab after
  every event sent before it, so the frame shows exactly the drained state;
  its stamp is the ROS time of that drain (sim time with use_sim_time).
  When a grab takes longer than the period, ticks run back to back; there is
  never more than one grab in flight.

A renderer that dies is restarted (HeadlessBrowser's watchdog, and above it
this loop rebuilds the browser when the watchdog gives up); grabs fail
meanwhile and are logged once per cause. Nothing here imports rclpy.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Protocol, Sequence

import numpy as np

from ..render.browser import BrowserError, HeadlessBrowser
from ..render.camera import RenderCamera, matrix_to_quat, optical_look_at, quat_to_matrix
from ..scene import SceneModel, TfError
from ..scene.problems import ProblemLog
from ..server import Frame, VuerServer, VuerSession
from ..server.errors import RpcError, SessionClosed
from ..server.logs import ThrottledLog
from ..render.settings import BODY_TO_OPTICAL, RenderSettings
from .marker_cdr import ArrayDecoder, CdrError, UnsupportedEncoding, decode_marker
from ..scene.mesh_resolver import MeshResolver

logger = logging.getLogger("vuer_ros.ros.render")


# A browser whose session stays gone this long is rebuilt from scratch.
BROWSER_DEAD_S = 60.0
# Slice of work on the message backlog before the event loop gets a turn (s).
INBOX_SLICE_S = 0.01
# A ROS clock that jumps back by more than this (a bag played in a loop) resets the scene.
CLOCK_JUMP_BACK_NS = 1_000_000_000
# Period of the render statistics logged at DEBUG level.
STATS_PERIOD_S = 5.0
# A grab slower than this is logged (throttled).
SLOW_GRAB_S = 2.0
# A grab that timed out lets the next one wait up to twice as long, up to this.
MAX_GRAB_TIMEOUT_S = 60.0


class Wants(NamedTuple):
    """Which outputs have subscribers right now."""

    image: bool = True
    compressed: bool = True
    depth: bool = True
    info: bool = True

    @property
    def any(self) -> bool:
        return self.image or self.compressed or self.depth or self.info


@dataclass
class RenderedFrame:
    frame: Frame
    stamp_ns: int
    camera: RenderCamera
    settings: RenderSettings
    grabbed_at: float          # time.monotonic() when the frame came back


class FrameSink(Protocol):
    def wants(self) -> Wants: ...

    def publish(self, rendered: RenderedFrame) -> None: ...


@dataclass
class RenderStats:
    """Counters, read by the demo and the tests (plain ints: a torn read is harmless)."""

    ticks: int = 0
    grabs: int = 0
    grab_failures: int = 0
    published: int = 0
    dropped: int = 0
    messages: int = 0
    last_grab_ms: float = 0.0
    publish_times: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    grab_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    browser_render_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    browser_apply_ms: float = 0.0   # the browser's time applying scene events (its report)
    apply_s: float = 0.0        # time spent applying messages to the scene model
    drain_s: float = 0.0        # time spent draining and broadcasting scene events
    dropped_messages: int = 0   # inbox overflow (the scene model fell behind)
    resets: int = 0             # scene resets after the ROS clock jumped back
    coalesced: int = 0          # MarkerArrays skipped because a waiting one replaced them

    def rate(self, window: float = 2.0) -> float:
        """Frames published per second over the last ``window`` seconds."""
        now = time.monotonic()
        times = [t for t in list(self.publish_times) if now - t <= window]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-6)


# inbox entries: (kind, payload, receive time ns, extra)
TF, MARKER_RAW, MARKER_ARRAY_RAW, MARKER_MSG, MARKER_ARRAY_MSG, ROBOT_DESCRIPTION = range(6)
# Messages of one topic that may wait for the scene model; older ones are dropped
# (as a full subscription queue would: 10x the subscription depths of viewer_node).
INBOX_LIMITS = {TF: 1000, MARKER_RAW: 1000, MARKER_ARRAY_RAW: 100, MARKER_MSG: 1000,
                MARKER_ARRAY_MSG: 100, ROBOT_DESCRIPTION: 10}


class RenderLoop:
    """The viewer's asyncio side. Thread-safe entry points: :meth:`start`,
    :meth:`stop`, :meth:`submit`, :meth:`configure`, :meth:`set_fixed_frame`;
    the properties are plain reads."""

    def __init__(self, *, fixed_frame: str, settings: RenderSettings, clock_ns: Callable[[], int],
                 sink: FrameSink, host: str = "127.0.0.1", port: int = 8012,
                 mesh_roots: Sequence[str] = (), max_marker_points: int = 1_000_000,
                 grid: bool = True, scene_rate: float = 30.0,
                 client_dir: str | None = None,
                 fallback_decode: Callable[[int, bytes], Any] | None = None) -> None:
        settings.check()
        # (kind, raw bytes) -> message, for encodings marker_cdr does not read
        self.fallback_decode = fallback_decode
        self.settings = settings
        self.clock_ns = clock_ns
        self._last_stamp = -1
        self.sink = sink
        self.stats = RenderStats()
        self.max_marker_points = int(max_marker_points)
        self._array_decoders: dict[Any, ArrayDecoder] = {}   # per MarkerArray topic
        self.scene_rate = max(float(scene_rate), 1.0)
        self.server = VuerServer(host, port, client_dir=client_dir)
        self.mesh_resolver = MeshResolver(self._mount, mesh_roots)
        self._grid = grid
        self.model = self._new_model(fixed_frame)
        self.problems: ProblemLog = self.model.problems
        self.browser: HeadlessBrowser | None = None
        self._throttled = ThrottledLog(logger, interval=10.0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._inbox: deque[tuple[int, Any, int, Any]] = deque()
        self._pending: dict[Any, int] = {}        # topic -> messages waiting in the inbox
        self._pending_lock = threading.Lock()
        self._dropped: dict[Any, int] = {}
        self._static_tf: dict[str, Any] = {}       # child frame -> latest /tf_static transform
        self._robot_description: tuple[Any, str] | None = None
        self._wake_pending = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._camera_cache: tuple[RenderSettings, RenderCamera] | None = None
        self._no_browser_warned = False
        self._last_drain_ns = 0
        self._grab_ttl = settings.grab_timeout
        self._publisher = _PublisherThread(self)
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    def _new_model(self, fixed_frame: str) -> SceneModel:
        return SceneModel(fixed_frame, resolve_mesh=self.mesh_resolver,
                          max_marker_points=self.max_marker_points, grid=self._grid,
                          logger=logging.getLogger("vuer_ros.scene"))

    # -- thread-safe API -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, timeout: float = 30.0) -> None:
        """Start the loop thread and the server; returns once the port is bound
        (the renderer starts in the background)."""
        self._thread = threading.Thread(target=self._run_thread, name="vuer-render-loop",
                                        daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"the scene server did not start within {timeout} s")
        if self._start_error is not None:
            raise self._start_error
        self._publisher.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop ticking, the renderer (Chromium is killed) and the server; join the threads."""
        loop, thread = self._loop, self._thread
        self._publisher.stop()
        if loop is None or thread is None or not thread.is_alive():
            return
        try:
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            fut.result(timeout)
        except Exception as e:  # the loop may already be gone; kill what is left below
            logger.warning("render loop did not shut down cleanly: %r", e)
        finally:
            if loop.is_running():
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if self.browser is not None:
                self.browser._kill_sync()

    def submit(self, kind: int, payload: Any, receive_ns: int, extra: Any = None) -> None:
        """Hand one received message to the loop (any thread, never blocks)."""
        with self._pending_lock:
            self._pending[extra] = self._pending.get(extra, 0) + 1
        self._inbox.append((kind, payload, receive_ns, extra))
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            try:
                self._loop.call_soon_threadsafe(self._apply_inbox)
            except RuntimeError:  # loop closed: shutting down
                pass

    def configure(self, settings: RenderSettings) -> None:
        """Replace the render settings (validated by the caller with ``check()``)."""
        self._call(self._set_settings, settings)

    def set_fixed_frame(self, frame: str) -> None:
        self._call(self.model.set_fixed_frame, frame)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is None:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    # -- loop thread ------------------------------------------------------------------------------
    def _run_thread(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as e:
            self._start_error = e
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            except Exception:
                pass
            loop.close()

    async def _startup(self) -> None:
        await self.server.serve()
        self._tasks = [asyncio.create_task(self._flush_loop(), name="vuer-scene-flush"),
                       asyncio.create_task(self._tick_loop(), name="vuer-render-tick")]
        if self.settings.headless:
            self._tasks.append(asyncio.create_task(self._browser_loop(), name="vuer-browser"))

    async def _shutdown(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        browser, self.browser = self.browser, None
        if browser is not None:
            await browser.stop()
        await self.server.stop()

    def _mount(self, name: str, root: Any) -> str:
        absolute = self.server.mount(name, root)
        return absolute[len(self.server.url.rstrip("/")):]   # root-relative: /files/<name>/

    def _set_settings(self, settings: RenderSettings) -> None:
        old = self.settings
        self.settings = settings
        self._camera_cache = None
        if old.headless != settings.headless:
            logger.warning("render.headless cannot change while running; restart the node")

    # -- inputs ------------------------------------------------------------------------------------
    def _apply_inbox(self, budget_s: float | None = INBOX_SLICE_S) -> None:
        """Apply waiting messages. Woken by :meth:`submit`, it works in slices of about
        ``budget_s`` and yields to the event loop in between (grab answers and browser
        traffic stay responsive while a backlog is worked off); before a drain
        (``budget_s`` None) it applies everything."""
        self._wake_pending = False   # before draining: a submit racing with us schedules again
        inbox = self._inbox
        if not inbox:
            return
        started = time.perf_counter()
        pending, lock = self._pending, self._pending_lock
        while inbox:
            if budget_s is not None and time.perf_counter() - started > budget_s:
                if not self._wake_pending and self._loop is not None:
                    self._wake_pending = True
                    self._loop.call_soon(self._apply_inbox)
                break
            kind, payload, receive_ns, extra = inbox.popleft()
            with lock:
                waiting = pending.get(extra, 1)
                pending[extra] = waiting - 1
            if waiting > INBOX_LIMITS.get(kind, 1000):
                # falling behind: drop the oldest of this topic, as a full subscription
                # queue of that depth would
                self._dropped[extra] = self._dropped.get(extra, 0) + 1
                self.stats.dropped_messages += 1
                self._throttled.warning(("behind", extra),
                                        "the scene model falls behind %s: dropped its oldest "
                                        "messages (%d so far)", extra, self._dropped[extra])
                continue
            self.stats.messages += 1
            try:
                if (kind == MARKER_ARRAY_RAW or kind == MARKER_ARRAY_MSG) and inbox \
                        and self._superseded(kind, payload, extra):
                    self.stats.coalesced += 1
                    continue
                self._apply(kind, payload, receive_ns, extra)
            except Exception as e:  # bad input never stops the loop
                topic = extra if isinstance(extra, str) else "?"
                self.problems.report(("input", topic, type(e).__name__), "exception",
                                     f"{topic}: a message could not be applied "
                                     f"({type(e).__name__}: {e}); skipped", logging.ERROR)
        self.stats.apply_s += time.perf_counter() - started

    def _superseded(self, kind: int, payload: Any, topic: Any) -> bool:
        """Latest state wins when the scene model falls behind: a MarkerArray whose
        every marker is an ADD that the next waiting array of the same topic
        replaces (same ns/id, or a DELETEALL covering it) is skipped; applying
        both would end in the same scene. Arrays are decoded once (the waiting
        one is stored decoded)."""
        inbox = self._inbox
        later = next((i for i, item in enumerate(inbox)
                      if item[3] == topic and item[0] in (MARKER_ARRAY_RAW, MARKER_ARRAY_MSG)), None)
        if later is None:
            return False
        try:
            current = self._array_decoder(topic).decode(payload) \
                if kind == MARKER_ARRAY_RAW else payload
            k2, p2, r2, t2 = inbox[later]
            if k2 == MARKER_ARRAY_RAW:
                p2 = self._array_decoder(topic).decode(p2)
                inbox[later] = (MARKER_ARRAY_MSG, p2, r2, t2)
        except CdrError:
            return False   # reported when applied
        replaced: set[tuple[str, int]] = set()
        cleared: set[str] = set()
        everything = False
        for m in p2.markers:
            action = int(m.action)
            if action == 3:
                if m.ns:
                    cleared.add(str(m.ns))
                else:
                    everything = True
            else:
                replaced.add((str(m.ns), int(m.id)))
        for m in current.markers:
            if int(m.action) != 0:
                return False
            if not (everything or str(m.ns) in cleared or (str(m.ns), int(m.id)) in replaced):
                return False
        return True

    def _apply(self, kind: int, payload: Any, receive_ns: int, topic: Any) -> None:
        model = self.model
        if kind == TF:
            static = bool(topic == "/tf_static")
            model.on_tf(payload, static)
            if static:   # kept to survive a reset (tf2 keeps static transforms on clear)
                for t in payload.transforms:
                    self._static_tf[str(t.child_frame_id)] = t
        elif kind == MARKER_RAW or kind == MARKER_ARRAY_RAW:
            try:
                if kind == MARKER_RAW:
                    msg: Any = decode_marker(payload, self.max_marker_points)
                else:
                    msg = self._array_decoder(topic).decode(payload)
            except UnsupportedEncoding as e:
                # not the plain CDR decoded here (e.g. XCDR2 from another middleware):
                # the middleware's own deserialiser, slower but complete
                if self.fallback_decode is None:
                    self.problems.report(("topic", topic), "cdr", f"{topic}: {e}; skipped",
                                         logging.ERROR)
                    return
                msg = self.fallback_decode(kind, payload)
            except CdrError as e:
                what = "Marker" if kind == MARKER_RAW else "MarkerArray"
                self.problems.report(("topic", topic), "cdr",
                                     f"{topic}: cannot decode a {what} of {len(payload)} bytes "
                                     f"({e}); skipped", logging.ERROR)
                return
            if kind == MARKER_RAW:
                model.on_marker(msg, receive_ns)
            else:
                model.on_marker_array(msg, receive_ns)
        elif kind == ROBOT_DESCRIPTION:
            self._robot_description = (payload, topic)
            self._apply_robot(payload, topic)
        elif kind == MARKER_MSG:
            model.on_marker(payload, receive_ns)
        elif kind == MARKER_ARRAY_MSG:
            model.on_marker_array(payload, receive_ns)

    def _array_decoder(self, topic: Any) -> ArrayDecoder:
        decoder = self._array_decoders.get(topic)
        if decoder is None:
            decoder = self._array_decoders[topic] = ArrayDecoder(self.max_marker_points)
        return decoder

    def _apply_robot(self, msg: Any, topic: str) -> None:
        handler = getattr(self.model, "on_robot_description", None)
        if handler is None:   # a scene model without robot support
            self.problems.report(("robot", "support"), "missing",
                                 f"{topic}: this build cannot show robot models; ignored")
            return
        handler(msg, topic)

    # -- scene flush --------------------------------------------------------------------------------
    def _drain(self) -> int:
        """Apply what arrived, move the clock, send the changes; returns the drain's ROS time."""
        self._apply_inbox(None)
        started = time.perf_counter()
        now = int(self.clock_ns())
        if now + CLOCK_JUMP_BACK_NS < self._last_drain_ns:
            # as rviz: "Detected jump back in time", everything is cleared
            logger.warning("ROS time jumped back by %.1f s (a bag restarted?); clearing TF and "
                           "markers", (self._last_drain_ns - now) / 1e9)
            self.model = self._new_model(self.model.fixed_frame)
            self.problems = self.model.problems
            self.model.on_tf(_Transforms(list(self._static_tf.values())), True)
            if self._robot_description is not None:
                self._apply_robot(*self._robot_description)
            self.stats.resets += 1
            self._last_stamp = -1  # the clock went back: images start again from there
        self.model.advance(now)
        for event in self.model.drain_events():
            self.server.broadcast(event)
        self._last_drain_ns = now
        self.stats.drain_s += time.perf_counter() - started
        return now

    async def _flush_loop(self) -> None:
        last_report, last = time.monotonic(), (0, 0.0, 0.0, 0, 0, 0.0)
        while not self._stopping:
            now = time.monotonic()
            if now - last_report >= STATS_PERIOD_S and logger.isEnabledFor(logging.DEBUG):
                st = self.stats
                span = now - last_report
                grabs = sorted(st.grab_ms)
                draws = sorted(st.browser_render_ms)
                logger.debug(
                    "last %.0f s: %.1f images/s, grab median %.0f ms (max %.0f), %d grab failures, "
                    "%.0f%% of a core applying %d messages (%d arrays superseded), "
                    "%.0f%% draining/sending; browser: drawing median %.0f ms, "
                    "%.0f%% of its main thread applying scene events",
                    span, st.rate(span), grabs[len(grabs) // 2] if grabs else math.nan,
                    grabs[-1] if grabs else math.nan, st.grab_failures - last[0],
                    100 * (st.apply_s - last[1]) / span, st.messages - last[3],
                    st.coalesced - last[4], 100 * (st.drain_s - last[2]) / span,
                    draws[len(draws) // 2] if draws else math.nan,
                    100 * (st.browser_apply_ms - last[5]) / 1000.0 / span)
                st.grab_ms.clear()
                st.browser_render_ms.clear()
                last_report, last = now, (st.grab_failures, st.apply_s, st.drain_s, st.messages,
                                          st.coalesced, st.browser_apply_ms)
            await asyncio.sleep(1.0 / max(self.scene_rate, self.settings.rate))
            try:
                self._drain()
            except Exception as e:
                self._throttled.log(logging.ERROR, ("flush", type(e).__name__),
                                    "scene flush failed: %s: %s", type(e).__name__, e)

    # -- render ticks ---------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while not self._stopping:
            delay = next_t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            next_t = max(next_t + 1.0 / self.settings.rate, loop.time())
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._throttled.log(logging.ERROR, ("tick", type(e).__name__),
                                    "render tick failed: %s: %s", type(e).__name__, e)

    async def _tick(self) -> None:
        self.stats.ticks += 1
        settings = self.settings
        stamp = self._drain()
        if stamp <= self._last_stamp:
            # sim time has not moved since the last image (a paused or slow /clock): the
            # same stamp twice would be two images of one instant
            return
        wants = self.sink.wants()
        if settings.lazy and not wants.any:
            return
        session = self._render_session(settings)
        if session is None:
            return
        camera = self._camera(settings)
        if camera is None:
            return
        depth = settings.depth and wants.depth
        started = time.monotonic()
        # a scene heavy enough to take longer than grab_timeout still gets images, slowly:
        # after a timeout the next grab may take twice as long (up to MAX_GRAB_TIMEOUT_S)
        ttl = max(settings.grab_timeout, self._grab_ttl)
        try:
            frame = await session.grab(format="rgb", width=settings.width, height=settings.height,
                                       camera=camera, depth=depth, ttl=ttl)
        except asyncio.TimeoutError as e:
            self.stats.grab_failures += 1
            self._grab_ttl = min(ttl * 2.0, MAX_GRAB_TIMEOUT_S)
            closed = isinstance(e, SessionClosed)
            self._throttled.warning(("grab", type(e).__name__),
                                    "grab from %s failed (%s: %s); retrying%s",
                                    session.label, type(e).__name__, e,
                                    "" if closed else f" with a {self._grab_ttl:g} s timeout")
            return
        except (RpcError, BrowserError, ConnectionError) as e:
            self.stats.grab_failures += 1
            self._throttled.warning(("grab", type(e).__name__),
                                    "grab from %s failed (%s: %s); retrying on the next tick",
                                    session.label, type(e).__name__, e)
            return
        self.stats.grabs += 1
        now = time.monotonic()
        self.stats.last_grab_ms = (now - started) * 1000.0
        self.stats.grab_ms.append(self.stats.last_grab_ms)
        if frame.timing:
            self.stats.browser_render_ms.append(frame.timing.get("render", math.nan))
            self.stats.browser_apply_ms += frame.timing.get("apply", 0.0)
        took = now - started
        self._grab_ttl = max(settings.grab_timeout, min(4.0 * took, MAX_GRAB_TIMEOUT_S))
        if took > SLOW_GRAB_S:
            self._throttled.warning("slow", "rendering the scene took %.1f s (the browser was "
                                    "applying or drawing a large scene); images are late", took)
        if frame.rgb.shape[:2] != (settings.height, settings.width):
            self._throttled.warning("size", "grab came back %dx%d, asked for %dx%d; dropped",
                                    frame.width, frame.height, settings.width, settings.height)
            return
        self._last_stamp = stamp
        self._publisher.put(RenderedFrame(frame, stamp, camera, settings, now))

    def _render_session(self, settings: RenderSettings) -> VuerSession | None:
        if settings.headless:
            browser = self.browser
            if browser is None:
                return None
            try:
                return browser.session
            except BrowserError:
                return None   # restarting
        sessions = [s for s in self.server.sessions if s.initialized.is_set() and not s.closed]
        if not sessions:
            if not self._no_browser_warned:
                self._no_browser_warned = True
                logger.warning("render.headless is false and no browser is connected: open %s to "
                               "render images (no images are published until one connects)",
                               self.server.url)
            return None
        if self._no_browser_warned:
            self._no_browser_warned = False
            logger.info("browser %s connected: rendering images from it", sessions[0].label)
        return sessions[0]

    def _camera(self, settings: RenderSettings) -> RenderCamera | None:
        if not settings.camera_frame:
            cached = self._camera_cache
            if cached is not None and cached[0] is settings:
                return cached[1]
            camera = RenderCamera.look_at(settings.eye, settings.target, width=settings.width,
                                          height=settings.height, fov_y=settings.fov,
                                          near=settings.near, far=settings.far)
            self._camera_cache = (settings, camera)
            return camera
        frame = settings.camera_frame.lstrip("/")
        subject = ("render-camera", frame)
        try:
            m = self.model.pose_in_fixed(frame)
        except TfError as e:
            self.problems.report(subject, "tf",
                                 f"render camera: no transform from render.camera_frame '{frame}' "
                                 f"to fixed frame '{self.model.fixed_frame}' ({e}); no images "
                                 "until it is published")
            return None
        self.problems.resolve(subject)
        rot = np.asarray(m[:3, :3], dtype=float)
        if not settings.camera_frame_is_optical:
            rot = rot @ quat_to_matrix(BODY_TO_OPTICAL)
        return RenderCamera(settings.width, settings.height, settings.fov, settings.near,
                            settings.far, m[:3, 3].copy(), matrix_to_quat(rot))

    # -- headless browser ----------------------------------------------------------------------------------
    async def _browser_loop(self) -> None:
        """Keep one headless browser alive: start it (retrying with backoff), and
        rebuild it if its own watchdog gives up or its session stays gone."""
        backoff = 1.0
        while not self._stopping:
            settings = self.settings
            # Chromium's window is at least 500 px wide; grabs ask for the exact size anyway
            browser = HeadlessBrowser(self.server, max(settings.width, 500), settings.height)
            try:
                await browser.start()
            except BrowserError as e:
                await browser.stop()
                logger.error("cannot start the headless renderer (retrying in %.0f s): %s",
                             backoff, e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2.0, 30.0)
                continue
            backoff = 1.0
            self.browser = browser
            logger.info("headless renderer ready (Chromium pid %s, %dx%d)", browser.pid,
                        settings.width, settings.height)
            gone_since: float | None = None
            while not self._stopping:
                await asyncio.sleep(1.0)
                watchdog = getattr(browser, "_watchdog", None)
                if watchdog is not None and watchdog.done():
                    logger.error("the headless renderer's watchdog stopped; rebuilding the renderer")
                    break
                try:
                    browser.session
                    gone_since = None
                except BrowserError:
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > BROWSER_DEAD_S:
                        logger.error("the headless renderer has had no page for %.0f s; "
                                     "rebuilding it", BROWSER_DEAD_S)
                        break
            self.browser = None
            await browser.stop()


class _Transforms:
    """A TFMessage look-alike (the scene model reads ``.transforms``)."""

    def __init__(self, transforms: list[Any]) -> None:
        self.transforms = transforms


class _PublisherThread:
    """Hands frames to the sink on its own thread; keeps at most two waiting
    (the oldest is dropped and counted when the sink falls behind)."""

    def __init__(self, owner: RenderLoop) -> None:
        self.owner = owner
        self._queue: queue.Queue[RenderedFrame | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._throttled = ThrottledLog(logger, interval=10.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vuer-publisher", daemon=True)
        self._thread.start()

    def put(self, rendered: RenderedFrame | None) -> None:
        """Queue a frame (None: stop), dropping the oldest waiting one when full."""
        while True:
            try:
                self._queue.put_nowait(rendered)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.owner.stats.dropped += 1
                except queue.Empty:
                    pass

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self.put(None)
        thread.join(5.0)

    def _run(self) -> None:
        stats = self.owner.stats
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self.owner.sink.publish(item)
                stats.published += 1
                stats.publish_times.append(time.monotonic())
            except Exception as e:
                self._throttled.log(logging.ERROR, type(e).__name__,
                                    "publishing a frame failed: %s: %s", type(e).__name__, e)

