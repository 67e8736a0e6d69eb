"""Offline rendering: a recording's messages in, one rendered frame per tick of its time out.

Per tick t of the window (ticks.py: ``start + k / rate`` in ``[start, end)``):
1. every message with recording time <= t goes to the :class:`ScenePlayer`,
   received at its recording time (TF with its history and interpolation;
   markers with lifetimes counted from it, DELETEALL, frame_locked);
2. ``player.tick(t)``: the scene a live viewer shows at sim time t, and the
   render cameras then (the live node's: the node's own or the listed ones, each
   fixed at eye/target, riding a camera frame or following a target frame by its
   latest TF, or on a camera path at t minus the recording's first message);
3. those events go to the browser, then one grab from each camera, in turn;
4. the frames go to the outputs, stamped t (with a camera's pose on /tf when it
   moves in the fixed frame; otherwise the poses are on /tf_static once).

The loop waits for every grab (it is not paced by the wall clock): no tick is
dropped or repeated however slow rendering is. While the browser renders
tick k, the messages of tick k+1 are read and applied (their events are sent
only after frame k came back, so a grab retried after a browser restart still
sees exactly the scene of its tick). Renders are deterministic: the same
recording and options give the same pixels (SwiftShader rasterises on the CPU,
with no timing in the scene). A tick whose camera frame has no transform yet
produces no frame of that camera (as the live node publishes none); a tick without
any frame is counted in ``RenderSummary.skipped``.

A segment (``ticks=range(first, stop)``, for rendering one recording in several
browsers at once: vuer_ros/bag/segments.py) renders only its ticks. The ticks before
it are read without rendering: every message up to each of them is decoded and
applied and the scene moved to each tick, exactly as a whole run does, so the scene
at the segment's first tick is the one a whole run has there; the segment's browser
then gets that scene in one SET (a SET and the run of changes before it give the
same scene, as for a browser that connects late).

The recording is anything with the :class:`Recording` interface (vuer_ros/bag/reader.py's
BagInput); where frames go is the :class:`Outputs` interface (vuer_ros/bag/outputs.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Protocol

import numpy as np
from rosbags.typesys.store import Typestore

from ..protocol.events import ServerEvent, Set
from ..render.camera import RenderCamera
from ..render.camera_spec import CameraSpec
from ..scene.errors import UrdfError
from ..scene.frame_id import frame_id
from ..scene.mesh_resolver import MeshResolver
from ..scene.urdf import read_urdf_file
from .errors import FrameError, RendererError, RobotModelError, TopicError
from .image_fields import Fields, static_cameras_tf
from ..displays import DISPLAY_TYPES
from .kinds import (AUTO, MARKER, MARKER_ARRAY, TF, TF_STATIC, TF_STATIC_TOPIC, TF_TOPIC, MessageKind,
                    Subscription, auto_subscription, subscriptions)
from .options import RenderOptions, absolute_topic
from .player import ScenePlayer, Shot
from .render_session import RenderSession
from .ticks import NS_PER_S, TickClock

logger = logging.getLogger("vuer_ros.bag")

GRAB_ATTEMPTS = 3
# messages per copy batch after the last tick (bounded queue items)
COPY_BATCH = 2000


class Channel(Protocol):
    """One recorded connection (rosbags' Connection has these)."""

    id: int
    topic: str
    msgtype: str


class Recording(Protocol):
    """A time-ordered stream of recorded CDR messages (vuer_ros.bag.BagInput)."""

    path: Path
    start_ns: int
    end_ns: int                      # the last message's time
    connections: list[Any]

    @property
    def duration_ns(self) -> int: ...

    def topic_types(self) -> dict[str, str]: ...

    def messages(self, connections: Collection[Any] = (), stop_ns: int | None = None
                 ) -> Iterator[tuple[Any, int, bytes]]: ...

    def typestore_for(self, connection: Any) -> Typestore: ...


@dataclass
class RenderedTick:
    """One rendered frame on its way to the outputs."""

    index: int               # tick index in the window (0-based)
    stamp_ns: int            # the tick's recording time
    rgb: np.ndarray          # HxWx3 uint8, top row first
    depth: np.ndarray | None
    camera: RenderCamera
    spec: CameraSpec         # which camera: its topics, optical frame, outputs
    camera_tf_parent: str | None = None   # the camera's pose goes with it (player.py)


class Outputs(Protocol):
    """Where an offline render goes (vuer_ros.bag.OutputWriter): items are
    ``("copy", [(channel, t, raw), ...])`` (input messages passed through, only
    when ``wants_copies``), ``("camera_tf", t, Fields)`` once, ``("frame", RenderedTick)``."""

    wants_copies: bool
    error: BaseException | None

    @property
    def full(self) -> bool: ...

    def put(self, item: Any, block: bool = True) -> None: ...


@dataclass
class ProgressInfo:
    done: int            # frames rendered
    total: int           # frames in the window
    bag_time_s: float    # the last rendered tick, seconds from the window start
    window_s: float      # the window's length in seconds
    elapsed_s: float     # wall time since the first frame was asked for

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def remaining_s(self) -> float | None:
        r = self.rate
        return (self.total - self.done) / r if r > 0 else None


Progress = Callable[..., None]
"""``progress(info: ProgressInfo, final: bool = False)``."""


@dataclass
class RenderSummary:
    """What a render did."""

    input: str
    frames: int = 0                   # ticks rendered and written (each camera's frame)
    total: int = 0                    # ticks in the window
    skipped: int = 0                  # ticks without any camera pose (no frame)
    cameras: dict[str, int] = field(default_factory=dict)   # camera name -> its frames
    interrupted: bool = False         # stopped early (Ctrl-C); outputs hold what was done
    stamps: list[int] = field(default_factory=list)   # recording time of each frame (ns)
    bag_start_ns: int = 0             # the recording's first message
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


# -- planning -----------------------------------------------------------------------------------------
@dataclass
class Plan:
    topics: dict[str, Subscription]   # recorded topic -> what it is shown as
    clock: TickClock
    copy_until: int | None            # copy input messages before this time (None: all)

    @property
    def marker_topics(self) -> list[str]:
        return sorted(t for t, s in self.topics.items() if s.kind in (MARKER, MARKER_ARRAY))


def _shown_as(topic: str, have: str, want: MessageKind) -> MessageKind | None:
    """The kind a configured topic is shown as, given the type it was recorded with (a
    Marker topic listed as MarkerArray renders as what it is; other types are not shown)."""
    if have == want.msgtype:
        return want
    kind = AUTO.get(have)
    if kind is None or want not in (MARKER, MARKER_ARRAY) or kind not in (MARKER, MARKER_ARRAY):
        logger.warning("%s is a %s, not a %s topic; not rendered", topic, have, want.label)
        return None
    logger.warning("%s is a %s topic, listed as %s; rendering it as what it is", topic,
                   kind.label, want.label)
    return kind


def choose_topics(recording: Recording, options: RenderOptions) -> dict[str, Subscription]:
    """Recorded topic -> what it is shown as: TF, the topics ``--topics`` names, or else the
    configured displays and marker topics, the robot description, and (``displays.auto``)
    every other topic of a type with a display."""
    types = recording.topic_types()
    chosen: dict[str, Subscription] = {}
    for topic, kind in ((TF_TOPIC, TF), (TF_STATIC_TOPIC, TF_STATIC)):
        if types.get(topic) == kind.msgtype:
            chosen[topic] = Subscription(topic, kind)
    shown = sorted(t for t, ty in types.items() if ty in AUTO)
    hint = (f"topics it can show: {', '.join(shown)}" if shown
            else "it has no topics of a type vuer_ros shows")
    if options.topics is not None:
        for topic in options.topics:
            if topic not in types:
                raise TopicError(f"topic {topic} is not in bag {recording.path} ({hint}); "
                                 "pass topics that are to --topics")
            found = AUTO.get(types[topic])
            if found is None:
                raise TopicError(f"topic {topic} is a {types[topic]}, not a visualization_msgs "
                                 f"marker or another type vuer_ros shows ({hint}); drop it from "
                                 "--topics")
            chosen[topic] = Subscription(topic, found,
                                         DISPLAY_TYPES[found.display or ""].defaults())
    else:
        for sub in subscriptions(options.view):
            if sub.kind in (TF, TF_STATIC):
                continue
            topic = absolute_topic(sub.topic)
            have = types.get(topic)
            if have is None:
                if options.topics_from_config and sub.kind in (MARKER, MARKER_ARRAY):
                    logger.warning("marker topic %s (from the config) is not in the bag (%s)",
                                   topic, hint)
                continue
            shown_as = _shown_as(topic, have, sub.kind)
            if shown_as is not None:
                chosen[topic] = Subscription(topic, shown_as, sub.options)
        for topic in shown:
            if topic not in chosen:
                auto = auto_subscription(options.view, topic, types[topic])
                if auto is not None:
                    chosen[topic] = auto
        left_out = [t for t in shown if t not in chosen and t not in options.view.hidden_topics]
        if left_out:
            logger.warning("topics not rendered: %s (displays.auto is off; list them as displays "
                           "or pass --topics)", ", ".join(left_out))
    if not chosen:
        raise TopicError(f"nothing to render: bag {recording.path} has no /tf, /tf_static or "
                         f"topics of a type vuer_ros shows (it has "
                         f"{', '.join(sorted(types)) or 'none'})")
    return chosen


def window(recording: Recording, options: RenderOptions) -> TickClock:
    rate = options.settings.rate
    start = recording.start_ns + (round(options.start * NS_PER_S) if options.start is not None else 0)
    if start > recording.end_ns:
        raise TopicError(f"--start {options.start} s is after the bag's end "
                         f"({recording.duration_ns / NS_PER_S:.3f} s after its first message)")
    if options.end is not None:
        end = recording.start_ns + round(options.end * NS_PER_S)
        if end > recording.end_ns + 1:
            logger.warning("--end %.3f s is after the bag's last message (%.3f s); the frames "
                           "after it show the scene as it was left", options.end,
                           recording.duration_ns / NS_PER_S)
    else:
        end = recording.end_ns
        if end == start:
            end = start + 1   # all messages at one instant: one frame of it
    return TickClock(start, end, rate)


def scan_tf_frames(recording: Recording, wanted: Collection[str],
                   stop_ns: int | None = None) -> dict[str, bool]:
    """Frame names in /tf and /tf_static (before ``stop_ns``) -> whether the frame is
    some transform's child (roots are not), reading only until every frame in
    ``wanted`` was seen: checking that the fixed and camera frames exist costs a
    few messages when they do."""
    kinds = {TF_TOPIC: TF, TF_STATIC_TOPIC: TF_STATIC}
    connections = [c for c in recording.connections
                   if c.topic in kinds and c.msgtype == TF.msgtype]
    decoders = {c.id: kinds[c.topic].decoder(0, recording.typestore_for(c)) for c in connections}
    seen: dict[str, bool] = {}
    wanted = {frame_id(w) for w in wanted}
    missing = {w for w in wanted if w}
    if not connections:
        return seen
    for conn, _, raw in recording.messages(connections, stop_ns):
        try:
            msg = decoders[conn.id].decode(raw)
        except Exception:
            continue   # the render reports undecodable messages once
        for t in msg.transforms:
            parent = frame_id(str(t.header.frame_id))
            child = frame_id(str(t.child_frame_id))
            if parent:
                seen.setdefault(parent, False)
            if child:
                seen[child] = True
            missing.discard(parent)
            missing.discard(child)
        if not missing and wanted:
            break
    return seen


def check_frames(recording: Recording, options: RenderOptions, clock: TickClock) -> None:
    """FrameError (naming the frames there are) when the fixed frame, or a frame a camera
    is placed by, never appears in the recording's TF."""
    fixed = frame_id(options.fixed_frame)
    needed: dict[str, str] = {}   # frame -> what names it
    for spec in options.settings.camera_specs:
        for frame, what in spec.tf_frames().items():
            needed.setdefault(frame_id(frame), what)
    needed.pop(fixed, None)
    wanted = {fixed} | set(needed)
    seen = scan_tf_frames(recording, wanted, stop_ns=clock.end_ns)
    if wanted <= seen.keys():
        return
    roots = sorted(f for f, is_child in seen.items() if not is_child)
    names = roots + sorted(f for f in seen if f not in roots)
    listed = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    frames = "frames: " + listed if seen else "the bag has no /tf or /tf_static"
    for frame, what in needed.items():
        if frame in seen:
            continue
        if what in ("render.camera_frame", "render.target_frame"):   # the flags' camera
            following = what == "render.target_frame"
            name, flag = ("target frame", "--target-frame") if following else ("camera frame",
                                                                               "--camera-frame")
            raise FrameError(f"{name} '{frame}' never appears in the bag's TF ({frames}); pass "
                             f"an existing frame to {flag}, or place the camera with --eye/--target")
        raise FrameError(f"{what}: frame '{frame}' never appears in the bag's TF ({frames}); "
                         "name an existing frame")
    if seen and fixed not in seen:
        hint = f"e.g. --fixed-frame {roots[0]} (a root of the TF tree)" if roots else "--fixed-frame"
        raise FrameError(f"fixed frame '{fixed}' never appears in the bag's TF (frames: {listed}); "
                         f"pass one of them, {hint}")


def plan(recording: Recording, options: RenderOptions) -> Plan:
    topics = choose_topics(recording, options)
    clock = window(recording, options)
    check_frames(recording, options, clock)
    copy_until = clock.end_ns if options.end is not None else None
    return Plan(topics, clock, copy_until)


# -- the render -----------------------------------------------------------------------------------------
async def render_recording(recording: Recording, options: RenderOptions, session: RenderSession,
                           outputs: Outputs, summary: RenderSummary, *,
                           the_plan: Plan | None = None, progress: Progress | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           ticks: range | None = None) -> None:
    """Render ``recording`` tick by tick into ``outputs`` (see the module docstring),
    filling ``summary``. ``the_plan``: :func:`plan`'s, when the caller checked it first.
    ``ticks``: a segment, the tick indices to render (default: the whole window); a
    segment that does not start at tick 0 writes no input copies (``outputs.wants_copies``
    must be false). Raises :class:`~vuer_ros.view.errors.RenderError` subclasses."""
    settings = options.settings
    the_plan = the_plan or plan(recording, options)
    clock = the_plan.clock
    ticks = range(len(clock)) if ticks is None else ticks
    if ticks.step != 1 or not 0 <= ticks.start <= ticks.stop <= len(clock):
        raise ValueError(f"ticks {ticks}: a segment of range({len(clock)})")
    whole = len(ticks) == len(clock)
    if ticks.start > 0 and outputs.wants_copies:
        raise ValueError("a segment after tick 0 cannot copy the input (its join does)")
    summary.camera_parent = settings.camera_parent(options.fixed_frame)
    summary.marker_topics = the_plan.marker_topics
    summary.total = len(ticks)
    summary.start_ns = clock.time(ticks.start) if ticks.start < len(clock) else clock.end_ns
    summary.end_ns = clock.time(ticks.stop) if ticks.stop < len(clock) else clock.end_ns
    summary.bag_start_ns = recording.start_ns

    resolver = MeshResolver(session.mount, options.view.mesh_roots, embed=session.embed)
    player = ScenePlayer(options.view, resolve_mesh=resolver)
    player.path_start_ns = recording.start_ns   # camera paths run in bag time from its start
    summary.cameras = {spec.name: 0 for spec in settings.camera_specs}
    if options.urdf:
        try:
            player.set_robot_file(read_urdf_file(options.urdf))
        except UrdfError as e:
            raise RobotModelError(f"--urdf {options.urdf}: {e}") from None
    keys: dict[int, str] = {}          # connection id -> the player's topic key
    stores: dict[str, Typestore] = {}
    for conn in recording.connections:
        sub = the_plan.topics.get(conn.topic)
        if sub is None or conn.msgtype != sub.kind.msgtype:
            continue
        store = recording.typestore_for(conn)
        key = conn.topic
        if key in stores and stores[key] is not store:
            key = f"{conn.topic} (connection {conn.id})"   # another definition on the same topic
        if key not in stores:
            stores[key] = store
            player.add_topic(key, sub.kind, store, sub.options)
        keys[conn.id] = key

    copying = outputs.wants_copies
    reading = None if copying else [c for c in recording.connections if c.id in keys]
    stop_ns = the_plan.copy_until if copying else clock.end_ns
    messages = iter(recording.messages(reading or (), stop_ns))
    pending = next(messages, None)
    depth = settings.depth

    def feed(until_ns: int) -> list[Any]:
        """Apply every message up to ``until_ns`` (inclusive); the raw ones to copy."""
        nonlocal pending
        batch: list[Any] = []
        while pending is not None and pending[1] <= until_ns:
            conn, t, raw = pending
            key = keys.get(conn.id)
            if key is not None:
                player.feed(key, raw, t)
            if copying:
                batch.append(pending)
            pending = next(messages, None)
        return batch

    async def put(item: Any) -> None:
        while outputs.full:   # the writers are behind: wait for them (bounded memory)
            if outputs.error is not None:
                raise outputs.error
            await asyncio.sleep(0.002)
        outputs.put(item, block=False)

    async def grab_each(k: int, tick: int, posed: list[tuple[CameraSpec, RenderCamera]]) -> list[Any]:
        """Each camera's frame, one after the other (no events in between: one instant)."""
        frames = []
        for spec, camera in posed:
            name = f" of camera '{spec.name}'" if spec.name else ""
            frames.append(await session.grab(camera, depth=depth, attempts=GRAB_ATTEMPTS,
                                             what=f"frame {k}{name} (bag time {tick / NS_PER_S:.3f} s)"))
        return frames

    async def finish(flight: tuple[int, int, list[tuple[CameraSpec, RenderCamera, str | None]],
                                   asyncio.Task[Any]]) -> None:
        k, tick, posed, task = flight
        frames = await task
        for (spec, camera, parent), frame in zip(posed, frames):
            await put(("frame", RenderedTick(k, tick, frame.rgb, frame.depth if depth else None,
                                             camera, spec, parent)))
            summary.cameras[spec.name] += 1
        summary.frames += 1
        summary.stamps.append(tick)
        if progress is not None:
            progress(ProgressInfo(summary.frames, len(ticks), (tick - summary.start_ns) / NS_PER_S,
                                  (summary.end_ns - summary.start_ns) / NS_PER_S,
                                  time.monotonic() - started))

    started = time.monotonic()
    flight: tuple[int, int, list[tuple[CameraSpec, RenderCamera, str | None]],
                  asyncio.Task[Any]] | None = None
    try:
        for k in range(ticks.start):      # before the segment: read, not rendered
            if should_stop is not None and should_stop():
                summary.interrupted = True
                break
            feed(clock.time(k))
            player.drain(clock.time(k))
        for k in ticks:
            if summary.interrupted or should_stop is not None and should_stop():
                summary.interrupted = True
                break
            tick = clock.time(k)
            batch = feed(tick)            # overlaps the browser rendering the previous tick
            events, shots = player.tick(tick)
            posed = _posed(player, shots)
            if k == ticks.start and k > 0:
                events = _whole_scene(player)
            if flight is not None:
                current, flight = flight, None
                await finish(current)
            if batch:
                await put(("copy", batch))
            if k == 0:
                static_tf = camera_tf(options, tick)
                if static_tf is not None:
                    await put(("camera_tf", tick, static_tf))
            for event in events:
                session.broadcast(event)
            if not posed:
                summary.skipped += 1
                continue
            task = asyncio.ensure_future(grab_each(k, tick, [(s, c) for s, c, _ in posed]))
            flight = (k, tick, posed, task)
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
                if len(batch) >= COPY_BATCH or pending is None:
                    await put(("copy", batch))
                    batch = []
    finally:
        if flight is not None:
            flight[3].cancel()
        summary.elapsed_s = time.monotonic() - started
        summary.problems = player.problems.messages()
        if progress is not None and summary.total:
            progress(ProgressInfo(summary.frames, len(ticks),
                                  (summary.stamps[-1] - summary.start_ns) / NS_PER_S
                                  if summary.stamps else 0.0,
                                  (summary.end_ns - summary.start_ns) / NS_PER_S, summary.elapsed_s),
                     final=True)
    if whole:
        check_some_frame(summary, options)


def check_some_frame(summary: RenderSummary, options: RenderOptions) -> None:
    """FrameError when a whole window gave no frame because the camera never had a pose
    (also the check of a render in segments, vuer_ros/bag/parallel.py)."""
    settings = options.settings
    if summary.frames == 0 and summary.skipped and not summary.interrupted:
        frames = sorted({f for spec in settings.camera_specs for f in spec.tf_frames()})
        if settings.cameras or settings.camera_path is not None:
            raise FrameError(f"no frame rendered: the frames the cameras are placed by "
                             f"({', '.join(frames)}) never connected to the fixed frame "
                             f"'{options.fixed_frame}' in TF; check --fixed-frame and the cameras")
        flag = "--camera-frame" if options.settings.camera_frame else "--target-frame"
        raise FrameError(f"no frame rendered: the camera's frame '{summary.camera_parent}' never "
                         f"connected to the fixed frame '{options.fixed_frame}' in TF; check "
                         f"--fixed-frame and {flag}")


def _posed(player: ScenePlayer, shots: list[Shot]) -> list[tuple[CameraSpec, RenderCamera, str | None]]:
    """The cameras with a pose at this tick, each with the frame its pose goes out in."""
    return [(spec, camera, player.camera_tf_parent(spec)) for spec, camera in shots
            if camera is not None]


def camera_tf(options: RenderOptions, stamp_ns: int) -> Fields | None:
    """The optical frames of the cameras fixed on TF, on /tf_static once at tick 0 (also
    by the join of a render in segments, vuer_ros/bag/join.py); None when none is."""
    return static_cameras_tf(stamp_ns, options.settings.camera_specs, options.fixed_frame)


def _whole_scene(player: ScenePlayer) -> list[ServerEvent]:
    """The scene as it is now, as one SET (a segment's first tick: its browser has
    seen none of the changes before)."""
    return [Set(player.model.initial_scene())]


__all__ = ["GRAB_ATTEMPTS", "Outputs", "Plan", "ProgressInfo", "Recording", "RenderSummary",
           "RenderedTick", "RendererError", "camera_tf", "check_some_frame", "plan",
           "render_recording", "scan_tf_frames"]
