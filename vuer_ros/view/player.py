"""ScenePlayer: messages in; the scene and the render camera at each tick out.

The one per-tick pipeline of the viewer, shared by the live node (its ticks
are the ROS clock, sim time included, at render.rate: vuer_ros/view/live.py)
and offline rendering (ticks of bag time: vuer_ros/view/offline.py):

    player = ScenePlayer(options, resolve_mesh=...)
    player.add_topic("/tf", TF)                      # ... every subscribed topic
    player.feed(topic, cdr_bytes, receive_ns)        # every message up to t, in order
    events, camera = player.tick(t)                  # advance(t), drain_events(), camera at t
    send the events, then grab from ``camera`` (None: no camera pose yet, no image)

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
from ..render.camera import RenderCamera, matrix_to_quat
from ..render.settings import RenderSettings
from ..scene import SceneModel, TfError
from ..scene.errors import UrdfError
from ..scene.markers import MeshResolver
from ..scene.transform import Transform
from ..scene.urdf import RobotDescription
from ..displays import DISPLAY_TYPES
from .kinds import Handler, MessageKind
from .options import ViewOptions

logger = logging.getLogger("vuer_ros.view")

# A clock that jumps back by more than this resets the scene (a bag restarted).
CLOCK_JUMP_BACK_NS = 1_000_000_000

FallbackDecode = Callable[[str, bytes], Any]
"""``(ROS type, raw bytes) -> message`` for encodings the CDR decoders do not read."""


@dataclass
class _Topic:
    kind: MessageKind
    decoder: Decoder
    options: Mapping[str, Any]    # its display's options (displays.py)
    kept: deque[Any] | None       # transient-local topics: their messages, to apply again
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
        self._fixed_camera: RenderCamera | None = None
        self.resets = 0
        self.model = self._new_model(options.fixed_frame)

    def _new_model(self, fixed_frame: str) -> SceneModel:
        o = self.options
        return SceneModel(fixed_frame, resolve_mesh=self._resolve_mesh,
                          max_marker_points=o.max_marker_points, grid=o.grid,
                          marker_lists=o.marker_lists,
                          logger=logging.getLogger("vuer_ros.scene"))

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
            deque(maxlen=kind.qos.depth * 10) if kind.qos.transient_local else None
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
        self._fixed_camera = None

    def set_fixed_frame(self, frame: str) -> None:
        self.model.set_fixed_frame(frame)
        self._fixed_camera = None

    # -- ticks -------------------------------------------------------------------------------------
    def drain(self, t_ns: int) -> list[ServerEvent]:
        """Move the scene to time ``t_ns``; the events that bring a browser there."""
        last = self._last_t
        if last is not None and t_ns + CLOCK_JUMP_BACK_NS < last:
            self._reset(last - t_ns)
        self._last_t = t_ns
        self.model.advance(t_ns)
        return self.model.drain_events()

    def tick(self, t_ns: int) -> tuple[list[ServerEvent], RenderCamera | None]:
        """:meth:`drain` to ``t_ns``, and the render camera then."""
        return self.drain(t_ns), self.camera()

    def _reset(self, back_ns: int) -> None:
        # as rviz: "Detected jump back in time", everything is cleared
        logger.warning("ROS time jumped back by %.1f s (a bag restarted?); clearing TF and markers",
                       back_ns / 1e9)
        self.model = self._new_model(self.model.fixed_frame)
        self.resets += 1
        for topic, t in self._topics.items():
            t.handler = None
            for msg, receive_ns in t.kept or ():
                self._apply(topic, t, msg, receive_ns)
        if self._robot_file is not None:
            self.model.on_robot_description(self._robot_file, "robot_description_file")

    def camera(self) -> RenderCamera | None:
        """The render camera now: fixed at render.eye/target, or riding render.camera_frame
        at its latest TF; None (reported once) while that frame has no transform."""
        s = self.settings
        if not s.camera_frame:
            if self._fixed_camera is None:
                self._fixed_camera = RenderCamera.look_at(
                    s.eye, s.target, width=s.width, height=s.height, fov_y=s.fov, near=s.near,
                    far=s.far)
            return self._fixed_camera
        fixed = self.model.fixed_frame
        parent, xyz, q = s.camera_mount(fixed)
        subject = ("render-camera", parent)
        try:
            m = self.model.pose_in_fixed(parent) @ Transform(xyz, q).matrix()
        except TfError as e:
            self.problems.report(subject, "tf",
                                 f"render camera: no transform from render.camera_frame '{parent}' "
                                 f"to fixed frame '{fixed}' ({e}); no images until it is published")
            return None
        self.problems.resolve(subject)
        return RenderCamera(s.width, s.height, s.fov, s.near, s.far, np.array(m[:3, 3]),
                            matrix_to_quat(m[:3, :3]))
