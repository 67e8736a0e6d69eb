"""render_bag: a recorded bag in, rendered frames out (a new bag, a video, PNGs).

Per tick t of the window (ticks.py: ``start + k / rate`` in ``[start, end)``):
1. every bag message with bag time <= t goes into the :class:`SceneModel` with
   receive time = its bag time (TF with its history and interpolation;
   markers with lifetimes counted from their bag time, DELETEALL,
   frame_locked);
2. ``advance(t)``, ``drain_events()``: the scene a live viewer shows at sim time t;
3. those events go to the browser, then one grab from the render camera (the
   node's camera: fixed eye/target, or riding ``render.camera_frame`` by its
   latest TF, as the live node does);
4. the frame goes to the writers, stamped t.

The loop waits for every grab (it is not paced by the wall clock): no tick is
dropped or repeated however slow rendering is. While the browser renders
tick k, this thread reads and applies the messages of tick k+1 (its events
are sent only after frame k came back, so a grab that has to be retried after
a browser restart still sees exactly the scene of its tick). Renders are
deterministic: the same bag and options give the same pixels (SwiftShader
rasterises on the CPU, with no timing in the scene).

A tick whose camera frame has no transform yet produces no frame (as the live
node publishes none); it is counted in ``RenderSummary.skipped``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..render.browser import BrowserError, HeadlessBrowser
from ..render.camera import RenderCamera
from ..scene.mesh_resolver import MeshResolver
from ..server import GrabError, VuerServer
from ..server.errors import RpcError
from ..scene.errors import UrdfError
from ..scene.urdf import read_urdf_file
from .errors import (BagRenderError, FrameError, OutputError, RendererError, RobotModelError,
                     TopicError)
from .options import RenderOptions
from .outputs import OutputWriter, RenderedTick, bag_layout
from .player import ScenePlayer
from .progress import ProgressInfo
from .reader import MARKER_ARRAY_TYPE, MARKER_TYPE, TF_TOPICS, TF_TYPE, BagInput
from .ticks import NS_PER_S, TickClock

logger = logging.getLogger("vuer_ros.bag")

GRAB_ATTEMPTS = 3
# messages per copy batch after the last tick (bounded queue items)
_COPY_BATCH = 2000

TF, STATIC_TF, MARKER, MARKER_ARRAY, ROBOT = range(5)
ROBOT_DESCRIPTION_TYPE = "std_msgs/msg/String"


@dataclass
class RenderSummary:
    """What a render did (returned by :func:`render_bag`)."""

    input: str
    frames: int = 0                   # frames rendered and written
    total: int = 0                    # ticks in the window
    skipped: int = 0                  # ticks without a camera pose (no frame)
    interrupted: bool = False         # stopped early (Ctrl-C); outputs hold what was done
    stamps: list[int] = field(default_factory=list)   # bag time of each frame (ns)
    bag_start_ns: int = 0             # the bag's first message
    start_ns: int = 0                 # the window [start_ns, end_ns)
    end_ns: int = 0
    rate: float = 0.0
    width: int = 0
    height: int = 0
    elapsed_s: float = 0.0            # wall time of the render loop
    copied: int = 0                   # input messages copied into the output bag
    outputs: dict[str, str] = field(default_factory=dict)
    marker_topics: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # scene problems still active at the end
    optical_frame: str = ""
    camera_parent: str = ""

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


class Renderer:
    """A scene server on a free local port and a headless Chromium rendering it;
    reusable for several bags (each render starts with one SET of its scene).

        async with Renderer() as renderer:
            await render_bag_async(bag, "out.mcap", renderer=renderer)
    """

    def __init__(self, width: int = 640, height: int = 480, *,
                 executable: str | os.PathLike[str] | None = None) -> None:
        self.width, self.height = width, height
        self.executable = executable
        self.server = VuerServer("127.0.0.1", 0)
        self.browser: HeadlessBrowser | None = None

    async def start(self) -> "Renderer":
        await self.server.serve()
        if not self.server.static.bundle_ready:
            await self.server.stop()
            raise RendererError(f"the browser client is not built ({self.server.static.client_dir} "
                                "has no index.html); run `bash scripts/setup.sh`")
        # Chromium's window is at least 500 px wide; grabs ask for their exact size anyway
        self.browser = HeadlessBrowser(self.server, max(self.width, 500), self.height,
                                       executable=self.executable)
        try:
            await self.browser.start()
        except BrowserError as e:
            await self.server.stop()
            raise RendererError(str(e).splitlines()[0]) from None
        return self

    async def stop(self) -> None:
        if self.browser is not None:
            await self.browser.stop()
            self.browser = None
        await self.server.stop()

    async def __aenter__(self) -> "Renderer":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def grab(self, camera: RenderCamera, depth: bool, ttl: float, what: str) -> Any:
        """One frame from ``camera``; a browser that died is waited for (the watchdog
        restarts it and the server re-sends the scene) and the grab repeated."""
        assert self.browser is not None
        last: Exception | None = None
        for attempt in range(GRAB_ATTEMPTS):
            try:
                if attempt:
                    await self.browser.wait_ready(timeout=max(ttl, 30.0))
                session = self.browser.session
                return await session.grab(format="rgb", width=camera.width, height=camera.height,
                                          camera=camera, depth=depth, ttl=ttl)
            except GrabError as e:   # the browser answered with an error: repeating will not help
                raise RendererError(f"{what}: the browser could not render it: {e}") from None
            except (asyncio.TimeoutError, BrowserError, RpcError, ConnectionError) as e:
                last = e
                logger.warning("%s: grab attempt %d failed (%s: %s)", what, attempt + 1,
                               type(e).__name__, e)
        tail = self.browser.stderr_tail(5) if self.browser is not None else ""
        raise RendererError(f"{what}: {GRAB_ATTEMPTS} grabs failed (last: {type(last).__name__}: "
                            f"{last}); Chromium said: {' | '.join(tail.splitlines())}")


# -- planning -----------------------------------------------------------------------------------------
@dataclass
class _Plan:
    handlers: dict[int, int]          # connection id -> TF / STATIC_TF / MARKER / MARKER_ARRAY
    marker_topics: list[str]
    clock: TickClock
    copy_until: int | None            # copy input messages before this time (None: all)


def _marker_topics(bag: BagInput, options: RenderOptions) -> dict[str, int]:
    """topic -> MARKER / MARKER_ARRAY, by the bag's types."""
    types = bag.topic_types()
    available = sorted(t for t, ty in types.items() if ty in (MARKER_TYPE, MARKER_ARRAY_TYPE))
    kinds = {MARKER_TYPE: MARKER, MARKER_ARRAY_TYPE: MARKER_ARRAY}
    hint = (f"its marker topics: {', '.join(available)}" if available
            else "it has no visualization_msgs Marker/MarkerArray topics")
    chosen: dict[str, int] = {}
    if options.topics is not None:
        for topic in options.topics:
            if topic not in types:
                raise TopicError(f"topic {topic} is not in bag {bag.path} ({hint}); "
                                 "pass topics that are to --topics")
            if types[topic] not in kinds:
                raise TopicError(f"topic {topic} is a {types[topic]}, not a visualization_msgs "
                                 f"Marker or MarkerArray ({hint}); drop it from --topics")
            chosen[topic] = kinds[types[topic]]
        return chosen
    listed = [(t, MARKER_TYPE) for t in options.marker_topics] + \
             [(t, MARKER_ARRAY_TYPE) for t in options.marker_array_topics]
    for topic, want in listed:
        have = types.get(topic)
        if have is None:
            if options.topics_from_config:
                logger.warning("marker topic %s (from the config) is not in the bag (%s)", topic, hint)
            continue
        if have not in kinds:
            logger.warning("%s is a %s, not a marker topic; not rendered", topic, have)
            continue
        if have != want:
            logger.warning("%s is a %s topic, listed as %s; rendering it as what it is", topic,
                           have.rsplit("/", 1)[-1], want.rsplit("/", 1)[-1])
        chosen[topic] = kinds[have]
    left_out = [t for t in available if t not in chosen]
    if left_out:
        logger.warning("marker topics not rendered: %s (pass --topics to choose them)",
                       ", ".join(left_out))
    return chosen


