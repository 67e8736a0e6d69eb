"""LiveView: the live viewer's core, running on a thread of its own.

The ROS edge (vuer_ros/ros/viewer_node.py) subscribes to
:attr:`LiveView.subscriptions` with ``raw=True`` and hands each message's CDR
bytes to :meth:`submit` (an :class:`Inbox`, one ``call_soon_threadsafe``
wake-up per batch: callbacks never wait for this thread). This thread owns the
:class:`ScenePlayer` (scene model, decoders, camera) and the
:class:`RenderSession` (server, browser, grabs); frames go to a
:class:`FramePublisher` thread, which builds the messages (image_fields.py)
and hands them to the sink to publish.

Two periodic jobs on the thread's event loop:
- scene flush (``scene_rate`` Hz): apply what arrived, ``drain`` to the ROS
  time now and broadcast the changes to every browser; while a tick's grabs are in
  flight it waits, and flushes once right after them;
- status (every STATUS_PERIOD_S, in the flush loop): the status event for the
  browsers' panels (status.py), also sent to each browser as it connects;
- render tick (``render.rate`` Hz): the same drain, then, in the same step,
  one grab from each render camera in turn (the node's own, or each listed one,
  at its own size: ``render.cameras``). The browser answers a grab after every
  event sent before it, so the frame shows exactly the drained state; every
  camera's frame is stamped with the ROS time of that drain (sim time with
  use_sim_time), and never two images of one instant (a paused /clock). While
  several cameras are grabbed the scene flush waits, so all of them show the
  same instant. When the grabs take longer than the period, ticks run back to
  back; one grab is in flight at a time.
Offline rendering runs the same player ticks over bag time (offline.py).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import Any, Callable, Coroutine

from ..protocol.events import ServerEvent
from ..protocol.status import STATUS_PERIOD_S
from ..render.camera import RenderCamera
from ..render.settings import RenderSettings
from ..server import Frame
from ..scene.errors import UrdfError
from ..scene.mesh_resolver import MeshResolver
from ..scene.urdf import RobotDescription, read_urdf_file
from ..server import VuerSession
from ..server.logs import ThrottledLog
from .inbox import Inbox
from .kinds import Subscription, subscriptions
from .options import ViewOptions
from .player import FallbackDecode, ScenePlayer, Shot
from .publisher import FramePublisher, FrameSink, RenderedFrame
from .errors import RendererError
from .render_session import RenderSession
from .stats import RenderStats, StatsReport
from .status import StatusReporter

logger = logging.getLogger("vuer_ros.view")

# Slice of work on the message backlog before the event loop gets a turn (s).
INBOX_SLICE_S = 0.01
# A grab slower than this is logged (throttled).
SLOW_GRAB_S = 2.0


class LiveView:
    """Thread-safe entry points: :meth:`start`, :meth:`stop`, :meth:`submit`,
    :meth:`configure`, :meth:`set_fixed_frame`; the properties are plain reads."""

    def __init__(self, options: ViewOptions, *, clock_ns: Callable[[], int], sink: FrameSink,
                 client_dir: str | None = None,
                 fallback_decode: FallbackDecode | None = None,
                 sim_time: Callable[[], bool] = lambda: False) -> None:
        """``sim_time()``: whether ``clock_ns`` is sim time now (for the status)."""
        options.settings.check()
        self.options = options
        self.clock_ns = clock_ns
        self.stats = RenderStats()
        self.status = StatusReporter(options, self.stats, sim_time)
        self._status: ServerEvent | None = None    # the latest sent
        self._drained_ns = 0                        # ROS time of the last drain
        self._camera: RenderCamera | None = None    # the render camera of the last tick
        s = options.settings
        specs = s.camera_specs
        self.session = RenderSession(host=options.host, port=options.port, headless=s.headless,
                                     width=max(c.width for c in specs),
                                     height=max(c.height for c in specs),
                                     grab_timeout=s.grab_timeout,
                                     client_dir=client_dir, token=options.token,
                                     cert=options.tls_cert, key=options.tls_key)
        self.player = ScenePlayer(options,
                                  resolve_mesh=MeshResolver(self.session.mount, options.mesh_roots,
                                                            embed=self.session.embed),
                                  fallback_decode=fallback_decode)
        self.subscriptions: list[Subscription] = subscriptions(options)
        for sub in self.subscriptions:
            self.player.add_topic(sub.topic, sub.kind, options=sub.options)
        self._new_topics: queue.SimpleQueue[Subscription] = queue.SimpleQueue()
        self._inbox = Inbox(lambda topic: self._limit(topic))
        self._robot_file: RobotDescription | UrdfError | None = None
        if options.robot_description_file:
            try:
                self._robot_file = read_urdf_file(options.robot_description_file)
            except UrdfError as e:
                self._robot_file = e   # shown as no robot, logged once, as a bad topic message
        self._publisher = FramePublisher(sink, self.stats, cameras=len(specs))
        self.session.server.on("INIT", self._send_status)
        self.sink = sink
        self._throttled = ThrottledLog(logger, interval=10.0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._wake_pending = False
        self._stopping = False
        self._grabbing = False        # a tick's grabs are in flight (one instant: no flush between)
        self._flush_owed = False      # a flush was skipped meanwhile
        self._last_stamp = -1
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    def _limit(self, topic: str) -> int:
        kind = self.player.kind_of(topic)
        return kind.inbox_limit if kind is not None else 1000

    # -- thread-safe API -----------------------------------------------------------------------
    @property
    def settings(self) -> RenderSettings:
        return self.player.settings

    @property
    def port(self) -> int:
        return self.session.port

    @property
    def url(self) -> str:
        return self.session.url

    @property
    def open_url(self) -> str:
        """The URL a person opens (logged): reachable host, access token when needed."""
        return self.session.open_url

    def start(self, timeout: float = 30.0) -> None:
        """Start the thread and the server; returns once the port is bound (the
        renderer starts in the background)."""
        self._thread = threading.Thread(target=self._run_thread, name="vuer-view", daemon=True)
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
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        except Exception as e:  # the loop may already be gone; kill what is left below
            logger.warning("the view did not shut down cleanly: %r", e)
        finally:
            if loop.is_running():
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self.session.kill()

    def submit(self, topic: str, payload: Any, receive_ns: int) -> None:
        """Hand one received message (CDR bytes, or a message object) over; any thread,
        never blocks."""
        self._inbox.put(topic, payload, receive_ns)
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            try:
                self._loop.call_soon_threadsafe(self._apply_inbox)
            except RuntimeError:  # loop closed: shutting down
                pass

    def add_topic(self, sub: Subscription) -> None:
        """Show one more topic (one found in the ROS graph: displays.auto); any thread.
        Call it before the topic's messages can be submitted."""
        self.subscriptions.append(sub)
        self._new_topics.put(sub)

    def _adopt_new_topics(self) -> None:
        while not self._new_topics.empty():
            sub = self._new_topics.get_nowait()
            self.player.add_topic(sub.topic, sub.kind, options=sub.options)

    def configure(self, settings: RenderSettings) -> None:
        """Replace the render settings (validated by the caller with ``check()``)."""
        self._call(self._set_settings, settings)

    def set_fixed_frame(self, frame: str) -> None:
        self._call(self.player.set_fixed_frame, frame)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is None:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _set_settings(self, settings: RenderSettings) -> None:
        if self.player.settings.headless != settings.headless:
            logger.warning("render.headless cannot change while running; restart the node")
        self.player.configure(settings)

    # -- the thread ---------------------------------------------------------------------------------
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
        await self.session.start()
        if self._robot_file is not None:
            self.player.set_robot_file(self._robot_file)
        self._tasks = [self._task(self._flush_loop(), "vuer-scene-flush"),
                       self._task(self._tick_loop(), "vuer-render-tick")]

    def _task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro, name=name)

    async def _shutdown(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        await self.session.stop()

    # -- inputs ------------------------------------------------------------------------------------
    def _apply_inbox(self, budget_s: float | None = INBOX_SLICE_S) -> None:
        """Apply waiting messages. Woken by :meth:`submit`, it works in slices of about
        ``budget_s`` and yields to the event loop in between (grab answers and browser
        traffic stay responsive while a backlog is worked off); before a drain
        (``budget_s`` None) it applies everything."""
        self._wake_pending = False   # before draining: a submit racing with us schedules again
        self._adopt_new_topics()
        inbox, player, stats = self._inbox, self.player, self.stats
        if not inbox:
            return
        started = time.perf_counter()
        while True:
            if budget_s is not None and time.perf_counter() - started > budget_s:
                if not self._wake_pending and self._loop is not None:
                    self._wake_pending = True
                    self._loop.call_soon(self._apply_inbox)
                break
            taken = inbox.take()
            if taken is None:
                break
            entry, drop = taken
            topic = entry.topic
            if drop:
                # falling behind: the oldest of this topic go, as from a full subscription queue
                stats.dropped_messages += 1
                self._throttled.warning(("behind", topic),
                                        "the scene model falls behind %s: dropped its oldest "
                                        "messages (%d so far)", topic, inbox.dropped[topic])
                continue
            stats.messages += 1
            try:
                msg = player.decode(topic, entry.payload)
                if msg is None:
                    continue
                if self._superseded(topic, msg):
                    stats.coalesced += 1
                    continue
                self.status.note(topic, player.kind_of(topic), msg)
                player.apply(topic, msg, entry.receive_ns)
            except Exception as e:  # bad input never stops the loop
                player.problems.report(("input", topic, type(e).__name__), "exception",
                                       f"{topic}: a message could not be applied "
                                       f"({type(e).__name__}: {e}); skipped", logging.ERROR)
        stats.apply_s += time.perf_counter() - started

    def _superseded(self, topic: str, msg: Any) -> bool:
        """Latest state wins when the scene falls behind: a message that the next
        waiting one of its topic makes pointless is skipped (that one is kept decoded)."""
        kind = self.player.kind_of(topic)
        if kind is None or kind.supersedes is None:
            return False
        later = self._inbox.next_of(topic)
        if later is None:
            return False
        later.payload = self.player.decode(topic, later.payload)
        return later.payload is not None and self.player.supersedes(topic, msg, later.payload)

    # -- scene flush and render ticks --------------------------------------------------------------
    def _drain_to_now(self, tick: bool = False) -> tuple[int, list[Shot]]:
        """Apply what arrived and send the scene's changes up to the ROS time now; on a
        render tick also the cameras then (the player's tick, as offline)."""
        self._apply_inbox(None)
        started = time.perf_counter()
        now = int(self.clock_ns())
        shots: list[Shot] = []
        if tick:
            events, shots = self.player.tick(now)
        else:
            events = self.player.drain(now)
        for event in events:
            self.session.broadcast(event)
        self._drained_ns = now
        if shots and shots[0][1] is not None:   # the first camera: the one the panel shows
            self._camera = shots[0][1]
        if self.player.resets != self.stats.resets:
            self.stats.resets = self.player.resets
            self._last_stamp = -1   # the clock went back: images start again from there
        self.stats.drain_s += time.perf_counter() - started
        return now, shots

    async def _flush_loop(self) -> None:
        report = StatsReport(self.stats)
        loop = asyncio.get_running_loop()
        status_due = loop.time()
        while not self._stopping:
            if report.due() and logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s", report.line())
            await asyncio.sleep(1.0 / max(self.options.scene_rate, self.settings.rate))
            if self._grabbing:
                # the browser is drawing the last tick (every camera of it: one instant): what
                # changes now waits for the flush right after the grabs, so a scene that changes
                # several times during one grab (a 10 Hz point cloud of megabytes) is built and
                # sent once, not each time
                self._flush_owed = True
            else:
                self._flush()
            if loop.time() >= status_due:
                status_due = loop.time() + STATUS_PERIOD_S
                try:
                    self._broadcast_status()
                except Exception as e:   # the panels' status must never stop the scene
                    self._throttled.log(logging.ERROR, ("status", type(e).__name__),
                                        "viewer status failed: %s: %s", type(e).__name__, e)

    def _flush(self) -> None:
        try:
            self._drain_to_now()
        except Exception as e:
            self._throttled.log(logging.ERROR, ("flush", type(e).__name__),
                                "scene flush failed: %s: %s", type(e).__name__, e)

    def _owed_flush(self) -> None:
        """The flush skipped while the grabs were in flight, now that they are done."""
        if self._flush_owed and not self._stopping:
            self._flush_owed = False
            self._flush()

    # -- the status for the browsers' panels ------------------------------------------------------
    def _broadcast_status(self) -> None:
        self._status = self.status.event(self.player.model, self.subscriptions, self.settings,
                                          self._drained_ns, self._camera)
        self.session.broadcast(self._status)

    def _send_status(self, event: Any, session: VuerSession) -> None:
        """A browser connected (its INIT): it gets the latest status at once."""
        if self._status is not None:
            session.send(self._status)

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
        stamp, shots = self._drain_to_now(tick=True)
        # as of this drain: the fixed frame may change while the grabs are awaited
        parents = [self.player.camera_tf_parent(spec) for spec, _ in shots]
        if stamp <= self._last_stamp:
            # sim time has not moved since the last image (a paused or slow /clock): the
            # same stamp twice would be two images of one instant
            return
        grabbed = False
        self._grabbing = True
        try:
            for (spec, camera), parent in zip(shots, parents):
                wants = self.sink.wants(spec.name)
                if settings.lazy and not wants.any:
                    continue
                if camera is None or self.session.render_session() is None:
                    continue   # no camera pose yet, or no renderer yet (starting, restarting, none opened)
                frame = await self._grab(camera, settings.depth and wants.depth)
                if frame is None:
                    continue
                grabbed = True
                self._publisher.put(RenderedFrame(frame, stamp, camera, settings, time.monotonic(),
                                                  spec, parent))
        finally:
            self._grabbing = False
            self._owed_flush()
        if grabbed:
            self._last_stamp = stamp

    async def _grab(self, camera: RenderCamera, depth: bool) -> Frame | None:
        """One frame from ``camera``, counted in the stats; None (logged, throttled) when
        the renderer failed: the next tick tries again."""
        started = time.monotonic()
        try:
            frame = await self.session.grab(camera, depth=depth)
        except RendererError as e:
            self.stats.grab_failures += 1
            self._throttled.warning(("grab", e.cause), "%s; retrying on the next tick", e)
            return None
        took = time.monotonic() - started
        st = self.stats
        st.grabs += 1
        st.last_grab_ms = took * 1000.0
        st.grab_ms.append(st.last_grab_ms)
        if frame.timing:
            st.browser_render_ms.append(frame.timing.get("render", float("nan")))
            st.browser_apply_ms += frame.timing.get("apply", 0.0)
        if took > SLOW_GRAB_S:
            self._throttled.warning("slow", "rendering the scene took %.1f s (the browser was "
                                    "applying or drawing a large scene); images are late", took)
        return frame
