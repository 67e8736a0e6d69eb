"""StampedDisplay: a topic's messages drawn in the fixed frame where TF put them at their stamp.

rviz's displays of stamped messages (Path, Pose, PoseArray, PointStamped, Polygon,
Odometry: rviz_common's MessageFilterDisplay) hand each message to a tf2 message filter,
which holds it until the transform from its ``header.frame_id`` to the fixed frame at
``header.stamp`` is known; the display then places it once, with that transform, in the
fixed frame. A frame that moves later does not move what was drawn; the next message
is drawn where the frame is at its own stamp. This class is that, for the scene::

    Group tf:<fixed>
      Group <display>:<topic>:<slot>     pose: fixed <- header frame at the stamp, then
        geometry                         the message's own pose (Pose, Odometry) and
                                         the display's offset (Path)

- The last ``history`` messages are shown (0: all), the oldest dropped first; each has
  a slot, and a new message takes the slot of the one it drops. A message whose
  geometry equals the slot's (``Visual.geometry``) reuses its elements, so a pose that
  only moved is one UPDATE of its group's pose, however many messages stream in.
- Messages wait for TF in arrival order, at most ``FILTER_SIZE`` (rviz's "Filter size"):
  past it the oldest is dropped. When messages have waited longer than
  ``tf_timeout_ns`` they are given up with one log line (once per topic) naming the
  frame and the stamp; a stamp older than the TF history is given up at once. With
  ``history`` 1 a message that is placed drops the older ones still waiting (they would
  only replace it). ``header.frame_id`` empty is refused (tf2's filter drops it).
- Stamp 0 means the latest transform, as tf2 reads it. The header frame equal to the
  fixed frame needs no TF at all.
- A new fixed frame clears the display (rviz resets it).

A display reads its messages into ``Visual`` s (``read``), reporting bad input through
``self.problems`` with the subject ``("display", topic)``, once per cause, and skipping
what cannot be shown; ``accept`` may refuse a placed message (Odometry's tolerances).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import AbstractSet, Any, Callable, Hashable, Mapping, Sequence

from ..displays import DISPLAY_TYPES
from ..protocol.elements import Element, Group
from ..protocol.events import Remove, ServerEvent, Update, Upsert
from .display import Display
from .errors import TfError, TfExtrapolationError
from .frame_id import frame_id
from .frame_layout import FrameLayout
from .keys import display_key, frame_key, owner_prefix
from .msg_fields import stamp_ns
from .problems import ProblemLog
from .tf_tree import format_time
from .transform import IDENTITY, Transform, Vec3

# rviz's MessageFilterDisplay "Filter size": messages waiting for TF at most
FILTER_SIZE = 10

MakeElements = Callable[[str], list[Element]]
"""``make(group key) -> the geometry elements``, keyed under that group's key."""