def _window(bag: BagInput, options: RenderOptions) -> TickClock:
    rate = options.settings.rate
    start = bag.start_ns + (round(options.start * NS_PER_S) if options.start is not None else 0)
    if start > bag.end_ns:
        raise TopicError(f"--start {options.start} s is after the bag's end "
                         f"({bag.duration_ns / NS_PER_S:.3f} s after its first message)")
    if options.end is not None:
        end = bag.start_ns + round(options.end * NS_PER_S)
        if end > bag.end_ns + 1:
            logger.warning("--end %.3f s is after the bag's last message (%.3f s); the frames "
                           "after it show the scene as it was left", options.end,
                           bag.duration_ns / NS_PER_S)
    else:
        end = bag.end_ns
        if end == start:
            end = start + 1   # all messages at one instant: one frame of it
    return TickClock(start, end, rate)


def _check_frames(bag: BagInput, options: RenderOptions, camera_parent: str, clock: TickClock) -> None:
    fixed = options.fixed_frame
    wanted = {fixed} | ({camera_parent} if camera_parent != fixed else set())
    seen = bag.scan_tf_frames(wanted, stop_ns=clock.end_ns)
    if wanted <= seen.keys():
        return
    roots = sorted(f for f, is_child in seen.items() if not is_child)
    names = roots + sorted(f for f in seen if f not in roots)
    listed = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    if camera_parent != fixed and camera_parent not in seen:
        raise FrameError(
            f"camera frame '{camera_parent}' never appears in the bag's TF "
            f"({'frames: ' + listed if seen else 'the bag has no /tf or /tf_static'}); "
            "pass an existing frame to --camera-frame, or place the camera with --eye/--target")
    if seen and fixed not in seen:
        hint = f"e.g. --fixed-frame {roots[0]} (a root of the TF tree)" if roots else "--fixed-frame"
        raise FrameError(f"fixed frame '{fixed}' never appears in the bag's TF (frames: {listed}); "
                         f"pass one of them, {hint}")


