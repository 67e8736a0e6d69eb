"""RobotDisplay: the URDF robot model's link groups in the TF frame groups.

As rviz's RobotModel display shows a robot: the model (a URDF from
/robot_description or a file; urdf.py, robot_model.py) hangs each link's
visuals in a ``robot:<link>`` group under ``tf:<link>``, so the robot moves with
TF::

    Group tf:<link>                  (frame_layout.py)
      Group robot:<link>             (robot_model.py)

- A link without TF is hidden and, after ``tf_timeout_ns`` from when the model
  was first seen by the clock, reported once (its name, and whether
  robot_state_publisher runs).
- A new description replaces the model (only the links that differ are sent);
  one that is not a URDF clears it, as rviz does, and is reported; an identical
  one (same text and folder) changes nothing.
"""

from __future__ import annotations

import logging
from typing import AbstractSet, Any, Hashable

from ..protocol.elements import Element
from ..protocol.events import Remove, ServerEvent, Upsert
from .display import Display
from .errors import UrdfError
from .frame_layout import FrameLayout
from .keys import ROBOT_PREFIX, frame_key, owner_prefix, robot_link_key
from .markers import MeshResolver, same_elements
from .problems import ProblemLog, name_list
from .robot_model import RobotModel, build_robot_model
from .urdf import RobotDescription, read_urdf


class RobotDisplay(Display):
    def __init__(self, frames: FrameLayout, problems: ProblemLog, *,
                 resolve_mesh: MeshResolver | None, tf_timeout_ns: int):
        super().__init__(frames, problems)
        self.resolve_mesh = resolve_mesh
        self.tf_timeout_ns = tf_timeout_ns
        self.robot: RobotModel | None = None     # None: no robot description
        self._now_ns = 0
        self._shown: dict[str, Element] = {}     # link -> its robot:<link> group, as sent
        self._dirty = False                      # the model changed since
        self._since: int | None = None           # clock when the model was first seen
        self._subjects: set[Hashable] = set()    # its problems' subjects

    def key_prefixes(self) -> list[str]:
        return [owner_prefix(ROBOT_PREFIX.rstrip(":"))]

    # -- input ------------------------------------------------------------------------------
    def on_robot_description(self, msg: Any, source: str) -> list[str]:
        """A std_msgs/String robot description (its ``data``), or what
        ``urdf.read_urdf``/``read_urdf_file`` returned or raised elsewhere."""
        if isinstance(msg, RobotDescription):
            return self.set_robot(msg)
        if isinstance(msg, UrdfError):
            return self.robot_failed(msg)
        return self.set_robot_description(str(msg.data), source)

    def set_robot_description(self, urdf: str | bytes, source: str,
                              base_dir: str | None = None) -> list[str]:
        """A URDF text: replaces the model; text that is not a URDF clears it."""
        try:
            description = read_urdf(urdf, source, base_dir)
        except UrdfError as e:
            return self.robot_failed(e)
        return self.set_robot(description)

    def robot_failed(self, error: UrdfError) -> list[str]:
        """A description that could not be read: clear the model, as rviz does, and
        report it (once per cause)."""
        self.set_robot(None)
        subject = ("robot", "description")
        self.problems.report(subject, "urdf", f"{error}; no robot model is shown", logging.ERROR)
        self._subjects.add(subject)
        return [str(error)]

    def set_robot(self, description: RobotDescription | None) -> list[str]:
        """Show this parsed description (None: no robot); resolves its meshes."""
        old = self.robot
        if description is not None and old is not None and \
                old.description.digest == description.digest:
            return []
        model = build_robot_model(description, self.resolve_mesh) if description is not None else None
        subjects: set[Hashable] = set()
        found: list[str] = []
        if model is not None:
            for p in model.problems:
                subject = ("robot", p.cause)
                subjects.add(subject)
                found.append(p.message)
                self.problems.report(subject, p.kind, p.message, p.level)
        for fixed in self._subjects - subjects:
            self.problems.resolve(fixed)
        self._subjects = subjects
        self.robot = model
        self._dirty = True
        self._since = None
        return found

    # -- time -------------------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        """Report once (after the TF timeout) the links that have visuals but no
        group in the scene: no TF connects them to the fixed frame."""
        self._now_ns = now_ns
        robot = self.robot
        if robot is None:
            return
        if self._since is None:
            self._since = now_ns
            return
        if now_ns - self._since <= self.tf_timeout_ns:
            return
        subject = ("robot", "tf")
        shown = self.frames.shown
        missing = sorted(link for link in robot.links if link not in shown)
        if not missing:
            if subject in self._subjects:
                self.problems.resolve(subject)
                self._subjects.discard(subject)
            return
        self._subjects.add(subject)
        self.problems.report(
            subject, "tf",
            f"{robot.description.label()}: links {name_list(missing)} have no transform to the "
            f"fixed frame '{self.frames.fixed}'; they are hidden until TF connects them (is "
            "robot_state_publisher running?)")

    # -- in the frame groups ---------------------------------------------------------------------
    def elements_in(self, frame: str) -> list[Element]:
        link = self.robot.links.get(frame) if self.robot is not None else None
        if link is None:
            return []
        self._shown[frame] = link
        return [link]

    def dropped(self, frames: AbstractSet[str]) -> None:
        for link in [f for f in self._shown if f in frames]:
            del self._shown[link]

    def forget_shown(self) -> None:
        self._shown = {}
        self._dirty = False

    def emit(self, events: list[ServerEvent]) -> None:
        """REMOVE the links the model no longer has, UPSERT (strict: children
        replaced) the ones that changed, into their shown frame groups."""
        if not self._dirty:
            return
        self._dirty = False
        want = self.robot.links if self.robot is not None else {}
        removes = [robot_link_key(link) for link in self._shown if link not in want]
        for link in [link for link in self._shown if link not in want]:
            del self._shown[link]
        upserts: list[tuple[str, Element]] = []
        frames_shown = self.frames.shown
        for link, element in want.items():
            if link not in frames_shown:
                continue
            shown = self._shown.get(link)
            if shown is element or (shown is not None and same_elements([shown], [element])):
                self._shown[link] = element
                continue
            upserts.append((link, element))
            self._shown[link] = element
        if removes:
            events.append(Remove(*removes))
        for link, element in upserts:
            events.append(Upsert(element, to=frame_key(link), strict=True))