def display_options(display_type: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` over the display type's defaults (displays.py): every option has a value."""
    return {**DISPLAY_TYPES[display_type].defaults(), **options}


class BadMessage(Exception):
    """A message (or a part of one) that cannot be shown: ``kind`` names the cause, the
    text the offending field (without the topic)."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind


@dataclass(eq=False)
class Visual:
    """What one message shows, before and after it is placed."""

    frame: str                     # header.frame_id (frame_id.py's rule applied)
    stamp_ns: int                  # header.stamp (0: the latest transform)
    geometry: Hashable             # equal geometry -> the same elements
    make: MakeElements
    pose: Transform = IDENTITY     # where the geometry sits in the header frame
    source: Any = None             # what ``accept`` compares (Odometry: the message's pose)
    received_ns: int = 0
    placed: Transform | None = None          # in the fixed frame
    children: list[Element] | None = None    # made once admitted


class StampedDisplay(Display):
    prefix = "stamped"   # each display's own key word (keys.display_key)

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str, *,
                 history: int, tf_timeout_ns: int, offset: Vec3 = (0.0, 0.0, 0.0)):
        super().__init__(frames, problems)
        self.topic = topic
        self.subject = ("display", topic)
        self.history = history
        self.tf_timeout_ns = tf_timeout_ns
        self.offset = Transform(offset) if any(offset) else None
        self._now_ns = 0
        self._waiting: deque[Visual] = deque()
        self._waiting_since: int | None = None          # receive time the wait is counted from
        self._checked_at = -1                           # frames.version last tried at
        self._slots: dict[int, Visual] = {}             # slot -> the message it shows
        self._order: deque[int] = deque()               # slots, oldest message first
        self._next_slot = 0
        self._dirty: dict[int, None] = {}
        # slot -> (elements, pose) the browser has, as of the last drain or SET
        self._shown: dict[int, tuple[list[Element], Transform]] = {}

    def key_prefixes(self) -> list[str]:
        return [owner_prefix(self.prefix, self.topic)]

    # -- what a display writes ----------------------------------------------------------------
    def read(self, msg: Any) -> Visual | None:
        """The message as a Visual (frame, stamp, geometry), or None when there is nothing
        to show (reported). Raise BadMessage to refuse it."""
        raise NotImplementedError

    def accept(self, visual: Visual) -> bool:
        """Whether a placed message is shown (called in arrival order as they are placed)."""
        return True

    def report(self, kind: str, text: str, level: int = logging.WARNING) -> None:
        """Bad input, logged once per (topic, kind): ``<topic>: <text>``."""
        self.problems.report(self.subject, kind, f"{self.topic}: {text}", level)

    def header(self, msg: Any) -> tuple[str, int]:
        """(frame, stamp) of ``msg.header``; BadMessage for an empty frame id."""
        header = msg.header
        frame = frame_id(str(header.frame_id))
        if not frame:
            raise BadMessage("frame", "header.frame_id is empty (tf2 cannot place it); skipped")
        return frame, stamp_ns(header.stamp)

    # -- input ----------------------------------------------------------------------------------
    def on_message(self, msg: Any, receive_time_ns: int) -> None:
        """A message of the topic, received at ``receive_time_ns``."""
        try:
            visual = self.read(msg)
        except BadMessage as e:
            self.report(e.kind, str(e), logging.ERROR)
            return
        if visual is None:
            return
        visual.received_ns = int(receive_time_ns)
        if len(self._waiting) >= FILTER_SIZE:
            self._waiting.popleft()     # the wait still counts from the oldest dropped
        if self._waiting_since is None:
            self._waiting_since = visual.received_ns
        self._waiting.append(visual)
        self._place_waiting(force=True)

    # -- placing --------------------------------------------------------------------------------
    def _place_waiting(self, force: bool) -> None:
        if not self._waiting or (not force and self._checked_at == self.frames.version):
            return
        self._checked_at = self.frames.version
        fixed = self.frames.fixed
        kept: deque[Visual] = deque()
        # nothing placed for longer than the timeout: what waits is given up
        timed_out = (self._waiting_since is not None
                     and self._now_ns - self._waiting_since > self.tf_timeout_ns)
        progress = False
        for visual in self._waiting:
            if visual.frame == fixed:
                where = IDENTITY
            else:
                try:
                    where = self.frames.tf.lookup(fixed, visual.frame, visual.stamp_ns or None)
                except TfError as e:
                    past = isinstance(e, TfExtrapolationError) and e.direction == "past"
                    if (past and visual.stamp_ns) or timed_out:
                        why = str(e) if past else f"{e} (waited {self.tf_timeout_ns / 1e9:g} s)"
                        self.report("tf", f"no transform from '{visual.frame}' to fixed frame "
                                    f"'{fixed}' at stamp {format_time(visual.stamp_ns)}: {why}; "
                                    "skipped")
                    else:
                        kept.append(visual)
                    continue
            placed = where @ visual.pose
            visual.placed = self.offset @ placed if self.offset is not None else placed
            progress = True
            if (self.subject, "tf") in self.problems:   # placed again: a relapse logs again
                self.problems.resolve(self.subject, keep=[p.kind for p in self.problems.active(
                    self.subject) if p.kind != "tf"])
            if self.history == 1:
                kept.clear()   # older messages still waiting would only replace this one
            if self.accept(visual):
                self._admit(visual)
        self._waiting = kept
        if not kept:
            self._waiting_since = None
        elif progress:
            self._waiting_since = kept[0].received_ns

    def _admit(self, visual: Visual) -> None:
        if self.history and len(self._order) >= self.history:
            slot = self._order.popleft()
        else:
            slot = self._next_slot
            self._next_slot += 1
        old = self._slots.get(slot)
        if old is not None and old.children is not None and old.geometry == visual.geometry:
            visual.children = old.children
        else:
            visual.children = visual.make(display_key(self.prefix, self.topic, slot))
        self._slots[slot] = visual
        self._order.append(slot)
        self._dirty[slot] = None

    @property
    def shown_visuals(self) -> list[Visual]:
        """The messages shown, oldest first."""
        return [self._slots[s] for s in self._order]

    # -- time and the fixed frame -------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        self._now_ns = now_ns
        self._place_waiting(force=True)

    def settle(self, force: bool) -> None:
        self._place_waiting(force)

    def fixed_frame_changed(self) -> None:
        self._waiting.clear()
        self._waiting_since = None
        self._slots.clear()
        self._order.clear()
        self._next_slot = 0
        self._dirty.clear()

    # -- in the fixed frame's group ---------------------------------------------------------------
    def _group(self, slot: int, visual: Visual) -> Element:
        assert visual.placed is not None and visual.children is not None
        return Group(*visual.children, key=display_key(self.prefix, self.topic, slot),
                     position=visual.placed.position_list,
                     quaternion=visual.placed.quaternion_list)

    def load(self, restructure: bool) -> int:
        return len(self._dirty) + (len(self._slots) if restructure else 0)

    def elements_in(self, frame: str) -> list[Element]:
        if frame != self.frames.fixed:
            return []
        out = []
        for slot in self._order:
            visual = self._slots[slot]
            if visual.children:
                assert visual.placed is not None
                out.append(self._group(slot, visual))
                self._shown[slot] = (visual.children, visual.placed)
            self._dirty.pop(slot, None)
        return out

    def leaving(self, frames: Sequence[str]) -> list[str]:
        if self.frames.fixed not in frames:
            return []
        keys = [display_key(self.prefix, self.topic, slot) for slot in self._shown]
        self._shown.clear()
        return keys

    def dropped(self, frames: AbstractSet[str]) -> None:
        if self.frames.fixed in frames:
            self._shown.clear()

    def forget_shown(self) -> None:
        self._shown.clear()
        self._dirty.clear()

    def emit(self, events: list[ServerEvent]) -> None:
        """REMOVE the groups of dropped messages, UPDATE the pose of those whose slot shows
        the same elements, UPSERT the others (one event each)."""
        fixed = self.frames.fixed
        if not self._dirty or fixed not in self.frames.shown:
            return
        removes: list[str] = []
        moves: list[dict[str, Any]] = []
        upserts: list[Element] = []
        for slot in self._dirty:
            visual = self._slots.get(slot)
            shown = self._shown.get(slot)
            if visual is None or not visual.children:
                if shown is not None:
                    removes.append(display_key(self.prefix, self.topic, slot))
                    del self._shown[slot]
                continue
            assert visual.placed is not None
            if shown is not None and shown[0] is visual.children:
                if shown[1] != visual.placed:
                    moves.append({"key": display_key(self.prefix, self.topic, slot),
                                  "position": visual.placed.position_list,
                                  "quaternion": visual.placed.quaternion_list})
            else:
                upserts.append(self._group(slot, visual))
            self._shown[slot] = (visual.children, visual.placed)
        self._dirty.clear()
        if removes:
            events.append(Remove(*removes))
        if moves:
            events.append(Update(*moves))
        if upserts:
            events.append(Upsert(*upserts, to=frame_key(fixed), strict=True))
