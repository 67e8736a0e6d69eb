"""ScenePlayer: messages in; the scene and the render camera at each tick out.

The one per-tick pipeline of the viewer, shared by the live node (its ticks
are the ROS clock, sim time included, at render.rate: vuer_ros/view/live.py)
and offline rendering (ticks of bag time: vuer_ros/view/offline.py):

    player = ScenePlayer(options, resolve_mesh=...)
    player.add_topic("/tf", TF)                      # ... every subscribed topic
    player.feed(topic, cdr_bytes, receive_ns)        # every message up to t, in order
    events, shots = player.tick(t)                   # advance(t), drain_events(), cameras at t
    send the events, then grab from each shot's camera (None: no camera pose yet, no image)

The cameras are the settings' ``camera_specs`` (render/camera_spec.py): the node's own,
or the listed ones. A camera on a path reads the time since the path's start
(:attr:`ScenePlayer.path_start_ns`): offline rendering sets it to the bag's first
message; live it is the first tick with a running clock, and again after a reset.

Messages count as received at ``receive_ns`` (bag time offline, the ROS clock
live), so lifetimes and TF lookups agree between the two. Bad input is
reported once per cause (the model's ProblemLog) and skipped.

A clock that jumps back by more than a second (a bag played in a loop)
clears the scene, as rviz does; what a new subscriber would receive again
(the messages of transient-local topics: /tf_static, the robot description)
is applied again.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from rosbags.typesys.store import Typestore

from ..cdr import CdrError, Decoder, UnsupportedEncoding
from ..protocol.events import ServerEvent
from ..render.camera import RenderCamera
from ..render.camera_spec import CameraSpec
from ..render.settings import RenderSettings
from ..scene import SceneModel, TfError
from ..scene.errors import UrdfError
from ..scene.frame_id import frame_id
from ..scene.markers import MeshResolver
from ..scene.tf_display import TfDisplay
from ..scene.urdf import RobotDescription
from ..displays import DISPLAY_TYPES, TF
from .kinds import Handler, MessageKind
from .options import ViewOptions

logger = logging.getLogger("vuer_ros.view")

# A clock that jumps back by more than this resets the scene (a bag restarted).
CLOCK_JUMP_BACK_NS = 1_000_000_000

FallbackDecode = Callable[[str, bytes], Any]
"""``(ROS type, raw bytes) -> message`` for encodings the CDR decoders do not read."""

Shot = tuple[CameraSpec, "RenderCamera | None"]
"""A camera at a tick: its spec and where it is (None: no pose yet, no image)."""


@dataclass
class _Topic:
    kind: MessageKind
    decoder: Decoder
    options: Mapping[str, Any]    # its display's options (displays.py)
    # transient-local topics: their last ``depth`` messages (what a new subscriber would get
    # from a latched publisher), to apply again after a reset
    kept: deque[Any] | None
    handler: Handler | None = None   # what ``kind.attach`` gave, on the current model


class ScenePlayer:
    def __init__(self, options: ViewOptions, *, resolve_mesh: MeshResolver | None = None,
                 fallback_decode: FallbackDecode | None = None) -> None:
        self.options = options
        self.settings = options.settings
        self.fallback_decode = fallback_decode
        self._resolve_mesh = resolve_mesh
        self._topics: dict[str, _Topic] = {}
        self._robot_file: RobotDescription | UrdfError | None = None
        self._last_t: int | None = None
        # ns of ROS/bag time where camera paths start (None: at the next tick with a clock)
        self.path_start_ns: int | None = None
        self.resets = 0
        self.tf_display: TfDisplay | None = None
        self.model = self._new_model(options.fixed_frame)

    def _new_model(self, fixed_frame: str) -> SceneModel:
        o = self.options
        model = SceneModel(fixed_frame, resolve_mesh=self._resolve_mesh,
                           max_marker_points=o.max_marker_points, grid=o.grid,
                           marker_lists=o.marker_lists,
                           logger=logging.getLogger("vuer_ros.scene"))
        # the optical frames the node publishes for its images come back on /tf_static: they
        # are the images' frames, not the scene's (and would hang under an old fixed frame)
        model.frames.ignored = self._optical_frames()
        tf = next((d for d in o.displays if d.type == TF.name and d.enabled), None)
        self.tf_display = None if tf is None else model.add_display(
            TfDisplay(model.frames, model.problems, tf.options, self._camera_frames()))
        return model

    def _optical_frames(self) -> frozenset[str]:
        return frozenset(spec.optical_frame for spec in self.settings.camera_specs)

    def _camera_frames(self) -> set[str]:
        """The frames at the render cameras' lenses, which the TF display leaves out."""
        return {f for spec in self.settings.camera_specs
                for f in (spec.optical_frame, frame_id(spec.camera_frame)) if f}

    @property
    def problems(self) -> Any:
        return self.model.problems

    @property
    def fixed_frame(self) -> str:
        return self.model.fixed_frame

    # -- inputs -------------------------------------------------------------------------------
    def add_topic(self, topic: str, kind: MessageKind, store: Typestore | None = None,
                  options: Mapping[str, Any] | None = None) -> None:
        """Accept messages of ``kind`` on ``topic``, written with ``store``'s definitions
        (a bag's; None: Jazzy's, as live), shown with these display ``options``
        (default: its display type's)."""
        if options is None:
            dtype = DISPLAY_TYPES.get(kind.display or "")
            options = dtype.defaults() if dtype is not None else {}
        kept: deque[Any] | None = \
            deque(maxlen=kind.qos.depth) if kind.qos.transient_local else None
        self._topics[topic] = _Topic(kind, kind.decoder(self.options.max_marker_points, store),
                                     options, kept)

    def kind_of(self, topic: str) -> MessageKind | None:
        t = self._topics.get(topic)
        return t.kind if t is not None else None

    def decode(self, topic: str, payload: Any) -> Any | None:
        """CDR bytes -> the message (a message object passes through); None, reported
        once per topic, when the bytes cannot be read."""
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            return payload
        t = self._topics[topic]
        try:
            return t.decoder.decode(bytes(payload))
        except UnsupportedEncoding as e:
            if self.fallback_decode is not None:
                # not plain CDR (e.g. XCDR2 from another middleware): the middleware's own
                # deserialiser, slower but complete
                try:
                    return self.fallback_decode(t.kind.msgtype, bytes(payload))
                except Exception as fallback_error:
                    e = UnsupportedEncoding(f"{e}; the middleware could not either: {fallback_error}")
            self.problems.report(("topic", topic), "cdr", f"{topic}: {e}; skipped", logging.ERROR)
        except CdrError as e:
            self.problems.report(("topic", topic), "cdr",
                                 f"{topic}: cannot decode a {t.kind.label} of {len(payload)} bytes "
                                 f"({e}); skipped", logging.ERROR)
        return None

    def apply(self, topic: str, msg: Any, receive_ns: int) -> None:
        """Apply a decoded message received at ``receive_ns``."""
        t = self._topics[topic]
        if t.kept is not None:
            t.kept.append((msg, receive_ns))
        self._apply(topic, t, msg, receive_ns)

    def _apply(self, topic: str, t: _Topic, msg: Any, receive_ns: int) -> None:
        try:
            if t.handler is None:   # the first message on this model: its display is made
                t.handler = t.kind.attach(self.model, topic, t.options)
            t.handler(msg, receive_ns)
        except Exception as e:  # bad input never stops the others
            self.problems.report(("input", topic, type(e).__name__), "exception",
                                 f"{topic}: a message could not be applied "
                                 f"({type(e).__name__}: {e}); skipped", logging.ERROR)

    def feed(self, topic: str, payload: Any, receive_ns: int) -> None:
        """Decode (if bytes) and apply one message."""
        msg = self.decode(topic, payload)
        if msg is not None:
            self.apply(topic, msg, receive_ns)

    def supersedes(self, topic: str, current: Any, later: Any) -> bool:
        """Whether a later message of ``topic`` makes ``current`` pointless to apply."""
        check = self._topics[topic].kind.supersedes
        return check is not None and check(current, later)

    def set_robot_file(self, description: RobotDescription | UrdfError) -> None:
        """A robot description read from a file (or the error reading it), shown as a
        /robot_description message would be; kept across resets."""
        self._robot_file = description
        self.model.on_robot_description(description, "robot_description_file")

    # -- settings ----------------------------------------------------------------------------------
    def configure(self, settings: RenderSettings) -> None:
        self.settings = settings
        self.model.frames.ignored = self._optical_frames()
        if self.tf_display is not None:
            self.tf_display.set_hidden(self._camera_frames())

    def set_fixed_frame(self, frame: str) -> None:
        self.model.set_fixed_frame(frame)

    # -- ticks -------------------------------------------------------------------------------------
    def drain(self, t_ns: int) -> list[ServerEvent]:
        """Move the scene to time ``t_ns``; the events that bring a browser there."""
        last = self._last_t
        if last is not None and t_ns + CLOCK_JUMP_BACK_NS < last:
            self._reset(last - t_ns)
        self._last_t = t_ns
        self.model.advance(t_ns)
        return self.model.drain_events()

    def tick(self, t_ns: int) -> tuple[list[ServerEvent], list[Shot]]:
        """:meth:`drain` to ``t_ns``, and every render camera then."""
        events = self.drain(t_ns)
        if self.path_start_ns is None and t_ns > 0:   # before a /clock, sim time reads 0
            self.path_start_ns = t_ns
            for spec in self.settings.camera_specs:
                if spec.path is not None:
                    logger.info("%s: camera path %s starts (t = 0) at ROS time %.9f s", spec.label,
                                spec.path.source, t_ns / 1e9)
        return events, self.cameras()

    def _reset(self, back_ns: int) -> None:
        # as rviz: "Detected jump back in time", everything is cleared
        logger.warning("ROS time jumped back by %.1f s (a bag restarted?); clearing TF and markers",
                       back_ns / 1e9)
        self.model = self._new_model(self.model.fixed_frame)
        self.resets += 1
        self.path_start_ns = None   # camera paths start again, with the bag
        for topic, t in self._topics.items():
            t.handler = None
            for msg, receive_ns in t.kept or ():
                self._apply(topic, t, msg, receive_ns)
        if self._robot_file is not None:
            self.model.on_robot_description(self._robot_file, "robot_description_file")

    @property
    def path_time_s(self) -> float:
        """Seconds since camera paths started, at the last drained time (0 before)."""
        if self.path_start_ns is None or self._last_t is None:
            return 0.0
        return (self._last_t - self.path_start_ns) / 1e9

    def cameras(self) -> list[Shot]:
        """Every render camera now (the settings' ``camera_specs``, in order)."""
        return [(spec, self.camera(spec)) for spec in self.settings.camera_specs]

    def camera(self, spec: CameraSpec | None = None) -> RenderCamera | None:
        """A render camera now (default: the first, the node's own unless cameras are
        listed): fixed at its eye/target, following its target_frame's origin (eye and
        target are offsets from it; the orientation stays), riding its camera_frame by
        the latest TF, or on its path at :attr:`path_time_s`; None (reported once) while
        a frame it needs has no transform."""
        spec = spec or self.settings.camera_specs[0]
        try:
            camera = spec.camera(self.path_time_s, self._pose)
        except ValueError as e:   # a path whose eye meets its target
            self.problems.report(("render-camera", spec.name, "path"), "path",
                                 f"{spec.label}: {e} at {self.path_time_s:.3f} s of its path "
                                 f"({spec.path_key}); no image there", logging.ERROR)
            return None
        self.problems.resolve(("render-camera", spec.name, "path"))
        return camera

    def camera_tf_parent(self, spec: CameraSpec | None = None) -> str | None:
        """The frame a camera's pose goes out in with each image (image_fields.py): the
        fixed frame while the camera moves in it (following a target_frame, on a path);
        None while its pose is fixed on TF (the node's /tf_static, the output bag's
        camera TF)."""
        spec = spec or self.settings.camera_specs[0]
        fixed = self.model.fixed_frame
        return fixed if spec.camera_mount(fixed) is None else None

    def _pose(self, frame: str, parameter: str) -> np.ndarray | None:
        """``frame`` in the fixed frame (4x4) by the latest TF; None, reported once, while
        TF cannot say."""
        fixed = self.model.fixed_frame
        subject = ("render-camera", frame)
        try:
            m = self.model.pose_in_fixed(frame)
        except TfError as e:
            self.problems.report(subject, "tf",
                                 f"render camera: no transform from {parameter} '{frame}' to fixed "
                                 f"frame '{fixed}' ({e}); no images until it is published")
            return None
        self.problems.resolve(subject)
        return m