def _plan(bag: BagInput, options: RenderOptions, camera_parent: str) -> _Plan:
    topics = _marker_topics(bag, options)
    handlers: dict[int, int] = {}
    for conn in bag.connections:
        if conn.topic in TF_TOPICS and conn.msgtype == TF_TYPE:
            handlers[conn.id] = STATIC_TF if conn.topic == "/tf_static" else TF
        elif conn.topic in topics:
            handlers[conn.id] = topics[conn.topic]
        elif (not options.urdf and conn.topic == options.robot_description_topic
              and conn.msgtype == ROBOT_DESCRIPTION_TYPE):
            handlers[conn.id] = ROBOT
    if not handlers:
        raise TopicError(f"nothing to render: bag {bag.path} has no /tf, /tf_static or marker "
                         f"topics (it has {', '.join(sorted(bag.topic_types())) or 'none'})")
    clock = _window(bag, options)
    _check_frames(bag, options, camera_parent, clock)
    copy_until = clock.end_ns if options.end is not None else None
    return _Plan(handlers, sorted(topics), clock, copy_until)


def _prepare_path(path: Path | None, overwrite: bool, what: str) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise OutputError(f"{what} {path} exists; remove it, choose another path, "
                              "or pass --overwrite")
        if path.is_dir() and not path.is_symlink():
            if any(path.iterdir()) and not (path / "metadata.yaml").is_file():
                raise OutputError(f"{what} {path} is a folder that is not a bag; --overwrite only "
                                  "replaces bags, remove it yourself")
            shutil.rmtree(path)
        else:
            path.unlink()
    if not path.parent.is_dir():
        raise OutputError(f"{what} {path}: folder {path.parent} does not exist")
    return path


def _prepare_frames_dir(path: Path | None, overwrite: bool) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--frames {path} is a file, not a folder")
    if path.is_dir() and any(path.glob("frame_*.png")):
        if not overwrite:
            raise OutputError(f"--frames {path} already holds frame_*.png files; empty it, choose "
                              "another folder, or pass --overwrite")
        for old in path.glob("frame_*.png"):
            old.unlink()
    return path


