"""SceneModel: ROS TF and markers in, Vuer scene events out (sans I/O).

Both the live node (rclpy callbacks) and the offline bag renderer (rosbags)
drive it: ``on_tf``, ``on_marker``, ``on_marker_array`` take messages read by
field name; ``advance(now_ns)`` moves its clock (lifetimes, markers waiting for
TF); ``drain_events()`` returns the protocol events that bring a browser from
the last drain to the current state; ``initial_scene()`` returns the whole
current scene for a SET.

The scene it keeps (keys: ``keys.py``):

    Scene (up = +Z, ROS coordinates as they are)
      Group tf:<fixed>                   at the world origin
        Group tf:<child>                 pose = latest transform parent <- child
          Group tf:<grandchild> ...
          Group marker:<ns>:<id>         frame_locked=true: pose = marker pose
        Group marker:<ns>:<id>           frame_locked=false: pose in the fixed frame at
                                         header.stamp, computed once

- The TF tree is re-rooted at the fixed frame: a frame above the fixed frame
  (``map`` when the fixed frame is ``odom``) hangs under its child with the
  inverse transform. Every group's pose depends on exactly one TF link, so one
  link update is one UPDATE of one group's position and quaternion; several
  updates of a link between two drains coalesce into one.
- Frames that cannot reach the fixed frame are not in the scene (nor is what
  hangs under them); they are reported once per disconnected tree and appear,
  with their markers, when a link connects them. A re-parented frame moves:
  REMOVE of its group, ADD of its subtree under the new parent.
- Each group shows its link's newest value. rviz draws a frame at the latest
  time common to its whole chain; the two differ only while a slower link in
  the chain has not caught up (at most that link's publish period).
- A robot model (a URDF from /robot_description or a file; robot_model.py)
  hangs each link's visuals in a ``robot:<link>`` group under ``tf:<link>``,
  so the robot moves with TF as rviz's RobotModel display shows it; a link
  without TF is hidden (and, after ``marker_tf_timeout_ns``, reported once).
  A new description replaces the model (only the links that differ are sent);
  one that is not a URDF clears it, as rviz does; an identical one changes
  nothing.
- Markers follow rviz2 (../shared/notes/rviz-marker-semantics.md): (ns, id)
  identity, ADD/MODIFY replaces (an UPSERT with strict=True, so a type change
  rebuilds the children), DELETE, DELETEALL (one namespace when ns is set),
  lifetime from receive time (<= 100 us: forever), empty frame_id = fixed
  frame, a leading '/' stripped. A frame_locked=false marker waits (up to
  ``marker_tf_timeout_ns``) for the TF at its stamp, then is placed once;
  while a new version of a shown marker waits, the old one stays (as rviz's
  TF message filter does). Changing the fixed frame clears markers (as rviz).
- A marker re-sent unchanged emits nothing (the common 10 Hz re-publish). One
  re-sent with the same type and geometry inputs (scale, color, points, colors,
  text, mesh) that only moved is one pose UPDATE of its group (``position``,
  ``quaternion``): its geometry elements are reused, not rebuilt (``read_marker``'s
  ``prev``), so a 1,000-marker array of moving objects costs neither the model nor
  the browser a rebuild.
- Bad input is reported once per cause through ``problems`` (a ProblemLog)
  and skipped; nothing raises out of the ``on_*`` methods for bad messages.

Use: send ``Set(model.initial_scene())`` to start a session (the first
``drain_events()`` returns exactly that if nobody called it), then the
events of each ``drain_events()`` in order. One thread at a time: the caller
serialises calls. Times: ``receive_time_ns`` and ``now_ns`` come from one
clock (ROS time; sim time when playing a bag); stamps are compared with TF
stamps. A clock jumping back (a bag looping) is not detected here: build a
new model, as rviz resets.
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..protocol.elements import DefaultScene, Element, Group, Scene
from ..protocol.events import Add, Remove, ServerEvent, Set, Update, Upsert
from .errors import MarkerError, TfError, TfExtrapolationError, TfRejectedError, UrdfError
from .keys import frame_key, marker_key, robot_link_key
from .marker_registry import MarkerId, MarkerRecord, MarkerRegistry
from .markers import (
    ADD,
    DELETE,
    DELETEALL,
    MAX_MARKER_POINTS,
    MeshResolver,
    marker_label,
    read_marker,
    same_elements,
)
from .msg_fields import stamp_ns, transform_of
from .problems import ProblemLog
from .robot_model import RobotModel, build_robot_model
from .tf_tree import DEFAULT_CACHE_TIME_NS, TfTree, TfUpdate, format_time, strip_slash
from .transform import IDENTITY, Transform
from .urdf import RobotDescription, read_urdf

# How long a frame_locked=false marker waits for the TF at its stamp.
DEFAULT_MARKER_TF_TIMEOUT_NS = 5_000_000_000
# Frames named in one "cannot reach the fixed frame" report.
_REPORT_FRAMES = 5
# Batches at least this big pause the cyclic GC while they build (see _gc_paused).
_GC_PAUSE_BATCH = 256


@contextmanager
def _gc_paused(size: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while a big batch builds its (acyclic)
    elements: otherwise the thousands of new objects trigger full collections
    over the whole heap, which tripled the cost of a 10,000-marker array
    (measured). Reference counting still frees as usual; any cycle made
    meanwhile is collected after."""
    if size < _GC_PAUSE_BATCH or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class SceneModel:
    def __init__(self, fixed_frame: str, *, cache_time_ns: int = DEFAULT_CACHE_TIME_NS,
                 resolve_mesh: MeshResolver | None = None,
                 marker_tf_timeout_ns: int = DEFAULT_MARKER_TF_TIMEOUT_NS,
                 max_marker_points: int = MAX_MARKER_POINTS, grid: bool = True,
                 logger: logging.Logger | None = None):
        fixed = strip_slash(fixed_frame)
        if not fixed:
            raise ValueError("fixed_frame must be a non-empty frame id")
        self.tf = TfTree(cache_time_ns)
        self.markers = MarkerRegistry()
        self.problems = ProblemLog(logger)
        self.resolve_mesh = resolve_mesh
        self.marker_tf_timeout_ns = int(marker_tf_timeout_ns)
        self.max_marker_points = int(max_marker_points)
        self.grid = grid
        self._fixed = fixed
        self._now_ns = 0
        # what the browser has (after the last drain / initial_scene)
        self._shown: dict[str, str | None] = {}          # frame -> scene parent frame
        self._shown_markers: dict[MarkerId, str] = {}    # marker -> frame group it is under
        # marker -> (children list, visible) as last sent: same list object = same geometry
        self._shown_geom: dict[MarkerId, tuple[list[Element], bool]] = {}
        # changes since then
        self._needs_set = True
        self._structure_dirty = True
        self._pose_dirty: dict[str, None] = {}           # TF links (child frames) moved
        self._marker_dirty: dict[MarkerId, None] = {}
        self._waiting: dict[MarkerId, None] = {}         # frame_locked=false, no TF yet
        self._tf_version = 0
        self._lookups: dict[tuple[str, int], Transform | TfError] = {}
        self._lookup_version = -1
        self._waiting_checked_at = -1
        self._unreachable_roots: set[str] = set()
        self._missing_frames: set[str] = set()
        # the robot model (robot_model.py) and which link groups the browser has
        self._robot: RobotModel | None = None
        self._shown_robot: dict[str, Element] = {}       # link -> its robot:<link> group
        self._robot_dirty = False
        self._robot_since: int | None = None             # clock when the robot was set
        self._robot_subjects: set[Any] = set()           # its problems' subjects

    # -- configuration ------------------------------------------------------------
    @property
    def fixed_frame(self) -> str:
        return self._fixed

    def set_fixed_frame(self, frame: str) -> None:
        """Change the fixed frame. As rviz does, this clears all markers; the
        next ``drain_events()`` is one SET of the rebuilt scene."""
        frame = strip_slash(frame)
        if not frame:
            raise ValueError("fixed_frame must be a non-empty frame id")
        if frame == self._fixed:
            return
        self._fixed = frame
        self._tf_version += 1
        for mid in self.markers.clear():
            self.problems.resolve(("marker",) + mid)
        self._waiting.clear()
        self._marker_dirty.clear()
        self._needs_set = True

    # -- inputs -----------------------------------------------------------------------
    def on_tf(self, msg: Any, static: bool = False) -> list[str]:
        """A tf2_msgs/TFMessage from /tf (``static=False``) or /tf_static (True).
        Returns the problems found in it (each also logged once per cause)."""
        found: list[str] = []
        for t in msg.transforms:
            header = t.header
            child = str(t.child_frame_id)
            try:
                update = self.tf.set_transform(str(header.frame_id), child,
                                               transform_of(t.transform), stamp_ns(header.stamp),
                                               static)
            except TfRejectedError as e:
                found.append(str(e))
                self.problems.report(("tf", strip_slash(child)), e.kind, str(e))
                continue
            self._tf_version += 1        # older data too: it can place a waiting marker
            if update is TfUpdate.OLDER:
                continue
            child = strip_slash(child)
            self._pose_dirty[child] = None
            if update is TfUpdate.LINKED:
                self._structure_dirty = True
        return found

    def on_marker(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/Marker received at ``receive_time_ns``.
        Returns the problems found (each also logged once per cause)."""
        found: list[str] = []
        self._apply_marker(msg, int(receive_time_ns), found)
        return found

    def on_marker_array(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/MarkerArray: its markers in order; a bad one is
        skipped, the others apply."""
        found: list[str] = []
        receive_time_ns = int(receive_time_ns)
        markers = msg.markers
        with _gc_paused(len(markers)):
            seen: set[tuple[str, int]] = set()
            for m in markers:
                mid = (m.ns, m.id)
                if mid in seen:
                    text = (f"MarkerArray has several markers with {marker_label(*mid)}; "
                            "the last one wins")
                    found.append(text)
                    self.problems.report(("marker-array",), "duplicate", text)
                    break
                seen.add(mid)
            del seen
            for m in markers:
                self._apply_marker(m, receive_time_ns, found)
        return found

    def advance(self, now_ns: int) -> None:
        """Move the clock: expire markers by lifetime, place markers whose TF has
        arrived, give up on those that waited longer than the timeout."""
        self._now_ns = int(now_ns)
        for mid in self.markers.expire(self._now_ns):
            self._waiting.pop(mid, None)
            self._marker_dirty[mid] = None
            self.problems.resolve(("marker",) + mid)
        self._place_waiting(force=True)
        self._check_robot_links()

    # -- robot model ------------------------------------------------------------------------
    @property
    def robot(self) -> RobotModel | None:
        """The robot model shown (None: no robot description)."""
        return self._robot

    def on_robot_description(self, msg: Any, source: str = "/robot_description") -> list[str]:
        """A std_msgs/String robot description (its ``data``; see ``set_robot_description``),
        or what ``urdf.read_urdf``/``read_urdf_file`` returned or raised elsewhere (a
        ``RobotDescription`` or a ``UrdfError``: a file read at start, a parse done on
        another thread)."""
        if isinstance(msg, RobotDescription):
            return self.set_robot(msg)
        if isinstance(msg, UrdfError):
            return self.robot_failed(msg)
        return self.set_robot_description(str(msg.data), source)

    def set_robot_description(self, urdf: str | bytes, source: str = "robot_description",
                              base_dir: str | None = None) -> list[str]:
        """A URDF text: replaces the robot model. Text that is not a URDF clears
        the model (as rviz does) and is reported. Returns the problems found
        (each logged once per cause)."""
        try:
            description = read_urdf(urdf, source, base_dir)
        except UrdfError as e:
            return self.robot_failed(e)
        return self.set_robot(description)

    def robot_failed(self, error: UrdfError) -> list[str]:
        """A robot description that could not be read (``urdf.read_urdf`` raised
        ``error``, possibly on another thread): clear the model, as rviz does,
        and report it (logged once per cause)."""
        self.set_robot(None)
        subject = ("robot", "description")
        self.problems.report(subject, "urdf", f"{error}; no robot model is shown", logging.ERROR)
        self._robot_subjects.add(subject)
        return [str(error)]

    def set_robot(self, description: RobotDescription | None) -> list[str]:
        """Show this parsed robot description (None: no robot). The same
        description again (same text and folder) changes nothing. Meshes are
        resolved here (``resolve_mesh``), so call it from the thread that owns
        the model; ``urdf.read_urdf`` may run anywhere."""
        old = self._robot
        if description is not None and old is not None and \
                old.description.digest == description.digest:
            return []
        model = build_robot_model(description, self.resolve_mesh) if description is not None else None
        subjects: set[Any] = set()
        found: list[str] = []
        if model is not None:
            for p in model.problems:
                subject = ("robot", p.cause)
                subjects.add(subject)
                found.append(p.message)
                self.problems.report(subject, p.kind, p.message, p.level)
        for subject in self._robot_subjects - subjects:
            self.problems.resolve(subject)
        self._robot_subjects = subjects
        self._robot = model
        self._robot_dirty = True
        self._robot_since = None
        return found

    def _check_robot_links(self) -> None:
        """Report once (after the TF timeout) the robot's links that have visuals
        but no group in the scene: no TF connects them to the fixed frame."""
        robot = self._robot
        if robot is None:
            return
        if self._robot_since is None:
            self._robot_since = self._now_ns
            return
        if self._now_ns - self._robot_since <= self.marker_tf_timeout_ns:
            return
        subject = ("robot", "tf")
        missing = sorted(link for link in robot.links if link not in self._shown)
        if not missing:
            if subject in self._robot_subjects:
                self.problems.resolve(subject)
                self._robot_subjects.discard(subject)
            return
        names = ", ".join(f"'{f}'" for f in missing[:_REPORT_FRAMES])
        more = f" and {len(missing) - _REPORT_FRAMES} more" if len(missing) > _REPORT_FRAMES else ""
        self._robot_subjects.add(subject)
        self.problems.report(
            subject, "tf",
            f"{robot.description.label()}: links {names}{more} have no transform to the fixed "
            f"frame '{self._fixed}'; they are hidden until TF connects them (is "
            "robot_state_publisher running?)")

    # -- outputs ------------------------------------------------------------------------
    def drain_events(self) -> list[ServerEvent]:
        """Events that bring the browser from the last drain to now, in order
        (a single SET when the scene was never sent or the fixed frame changed)."""
        if self._needs_set:
            return [Set(self.initial_scene())]
        self._place_waiting()
        events: list[ServerEvent] = []
        added: set[str] = set()
        with _gc_paused(len(self._marker_dirty) + (len(self.markers) if self._structure_dirty else 0)):
            if self._structure_dirty:
                added = self._restructure(events)
            self._emit_poses(events, added)
            self._emit_markers(events)
            self._emit_robot(events)
        return events

    def initial_scene(self, bg_children: Sequence[Element] = ()) -> Scene:
        """The whole current scene (a Z-up DefaultScene: grid, lights, grab target).

        Send it as a SET to start a session; it counts as sent, so the next
        ``drain_events()`` holds only what changes after it.
        """
        self._place_waiting(force=True)
        layout = self._layout()
        self._report_unreachable(layout)
        self._shown = {}
        self._shown_markers = {}
        self._shown_geom = {}
        self._shown_robot = {}
        self._robot_dirty = False
        with _gc_paused(len(self.markers)):
            groups, tops = self._build_frames(list(layout), layout)
        (root, _), = tops
        self._shown = dict(layout)
        self._resolve_found_frames()
        for rec in self.markers:
            if rec.attach not in self._shown:
                self._check_missing_frame(rec)
        self._needs_set = False
        self._structure_dirty = False
        self._pose_dirty.clear()
        self._marker_dirty.clear()
        return DefaultScene(root, grid=self.grid, bgChildren=list(bg_children))

    def pose_in_fixed(self, frame: str, time_ns: int | None = None) -> np.ndarray:
        """4x4 matrix of ``frame`` in the fixed frame at ``time_ns`` (None: latest).
        For a render camera; raises TfError when TF cannot say."""
        frame = strip_slash(frame) or self._fixed
        if frame == self._fixed:
            return np.eye(4)
        return self.tf.lookup(self._fixed, frame, time_ns).matrix()

    def frame_shown(self, frame: str) -> bool:
        """Whether ``frame``'s group is in the scene (as of the last drain)."""
        return frame in self._shown

    # -- markers ----------------------------------------------------------------------
    def _apply_marker(self, msg: Any, now: int, found: list[str]) -> None:
        action = int(msg.action)
        if action == ADD:
            try:
                old = self.markers.get((str(msg.ns), int(msg.id)))
                shown = old.view if old is not None else None
                spec = read_marker(msg, self.resolve_mesh, self.max_marker_points,
                                   shown.spec if shown is not None else None)
            except MarkerError as e:
                found.append(str(e))
                self.problems.report(("marker", str(msg.ns), int(msg.id)), e.kind, str(e),
                                     logging.ERROR)
                return
            except Exception as e:  # a malformed message must not stop the others
                text = (f"{marker_label(str(msg.ns), int(msg.id))}: cannot read this marker "
                        f"({type(e).__name__}: {e})")
                found.append(text)
                self.problems.report(("marker", str(msg.ns), int(msg.id)), "unreadable", text,
                                     logging.ERROR)
                return
            subject = ("marker", spec.ns, spec.id)
            if spec.warnings:
                for kind, text in spec.warnings:
                    found.append(text)
                    self.problems.report(subject, kind, text)
                self.problems.resolve(subject, keep=[k for k, _ in spec.warnings])
            elif self.problems.has(subject):
                self.problems.resolve(subject)
            frame = spec.frame_id or self._fixed
            rec = MarkerRecord(spec=spec, frame=frame,
                               attach=frame if spec.frame_locked else self._fixed,
                               received_ns=now,
                               expires_ns=now + spec.lifetime_ns if spec.lifetime_ns else None)
            mid = rec.id
            if spec.frame_locked or frame == self._fixed:
                rec.placed = spec.pose
            else:
                rec.waiting = True
                self._try_place(rec)
            if rec.waiting:
                self._waiting[mid] = None
                shown = old.view if old is not None else None
                if shown is not None and shown.attach == rec.attach:
                    rec.stand_in = shown
            else:
                self._waiting.pop(mid, None)
            self.markers.put(rec)
            if (old is None or mid in self._marker_dirty or mid not in self._shown_markers
                    or not _same_view(old.view, rec.view)):
                self._marker_dirty[mid] = None
        elif action == DELETE:
            mid = (str(msg.ns), int(msg.id))
            if self.markers.remove(mid) is not None:
                self._marker_dirty[mid] = None
            self._waiting.pop(mid, None)
            self.problems.resolve(("marker",) + mid)
        elif action == DELETEALL:
            ns = str(msg.ns)
            ids = self.markers.remove_namespace(ns) if ns else self.markers.clear()
            for mid in ids:
                self._marker_dirty[mid] = None
                self._waiting.pop(mid, None)
                self.problems.resolve(("marker",) + mid)
        else:
            text = (f"{marker_label(str(msg.ns), int(msg.id))}: unknown action {action} "
                    "(ADD/MODIFY = 0, DELETE = 2, DELETEALL = 3)")
            found.append(text)
            self.problems.report(("marker", str(msg.ns), int(msg.id)), "action", text,
                                 logging.ERROR)

    def _try_place(self, rec: MarkerRecord) -> None:
        """Place a frame_locked=false marker at the TF of its stamp, if known."""
        spec = rec.spec
        tf = self._lookup_fixed(rec.frame, spec.stamp_ns)
        if isinstance(tf, TfExtrapolationError):
            if tf.direction == "past" and spec.stamp_ns:
                self._give_up(rec, str(tf))   # older than the history: it will never resolve
            return
        if isinstance(tf, TfError):
            return   # unknown or unconnected frame: may appear later
        rec.placed = tf @ spec.pose
        rec.waiting = False
        rec.stand_in = None

    def _lookup_fixed(self, frame: str, stamp: int) -> Transform | TfError:
        """fixed <- frame at ``stamp`` (0: latest), memoised until TF changes: the
        markers of one array mostly share a frame and a stamp."""
        if self._lookup_version != self._tf_version or len(self._lookups) > 4096:
            self._lookups.clear()
            self._lookup_version = self._tf_version
        key = (frame, stamp)
        hit = self._lookups.get(key)
        if hit is None:
            try:
                hit = self.tf.lookup(self._fixed, frame, stamp or None)
            except TfError as e:
                hit = e
            self._lookups[key] = hit
        return hit

    def _give_up(self, rec: MarkerRecord, why: str) -> None:
        rec.waiting = False
        if rec.stand_in is not None:
            rec.stand_in = None
            self._marker_dirty[rec.id] = None
        spec = rec.spec
        text = (f"{marker_label(spec.ns, spec.id)}: no transform from '{rec.frame}' to fixed "
                f"frame '{self._fixed}' at its stamp {format_time(spec.stamp_ns)}: {why}")
        self.problems.report(("marker", spec.ns, spec.id), "tf", text)

    def _place_waiting(self, force: bool = False) -> None:
        if not self._waiting:
            return
        if not force and self._waiting_checked_at == self._tf_version:
            return
        self._waiting_checked_at = self._tf_version
        for mid in list(self._waiting):
            rec = self.markers.get(mid)
            if rec is None or not rec.waiting:
                del self._waiting[mid]
                continue
            self._try_place(rec)
            if rec.waiting and self._now_ns - rec.received_ns > self.marker_tf_timeout_ns:
                try:
                    self.tf.lookup(self._fixed, rec.frame, rec.spec.stamp_ns or None)
                    why = "timed out"
                except TfError as e:
                    why = str(e)
                self._give_up(rec, f"{why} (waited {self.marker_tf_timeout_ns / 1e9:g} s)")
            if not rec.waiting:
                del self._waiting[mid]
                if rec.placed is not None:
                    self._marker_dirty[mid] = None
                    rec.stand_in = None

    def _marker_element(self, rec: MarkerRecord) -> Element:
        pose = rec.placed
        assert pose is not None
        spec = rec.spec
        return Group(*spec.children, key=spec.key, position=pose.position_list,
                     quaternion=pose.quaternion_list, visible=spec.visible)

    # -- frames --------------------------------------------------------------------------
    def _layout(self) -> dict[str, str | None]:
        """Every frame that reaches the fixed frame -> its parent in the scene,
        in breadth-first order from the fixed frame (parents before children)."""
        parents = self.tf.parents
        children: dict[str, list[str]] = {}
        for c, p in parents.items():
            children.setdefault(p, []).append(c)
        fixed = self._fixed
        layout: dict[str, str | None] = {fixed: None}
        queue = [fixed]
        for frame in queue:   # grows while iterating: breadth-first
            for c in children.get(frame, ()):
                if c not in layout:
                    layout[c] = frame
                    queue.append(c)
            up = parents.get(frame)
            if up is not None and up not in layout:
                layout[up] = frame
                queue.append(up)
        return layout

    def _scene_pose(self, frame: str, scene_parent: str | None) -> Transform:
        """Pose of ``frame``'s group inside its scene parent's group."""
        if scene_parent is None:
            return IDENTITY
        edge = self.tf.edge(frame)
        if edge is not None and edge.parent == scene_parent:
            return edge.transform
        up = self.tf.edge(scene_parent)   # the link runs the other way: invert it
        assert up is not None and up.parent == frame
        return up.transform.inverse()

    def _build_frames(self, frames: Iterable[str], layout: dict[str, str | None]
                      ) -> tuple[dict[str, Element], list[tuple[Element, str | None]]]:
        """Groups for ``frames`` (parents listed before children), nested, with
        their markers; returns the groups and the (top group, its parent) pairs."""
        groups: dict[str, Element] = {}
        tops: list[tuple[Element, str | None]] = []
        for f in frames:
            parent = layout[f]
            pose = self._scene_pose(f, parent)
            g = Group(key=frame_key(f), position=pose.position_list,
                      quaternion=pose.quaternion_list)
            groups[f] = g
            if parent in groups:
                groups[parent].children.append(g)
            else:
                tops.append((g, parent))
        robot_links = self._robot.links if self._robot is not None else {}
        for f, g in groups.items():
            link = robot_links.get(f)
            if link is not None:
                g.children.append(link)
                self._shown_robot[f] = link
            for rec in self.markers.attached_to(f):
                view = rec.view
                if view is not None:
                    g.children.append(self._marker_element(view))
                    self._shown_markers[rec.id] = f
                    self._shown_geom[rec.id] = (view.spec.children, view.spec.visible)
                    self._marker_dirty.pop(rec.id, None)
        return groups, tops

    def _restructure(self, events: list[ServerEvent]) -> set[str]:
        """Bring the frame groups to the current layout: REMOVE moved or lost
        subtrees, ADD new ones. Returns the frames added (their poses are fresh)."""
        self._structure_dirty = False
        layout = self._layout()
        shown = self._shown
        children: dict[str, list[str]] = {}
        for f, p in shown.items():
            if p is not None:
                children.setdefault(p, []).append(f)
        gone: set[str] = set()
        removed_tops: list[str] = []
        for f, p in list(shown.items()):
            if f not in gone and (f not in layout or layout[f] != p):
                removed_tops.append(f)
                stack = [f]
                while stack:   # the browser drops the whole subtree
                    g = stack.pop()
                    gone.add(g)
                    stack.extend(children.get(g, ()))
        # a removed top inside another removed subtree is removed with it
        removed = [frame_key(f) for f in removed_tops if shown[f] not in gone]
        for f in gone:
            del shown[f]
        if gone:
            for mid, at in list(self._shown_markers.items()):
                if at in gone:
                    del self._shown_markers[mid]
                    self._shown_geom.pop(mid, None)
            for link in [f for f in self._shown_robot if f in gone]:
                del self._shown_robot[link]
        new = [f for f in layout if f not in shown]
        for f in new:
            # a marker moving into a new frame group leaves its old place first
            for rec in self.markers.attached_to(f):
                if self._shown_markers.pop(rec.id, None) is not None:
                    self._shown_geom.pop(rec.id, None)
                    removed.append(rec.spec.key)
        if removed:
            events.append(Remove(*removed))
        if new:
            _, tops = self._build_frames(new, layout)
            by_parent: dict[str | None, list[Element]] = {}
            for top, parent in tops:
                by_parent.setdefault(parent, []).append(top)
            for parent, nodes in by_parent.items():
                events.append(Add(*nodes, to=frame_key(parent) if parent is not None else None))
            for f in new:
                shown[f] = layout[f]
        self._report_unreachable(layout)
        self._resolve_found_frames()
        return set(new)

    def _emit_poses(self, events: list[ServerEvent], added: set[str]) -> None:
        if not self._pose_dirty:
            return
        nodes = []
        shown = self._shown
        for child in self._pose_dirty:
            edge = self.tf.edge(child)
            if edge is None:
                continue
            if shown.get(child, "") == edge.parent and child not in added:
                key, pose = frame_key(child), edge.transform
            elif edge.parent in shown and shown[edge.parent] == child and edge.parent not in added:
                key, pose = frame_key(edge.parent), edge.transform.inverse()
            else:
                continue
            nodes.append({"key": key, "position": pose.position_list,
                          "quaternion": pose.quaternion_list})
        self._pose_dirty.clear()
        if nodes:
            events.append(Update(*nodes))

    def _emit_markers(self, events: list[ServerEvent]) -> None:
        if not self._marker_dirty:
            return
        removes: list[str] = []
        moves: list[dict[str, Any]] = []
        upserts: dict[str, list[Element]] = {}
        shown = self._shown
        shown_geom = self._shown_geom
        for mid in self._marker_dirty:
            rec = self.markers.get(mid)
            view = rec.view if rec is not None else None
            was = self._shown_markers.get(mid)
            want = view.attach if view is not None else None
            if want is not None and want not in shown:
                assert rec is not None
                self._check_missing_frame(rec)
                want = None
            if was is not None and was != want:
                removes.append(marker_key(*mid))
                del self._shown_markers[mid]
                shown_geom.pop(mid, None)
                was = None
            if want is not None and view is not None:
                spec = view.spec
                geom = shown_geom.get(mid) if was is not None else None
                if geom is not None and geom[0] is spec.children and geom[1] == spec.visible:
                    # only the pose changed: move the group, keep its geometry
                    pose = view.placed
                    assert pose is not None
                    t, q = pose.translation, pose.rotation
                    moves.append({"key": spec.key,
                                  "position": [float(t[0]), float(t[1]), float(t[2])],
                                  "quaternion": [float(q[0]), float(q[1]), float(q[2]),
                                                 float(q[3])]})
                else:
                    upserts.setdefault(want, []).append(self._marker_element(view))
                    shown_geom[mid] = (spec.children, spec.visible)
                self._shown_markers[mid] = want
            else:
                shown_geom.pop(mid, None)
        self._marker_dirty.clear()
        if removes:
            events.append(Remove(*removes))
        if moves:   # already in wire form (str, lists of floats): skip Update's conversion
            events.append(ServerEvent("UPDATE", {"nodes": moves, "strict": False}))
        for frame, nodes in upserts.items():
            events.append(Upsert(*nodes, to=frame_key(frame), strict=True))

    def _emit_robot(self, events: list[ServerEvent]) -> None:
        """Bring the robot's link groups to the current model: REMOVE the links
        it no longer has, UPSERT (strict: children replaced) the ones that
        changed, into their shown frame groups."""
        if not self._robot_dirty:
            return
        self._robot_dirty = False
        want = self._robot.links if self._robot is not None else {}
        removes = [robot_link_key(link) for link in self._shown_robot if link not in want]
        for link in [link for link in self._shown_robot if link not in want]:
            del self._shown_robot[link]
        upserts: list[tuple[str, Element]] = []
        for link, element in want.items():
            if link not in self._shown:
                continue
            shown = self._shown_robot.get(link)
            if shown is element or (shown is not None and same_elements([shown], [element])):
                self._shown_robot[link] = element
                continue
            upserts.append((link, element))
            self._shown_robot[link] = element
        if removes:
            events.append(Remove(*removes))
        for link, element in upserts:
            events.append(Upsert(element, to=frame_key(link), strict=True))

    # -- reports ---------------------------------------------------------------------------
    def _report_unreachable(self, layout: dict[str, str | None]) -> None:
        trees: dict[str, list[str]] = {}
        parents = self.tf.parents
        linked = set(parents.values())   # frames with a child by the latest links
        for f in self.tf.frames:
            # a name no latest link uses (a parent whose children all moved away, such as
            # an old fixed frame the viewer's camera hung under) is no tree to connect
            if f not in layout and (f in parents or f in linked):
                trees.setdefault(self.tf.root(f), []).append(f)
        for root in self._unreachable_roots - set(trees):
            self.problems.resolve(("tf-tree", root))
        for root, frames in trees.items():
            frames.sort()
            names = ", ".join(f"'{f}'" for f in frames[:_REPORT_FRAMES])
            more = f" and {len(frames) - _REPORT_FRAMES} more" if len(frames) > _REPORT_FRAMES else ""
            self.problems.report(
                ("tf-tree", root), "unreachable",
                f"tf: frames {names}{more} (tree rooted at '{root}') have no connection to the "
                f"fixed frame '{self._fixed}'; they and their markers are hidden until one is "
                "published")
        self._unreachable_roots = set(trees)

    def _check_missing_frame(self, rec: MarkerRecord) -> None:
        """A frame_locked marker whose frame TF has never named: report once per frame."""
        frame = rec.attach
        if frame in self._shown or frame in self.tf or frame in self._missing_frames:
            return
        self._missing_frames.add(frame)
        self.problems.report(
            ("frame", frame), "unknown",
            f"{marker_label(rec.spec.ns, rec.spec.id)}: frame '{frame}' does not exist in TF; "
            "markers in it are hidden until it is published")

    def _resolve_found_frames(self) -> None:
        for frame in [f for f in self._missing_frames if f in self.tf]:
            self._missing_frames.discard(frame)
            self.problems.resolve(("frame", frame))


def _same_view(a: MarkerRecord | None, b: MarkerRecord | None) -> bool:
    """Whether two marker versions look the same in the scene."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    return (a.attach == b.attach and a.placed == b.placed and a.spec.visible == b.spec.visible
            and (a.spec.children is b.spec.children
                 or same_elements(a.spec.children, b.spec.children)))
