"""SceneModel: ROS TF, markers and a robot model in, Vuer scene events out (sans I/O).

Both the live node (rclpy callbacks) and the offline bag renderer (rosbags)
drive it: ``on_tf``, ``on_marker``, ``on_marker_array``, ``on_robot_description``
take messages read by field name; ``advance(now_ns)`` moves its clock
(lifetimes, markers waiting for TF); ``drain_events()`` returns the protocol
events that bring a browser from the last drain to the current state;
``initial_scene()`` returns the whole current scene for a SET.

It is a composition; each part owns one concept:

    Scene (up = +Z, ROS coordinates as they are)
      Group tf:<fixed>                 frame_layout.py: TF frame groups, re-rooted
        Group tf:<child> ...           at the fixed frame
          Group robot:<link>           robot_display.py: the URDF robot's links
          Group marker:<ns>:<id>       marker_display.py: markers (frame_locked)
          MarkerList markers:...       (marker_lists: the simple ones as lists, marker_list.py)
        Group marker:<ns>:<id>         (frame_locked=false: placed in the fixed frame)
          ...                          display.py: what ``add_display`` adds

Keys: keys.py. Frame ids from messages and callers follow tf2's rule
(frame_id.py: one leading '/' dropped), applied once where they come in. Bad
input is reported once per cause through ``problems`` (a ProblemLog) and
skipped; nothing raises out of the ``on_*`` methods for bad messages.

Use: send ``Set(model.initial_scene())`` to start a session (the first
``drain_events()`` returns exactly that if nobody called it), then the
events of each ``drain_events()`` in order. One thread at a time: the caller
serialises calls (the displays added included). Times: ``receive_time_ns`` and
``now_ns`` come from one clock (ROS time; sim time when playing a bag); stamps
are compared with TF stamps. A clock jumping back (a bag looping) is not
detected here: build a new model, as rviz resets.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence, TypeVar

import numpy as np

from ..protocol.elements import DefaultScene, Element, Scene
from ..protocol.events import ServerEvent, Set
from .display import Display
from .errors import UrdfError
from .frame_id import frame_id
from .frame_layout import FrameLayout
from .gc_pause import gc_paused
from .marker_display import MarkerDisplay
from .marker_registry import MarkerRegistry
from .markers import MAX_MARKER_POINTS, MeshResolver
from .problems import ProblemLog
from .robot_display import RobotDisplay
from .robot_model import RobotModel
from .tf_tree import DEFAULT_CACHE_TIME_NS, TfTree
from .urdf import RobotDescription

# How long a frame_locked=false marker waits for the TF at its stamp (and the
# robot's links for TF before they are reported).
DEFAULT_MARKER_TF_TIMEOUT_NS = 5_000_000_000

D = TypeVar("D", bound=Display)


class SceneModel:
    def __init__(self, fixed_frame: str, *, cache_time_ns: int = DEFAULT_CACHE_TIME_NS,
                 resolve_mesh: MeshResolver | None = None,
                 marker_tf_timeout_ns: int = DEFAULT_MARKER_TF_TIMEOUT_NS,
                 max_marker_points: int = MAX_MARKER_POINTS, grid: bool = True,
                 marker_lists: bool = False, logger: logging.Logger | None = None):
        fixed = frame_id(fixed_frame)
        if not fixed:
            raise ValueError("fixed_frame must be a non-empty frame id")
        self.tf = TfTree(cache_time_ns)
        self.problems = ProblemLog(logger)
        # configuration, as given (the displays hold what they use)
        self.resolve_mesh = resolve_mesh
        self.marker_tf_timeout_ns = int(marker_tf_timeout_ns)
        self.max_marker_points = int(max_marker_points)
        self.grid = grid
        self.frames = FrameLayout(self.tf, fixed, self.problems)
        self._markers = MarkerDisplay(self.frames, self.problems, resolve_mesh=resolve_mesh,
                                      tf_timeout_ns=self.marker_tf_timeout_ns,
                                      max_points=self.max_marker_points, lists=marker_lists)
        self._robot = RobotDisplay(self.frames, self.problems, resolve_mesh=resolve_mesh,
                                   tf_timeout_ns=self.marker_tf_timeout_ns)
        self.markers: MarkerRegistry = self._markers.registry
        # Two orders, both part of what is sent: a drain's events (and the clock's
        # reports) go markers, robot, added displays; a frame group's children go
        # robot link, markers, added displays'.
        self._displays: list[Display] = [self._markers, self._robot]
        self._in_groups: list[Display] = [self._robot, self._markers]
        self._needs_set = True

    def add_display(self, display: D) -> D:
        """Hang a display's elements in the frame groups from now on (display.py).
        Build it on this model's ``frames`` and ``problems``; feed it its messages
        through its own methods, on the thread that drives the model. Returns it."""
        if display.frames is not self.frames or display.problems is not self.problems:
            raise ValueError("a display must be built on this model's frames and problems")
        self._displays.append(display)
        self._in_groups.append(display)
        self._needs_set = True     # the browser gets what it has so far with the next SET
        return display

    @property
    def displays(self) -> tuple[Display, ...]:
        """Every display: the markers, the robot, then those added, in that order."""
        return tuple(self._displays)

    # -- configuration ------------------------------------------------------------
    @property
    def fixed_frame(self) -> str:
        return self.frames.fixed

    def set_fixed_frame(self, frame: str) -> None:
        """Change the fixed frame. As rviz does, this clears all markers; the
        next ``drain_events()`` is one SET of the rebuilt scene."""
        frame = frame_id(frame)
        if not frame:
            raise ValueError("fixed_frame must be a non-empty frame id")
        if frame == self.frames.fixed:
            return
        self.frames.set_fixed(frame)
        for display in self._displays:
            display.fixed_frame_changed()
        self._needs_set = True

    # -- inputs -----------------------------------------------------------------------
    def on_tf(self, msg: Any, static: bool = False) -> list[str]:
        """A tf2_msgs/TFMessage from /tf (``static=False``) or /tf_static (True).
        Returns the problems found in it (each also logged once per cause)."""
        return self.frames.on_tf(msg, static)

    def on_marker(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/Marker received at ``receive_time_ns``.
        Returns the problems found (each also logged once per cause)."""
        return self._markers.on_marker(msg, receive_time_ns)

    def on_marker_array(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/MarkerArray: its markers in order; a bad one is
        skipped, the others apply."""
        return self._markers.on_marker_array(msg, receive_time_ns)

    def advance(self, now_ns: int) -> None:
        """Move the clock: expire markers by lifetime, place markers whose TF has
        arrived, give up on those that waited longer than the timeout."""
        now_ns = int(now_ns)
        for display in self._displays:
            display.advance(now_ns)

    # -- robot model ------------------------------------------------------------------------
    @property
    def robot(self) -> RobotModel | None:
        """The robot model shown (None: no robot description)."""
        return self._robot.robot

    def on_robot_description(self, msg: Any, source: str = "/robot_description") -> list[str]:
        """A std_msgs/String robot description (its ``data``; see ``set_robot_description``),
        or what ``urdf.read_urdf``/``read_urdf_file`` returned or raised elsewhere (a
        ``RobotDescription`` or a ``UrdfError``: a file read at start, a parse done on
        another thread)."""
        return self._robot.on_robot_description(msg, source)

    def set_robot_description(self, urdf: str | bytes, source: str = "robot_description",
                              base_dir: str | None = None) -> list[str]:
        """A URDF text: replaces the robot model. Text that is not a URDF clears
        the model (as rviz does) and is reported. Returns the problems found
        (each logged once per cause)."""
        return self._robot.set_robot_description(urdf, source, base_dir)

    def robot_failed(self, error: UrdfError) -> list[str]:
        """A robot description that could not be read (``urdf.read_urdf`` raised
        ``error``, possibly on another thread): clear the model, as rviz does,
        and report it (logged once per cause)."""
        return self._robot.robot_failed(error)

    def set_robot(self, description: RobotDescription | None) -> list[str]:
        """Show this parsed robot description (None: no robot). The same
        description again (same text and folder) changes nothing. Meshes are
        resolved here (``resolve_mesh``), so call it from the thread that owns
        the model; ``urdf.read_urdf`` may run anywhere."""
        return self._robot.set_robot(description)

    # -- outputs ------------------------------------------------------------------------
    def drain_events(self) -> list[ServerEvent]:
        """Events that bring the browser from the last drain to now, in order
        (a single SET when the scene was never sent or the fixed frame changed)."""
        if self._needs_set:
            return [Set(self.initial_scene())]
        frames = self.frames
        for display in self._displays:
            display.settle(False)
        events: list[ServerEvent] = []
        added: set[str] = set()
        restructure = frames.structure_dirty
        with gc_paused(sum(display.load(restructure) for display in self._displays)):
            if restructure:
                added = frames.restructure(events, self._in_groups)
            frames.emit_poses(events, added)
            for display in self._displays:
                display.emit(events)
        return events

    def initial_scene(self, bg_children: Sequence[Element] = ()) -> Scene:
        """The whole current scene (a Z-up DefaultScene: grid, lights, grab target).

        Send it as a SET to start a session; it counts as sent, so the next
        ``drain_events()`` holds only what changes after it.
        """
        for display in self._displays:
            display.settle(True)
        layout = self.frames.layout()
        self.frames.report_unreachable(layout)
        for display in self._displays:
            display.forget_shown()
        with gc_paused(sum(display.load(True) for display in self._displays)):
            root = self.frames.scene_root(layout, self._in_groups)
        for display in self._displays:
            display.frames_changed(True)
        self._needs_set = False
        return DefaultScene(root, grid=self.grid, bgChildren=list(bg_children))

    def pose_in_fixed(self, frame: str, time_ns: int | None = None) -> np.ndarray:
        """4x4 matrix of ``frame`` in the fixed frame at ``time_ns`` (None: latest).
        For a render camera; raises TfError when TF cannot say."""
        fixed = self.frames.fixed
        frame = frame_id(frame) or fixed
        if frame == fixed:
            return np.eye(4)
        return self.tf.lookup(fixed, frame, time_ns).matrix()

    def frame_shown(self, frame: str) -> bool:
        """Whether ``frame``'s group is in the scene (as of the last drain)."""
        return frame_id(frame) in self.frames.shown