# -- the render ----------------------------------------------------------------------------------------
async def render_bag_async(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
                           *, video: str | os.PathLike[str] | None = None,
                           frames: str | os.PathLike[str] | None = None,
                           options: RenderOptions | None = None, renderer: Renderer | None = None,
                           progress: Callable[..., None] | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           overwrite: bool = False) -> RenderSummary:
    """Render ``input`` (a ROS 2 bag) tick by tick; see the module docstring.

    Outputs (any combination, or none to only count): ``output`` a new bag
    (``.mcap``/``.db3`` file, else a rosbag2 folder), ``video`` an MP4,
    ``frames`` a folder of PNGs. ``renderer``: a started :class:`Renderer` to
    reuse (default: one of its own). ``progress(info, final=False)`` is called
    after each frame; ``should_stop()`` is checked before each tick (True: stop
    cleanly, ``summary.interrupted``). Raises :class:`BagRenderError`
    subclasses with one-line messages; outputs are closed and readable whatever
    happens.
    """
    options = options or RenderOptions.create()
    settings = options.settings
    out_path = Path(output) if output is not None else None
    if out_path is not None:
        bag_layout(out_path, options.storage)   # a contradictory --storage fails here
    summary = RenderSummary(input=str(input), rate=settings.rate, width=settings.width,
                            height=settings.height, optical_frame=settings.optical_frame)
    with BagInput(input) as bag:
        camera_parent = settings.camera_mount(options.fixed_frame)[0]
        summary.camera_parent = camera_parent
        plan = _plan(bag, options, camera_parent)
        clock = plan.clock
        summary.marker_topics = plan.marker_topics
        summary.total = len(clock)
        summary.start_ns, summary.end_ns = clock.start_ns, clock.end_ns
        summary.bag_start_ns = bag.start_ns
        out_path = _prepare_path(out_path, overwrite, "output bag")
        video_path = _prepare_path(Path(video) if video is not None else None, overwrite, "video")
        frames_path = _prepare_frames_dir(Path(frames) if frames is not None else None, overwrite)
        writer = OutputWriter(source=bag, bag=out_path, video=video_path, frames=frames_path,
                              storage=options.storage, depth=settings.depth,
                              optical_frame=settings.optical_frame,
                              jpeg_quality=settings.jpeg_quality, rate=settings.rate,
                              width=settings.width, height=settings.height)
        writer.start()
        for key, p in (("bag", out_path), ("video", video_path), ("frames", frames_path)):
            if p is not None:
                summary.outputs[key] = str(p)
        own = renderer is None
        try:
            if renderer is None:
                renderer = await Renderer(settings.width, settings.height).start()
            await _render_loop(bag, options, plan, renderer, writer, summary, progress, should_stop)
        finally:
            try:
                if own and renderer is not None:
                    await asyncio.shield(renderer.stop())
            finally:
                writer.close()
                if writer.bag is not None:
                    summary.copied = writer.bag.copied
    if summary.frames == 0 and summary.skipped and not summary.interrupted:
        raise FrameError(f"no frame rendered: the camera frame '{camera_parent}' never connected to "
                         f"the fixed frame '{options.fixed_frame}' in TF; check --fixed-frame "
                         "and --camera-frame")
    return summary


