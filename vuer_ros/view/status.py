"""StatusReporter: the live view's status event for the browsers' panels.

What a browser's panel needs and the scene tree does not carry (the fields:
vuer_ros/protocol/status.py): the displays with the key prefixes of what each draws
(the scene displays' ``key_prefixes``), each marker topic's namespaces, the TF frames,
the render camera and rviz's default view, the rates (RenderStats) and the recent
problems (the scene model's ProblemLog).

The live view (live.py) calls :meth:`note` for every message it applies, and
:meth:`event` once per STATUS_PERIOD_S on its own thread. Marker namespaces are noted
per topic here because the marker display keeps one namespace space for all marker
topics (as rviz keys markers by ns and id); a namespace is listed under every topic it
came on, while it has markers.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from ..protocol.events import ServerEvent
from ..protocol.status import RECENT_PROBLEMS, status_event
from ..render.camera import RenderCamera
from ..render.rviz_view import RVIZ_ORBIT_DEFAULTS, rviz_orbit_camera
from ..render.settings import RenderSettings
from ..scene import SceneModel
from ..scene.keys import frame_key
from ..scene.marker_display import MarkerDisplay, namespace_prefix
from ..scene.robot_display import RobotDisplay
from .kinds import MARKER, MARKER_ARRAY, TF, TF_STATIC, MessageKind, Subscription, array_namespaces
from .options import ViewOptions
from .stats import RenderStats

# the window images/s is measured over (s)
IMAGE_RATE_WINDOW_S = 2.0


class StatusReporter:
    def __init__(self, options: ViewOptions, stats: RenderStats,
                 sim_time: Callable[[], bool] = lambda: False) -> None:
        self.options = options
        self.stats = stats
        self.sim_time = sim_time
        self._received: dict[str, int] = {}                  # topic -> messages applied
        self._namespaces: dict[str, dict[str, None]] = {}    # marker topic -> namespaces seen
        self._since = (time.monotonic(), stats.messages)

    def note(self, topic: str, kind: MessageKind | None, msg: Any) -> None:
        """A message of ``topic`` is being applied."""
        self._received[topic] = self._received.get(topic, 0) + 1
        if kind is MARKER:
            self._namespaces.setdefault(topic, {})[str(msg.ns)] = None
        elif kind is MARKER_ARRAY:
            seen = self._namespaces.setdefault(topic, {})
            for ns in array_namespaces(msg):
                seen[ns] = None

    def event(self, model: SceneModel, subscriptions: Sequence[Subscription],
              settings: RenderSettings, time_ns: int,
              camera: RenderCamera | None = None) -> ServerEvent:
        """The status now: ``model`` as last drained at ROS time ``time_ns``; ``camera``:
        the render camera of the last tick (used when it hangs on no frame for good)."""
        now = time.monotonic()
        since, messages = self._since
        self._since = (now, self.stats.messages)
        problems = model.problems.active()
        return status_event({
            "time": time_ns / 1e9,
            "simTime": bool(self.sim_time()),
            "fixedFrame": model.fixed_frame,
            "sceneRate": (self.stats.messages - messages) / max(now - since, 1e-3),
            "imageRate": self.stats.rate(IMAGE_RATE_WINDOW_S),
            "imageRateTarget": settings.rate,
            "problems": len(problems),
            "recentProblems": [p.message for p in problems[-RECENT_PROBLEMS:]],
            "displays": self._displays(model, subscriptions),
            "frames": _frames(model),
            "camera": _camera(model, settings, camera),
            "rvizView": _rviz_view(),
        })

    # -- the displays --------------------------------------------------------------------------
    def _displays(self, model: SceneModel, subscriptions: Sequence[Subscription]) -> list[dict[str, Any]]:
        by_topic = {d.topic: d for d in model.displays if d.topic is not None}
        markers = next(d for d in model.displays if isinstance(d, MarkerDisplay))
        robot = next(d for d in model.displays if isinstance(d, RobotDisplay))
        # displays of no topic besides the markers and the robot: the TF display's
        tf_keys = [k for d in model.displays if d.topic is None and d is not markers
                   and d is not robot for k in d.key_prefixes()]
        tf_messages = sum(self._received.get(sub.topic, 0) for sub in subscriptions
                          if sub.kind in (TF, TF_STATIC))
        out = [_entry("TF", "/tf, /tf_static", "/tf", tf_messages, tf_keys)]
        if self.options.robot_description_file:
            out.append(_entry("RobotModel", self.options.robot_description_file, "", 0,
                              robot.key_prefixes()))
        present = set(markers.registry.namespaces())
        for sub in subscriptions:
            kind, topic = sub.kind, sub.topic
            if kind in (TF, TF_STATIC) or kind.display is None:
                continue
            received = self._received.get(topic, 0)
            if kind in (MARKER, MARKER_ARRAY):
                namespaces = [ns for ns in self._namespaces.get(topic, {}) if ns in present]
                children = [_entry("Namespace", ns or "(no namespace)", topic, 0,
                                   [namespace_prefix(ns)], parent=f"{kind.display}:{topic}")
                            for ns in sorted(namespaces)]
                out.append(_entry(kind.display, topic, topic, received,
                                  [k for c in children for k in c["keys"]], children))
            elif kind.display == "RobotModel":
                out.append(_entry(kind.display, topic, topic, received, robot.key_prefixes()))
            else:
                shown = by_topic.get(topic)
                out.append(_entry(kind.display, topic, topic, received,
                                  shown.key_prefixes() if shown is not None else []))
        return out


def _entry(dtype: str, name: str, topic: str, messages: int, keys: list[str],
           children: list[dict[str, Any]] | None = None, parent: str = "") -> dict[str, Any]:
    """One display: its id is ``<type>:<topic>`` (a namespace: ``<its topic's id>/<ns>``;
    TF: ``TF``), the same in every status."""
    ident = f"{parent}/{name}" if parent else ("TF" if dtype == "TF" else f"{dtype}:{topic or name}")
    return {"id": ident, "type": dtype, "name": name, "topic": topic, "messages": messages,
            "keys": keys, "children": children or []}


def _frames(model: SceneModel) -> list[dict[str, Any]]:
    tf = model.tf
    shown = model.frames.shown
    names = sorted(set(tf.frames) | set(shown))
    return [{"name": f, "parent": tf.parent(f), "key": frame_key(f) if f in shown else None}
            for f in names]


def _camera(model: SceneModel, settings: RenderSettings,
            last: RenderCamera | None) -> dict[str, Any] | None:
    """The render camera on the frame it hangs on (so a browser follows it as that frame
    moves), or, when it hangs on none for good, at its last pose in the fixed frame."""
    mount = settings.camera_mount(model.fixed_frame)
    if mount is not None:
        frame, xyz, q = mount
        camera = RenderCamera(settings.width, settings.height, settings.fov, settings.near,
                              settings.far, np.asarray(xyz), np.asarray(q))
    elif last is not None:
        frame, camera = model.fixed_frame, last
    else:
        return None
    return {"frame": frame, "key": frame_key(frame) if frame in model.frames.shown else None,
            **camera.to_wire(), "width": settings.width, "height": settings.height}


def _rviz_view() -> dict[str, Any]:
    rviz = RVIZ_ORBIT_DEFAULTS
    camera = rviz_orbit_camera()
    return {"position": camera.position.tolist(), "target": list(rviz.focal_point),
            "up": [0.0, 0.0, 1.0], "fov": camera.fov_y, "near": rviz.near, "far": camera.far}