async def _render_loop(bag: BagInput, options: RenderOptions, plan: _Plan, renderer: Renderer,
                       writer: OutputWriter, summary: RenderSummary,
                       progress: Callable[..., None] | None,
                       should_stop: Callable[[], bool] | None) -> None:
    settings = options.settings
    clock = plan.clock
    server = renderer.server
    player = ScenePlayer(options.fixed_frame, settings,
                         resolve_mesh=MeshResolver(server.static.mount, options.mesh_roots),
                         max_marker_points=options.max_marker_points, grid=options.grid)
    camera_parent, mount_xyz, mount_q = player.mount
    if options.urdf:
        try:
            player.model.set_robot(read_urdf_file(options.urdf))
        except UrdfError as e:
            raise RobotModelError(f"--urdf {options.urdf}: {e}") from None
    handlers = plan.handlers
    copying = writer.wants_copies
    reading = None if copying else list({c.id: c for c in bag.connections if c.id in handlers}.values())
    stop_ns = plan.copy_until if copying else clock.end_ns
    messages = iter(bag.messages(reading or (), stop_ns))
    pending = next(messages, None)
    undecodable: set[str] = set()
    depth = settings.depth
    ttl = options.grab_timeout

    def feed(until_ns: int) -> list[Any]:
        """Apply every message up to ``until_ns`` (inclusive); the raw ones to copy."""
        nonlocal pending
        batch: list[Any] = []
        while pending is not None and pending[1] <= until_ns:
            conn, t, raw = pending
            kind = handlers.get(conn.id)
            if kind is not None:
                try:
                    msg = bag.decode(conn, raw)
                except Exception as e:
                    if conn.topic not in undecodable:
                        undecodable.add(conn.topic)
                        logger.error("%s: cannot decode a %s (%s); such messages are skipped",
                                     conn.topic, conn.msgtype, e)
                    msg = None
                if msg is not None:
                    if kind == TF or kind == STATIC_TF:
                        player.on_tf(msg, kind == STATIC_TF)
                    elif kind == MARKER:
                        player.on_marker(msg, t)
                    elif kind == ROBOT:
                        player.model.on_robot_description(msg, conn.topic)
                    else:
                        player.on_marker_array(msg, t)
            if copying:
                batch.append(pending)
            pending = next(messages, None)
        return batch

    async def put(item: Any) -> None:
        while writer.full:   # the writers are behind: wait for them (bounded memory)
            if writer.error is not None:
                raise writer.error
            await asyncio.sleep(0.002)
        writer.put(item, block=False)

    async def finish(flight: tuple[int, int, RenderCamera, asyncio.Task[Any]]) -> None:
        k, tick, camera, task = flight
        frame = await task
        rgb = frame.rgb
        if rgb.shape[:2] != (camera.height, camera.width):
            raise RendererError(f"frame {k}: the browser answered {rgb.shape[1]}x{rgb.shape[0]}, "
                                f"asked for {camera.width}x{camera.height}")
        await put(("frame", RenderedTick(k, tick, rgb, frame.depth if depth else None, camera)))
        summary.frames += 1
        summary.stamps.append(tick)
        if progress is not None:
            progress(ProgressInfo(summary.frames, len(clock), (tick - clock.start_ns) / NS_PER_S,
                                  (clock.end_ns - clock.start_ns) / NS_PER_S,
                                  time.monotonic() - started))

    started = time.monotonic()
    flight: tuple[int, int, RenderCamera, asyncio.Task[Any]] | None = None
    try:
        for k in range(len(clock)):
            if should_stop is not None and should_stop():
                summary.interrupted = True
                break
            tick = clock.time(k)
            batch = feed(tick)            # overlaps the browser rendering the previous tick
            events, camera = player.tick(tick)
            if flight is not None:
                current, flight = flight, None
                await finish(current)
            if batch:
                await put(("copy", batch))
            if k == 0:
                await put(("camera_tf", tick, camera_parent, tuple(mount_xyz), tuple(mount_q)))
            for event in events:
                server.broadcast(event)
            if camera is None:
                summary.skipped += 1
                continue
            task = asyncio.ensure_future(renderer.grab(camera, depth, ttl, f"frame {k} "
                                                       f"(bag time {tick / NS_PER_S:.3f} s)"))
            flight = (k, tick, camera, task)
            for _ in range(3):            # let the request reach the socket before the next feed
                await asyncio.sleep(0)
        if flight is not None:
            current, flight = flight, None
            await finish(current)
        if copying and not summary.interrupted:
            # the rest of the input, after the last tick
            batch = []
            while pending is not None:
                batch.append(pending)
                pending = next(messages, None)
                if len(batch) >= _COPY_BATCH or pending is None:
                    await put(("copy", batch))
                    batch = []
    finally:
        if flight is not None:
            flight[3].cancel()
        summary.elapsed_s = time.monotonic() - started
        summary.problems = player.model.problems.messages()
        if progress is not None and summary.total:
            progress(ProgressInfo(summary.frames, len(clock),
                                  (summary.stamps[-1] - clock.start_ns) / NS_PER_S
                                  if summary.stamps else 0.0,
                                  (clock.end_ns - clock.start_ns) / NS_PER_S, summary.elapsed_s),
                     final=True)


def render_bag(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
               **kw: Any) -> RenderSummary:
    """Synchronous :func:`render_bag_async` (runs its own event loop)."""
    return asyncio.run(render_bag_async(input, output, **kw))


__all__ = ["BagRenderError", "RenderSummary", "Renderer", "render_bag", "render_bag_async"]
