"""TfDisplay: rviz's TF display: every TF frame's axes, its name and an arrow to its parent.

As rviz2 draws them (rviz_default_plugins TFDisplay and FrameInfo, rviz_rendering
Axes, Arrow and MovableText; docs/displays.md)::

    Group tf:<frame>                         (frame_layout.py)
      Group tfd:<frame>                      this display's: it moves with the frame group
        Cylinder tfd:<frame>#x, #y, #z       the axes, 0.2 m long and 0.02 m thick (rviz's
                                             Axes(0.2, 0.02) on a unit-diameter cylinder),
                                             red / green / blue, lit
        Text tfd:<frame>#name                the frame's name, 0.1 m high, white, facing
                                             the camera, centred below the origin
        Group tfd:<frame>#arrow              towards the parent's origin (turned from +Y)
          Cylinder tfd:<frame>#shaft         0.01 m thick, (0.8, 0.8, 0.3)
          Cone tfd:<frame>#head              0.1 m long (a tenth of the distance for a
                                             parent closer than 0.1 m), 0.04 m thick,
                                             (1.0, 0.1, 0.6)

Every size is times ``marker_scale``. The axes are unit cylinders and cones scaled,
so the client batches them (web/src/batches.js): a few draw calls for hundreds of
frames.

- Frames drawn: those TF has named that reach the fixed frame (the frame layout's
  groups; with no TF at all nothing is drawn, not even at the fixed frame), whose
  name ``filter_whitelist`` matches (empty: any) and ``filter_blacklist`` does not
  (empty: none), both searched anywhere in the name as rviz does, except the
  frames in ``hidden`` (the viewer's own camera frames: axes at the lens would
  fill the image).
- A moving frame moves its group; nothing is sent for it. The arrow depends on
  the frame's own link only: a link that moved is one UPDATE of the arrow's parts.
  No arrow for a root, nor for a parent closer than 1 mm (as rviz).
- Age (rviz's Frame Timeout): the time on the scene clock since the newest stamp
  common to the frame's chain to the fixed frame last changed; a chain of static
  links (or zero stamps) never ages. Past a third of ``frame_timeout`` the colours
  turn towards grey (0.7), past two thirds they fade out, past ``frame_timeout`` the
  frame is hidden until its transform changes again. A change is seen at the drain
  after it (rviz: at the render after it); colours change by UPDATEs of materials.
"""

from __future__ import annotations

import logging
import math
import re
from typing import AbstractSet, Any, Iterable, Mapping, NamedTuple

from ..protocol.elements import Cone, Cylinder, Element, Group, Text
from ..protocol.events import Remove, ServerEvent, Update, Upsert
from .display import Display
from .errors import TfError
from .frame_layout import FrameLayout
from .keys import frame_key, owner_prefix, part_key, tf_display_key
from .marker_geometry import LIT, Q_Y_TO_X, Q_Y_TO_Z, RADIAL_SEGMENTS, Material, material
from .problems import ProblemLog
from .transform import IDENTITY_QUAT, Quat, Vec3, quat_between

# rviz_rendering Axes(length 0.2, radius 0.02): the "radius" scales a cylinder of 1 m
# diameter, so it is the axis' thickness
AXIS_LENGTH = 0.2
AXIS_DIAMETER = 0.02
NAME_HEIGHT = 0.1
# FrameInfo::updateParentArrow: shaft and head diameters, head length
ARROW_SHAFT_DIAMETER = 0.01
ARROW_HEAD_DIAMETER = 0.04
ARROW_HEAD_LENGTH = 0.1
ARROW_MIN_DISTANCE = 0.001

Rgb = tuple[float, float, float]
AXIS_COLORS: tuple[Rgb, Rgb, Rgb] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
NAME_COLOR: Rgb = (1.0, 1.0, 1.0)
ARROW_SHAFT_COLOR: Rgb = (0.8, 0.8, 0.3)
ARROW_HEAD_COLOR: Rgb = (1.0, 0.1, 0.6)
GREY = 0.7

_S = 255           # colour and alpha steps of the fading (what a material colour can show)
_NEVER = math.inf
_Y: Vec3 = (0.0, 1.0, 0.0)


class _Look(NamedTuple):
    """What the browser shows of one frame (None for a frame not drawn)."""

    mix: int                  # _S: rviz's colours .. 0: grey
    alpha: int                # _S: opaque .. 0
    visible: bool             # False: timed out
    arrow: Vec3 | None        # the parent's origin in this frame (None: no arrow)


class TfDisplay(Display):
    def __init__(self, frames: FrameLayout, problems: ProblemLog,
                 options: Mapping[str, Any], hidden: Iterable[str] = ()):
        super().__init__(frames, problems)
        self.show_names = bool(options.get("show_names", False))
        self.show_axes = bool(options.get("show_axes", True))
        self.show_arrows = bool(options.get("show_arrows", True))
        self.scale = float(options.get("marker_scale", 1.0))
        self.timeout_ns = float(options.get("frame_timeout", 15.0)) * 1e9
        self.whitelist = self._regex(options, "filter_whitelist")
        self.blacklist = self._regex(options, "filter_blacklist")
        self.hidden: frozenset[str] = frozenset(hidden)
        self._now = 0
        self._shown: dict[str, _Look] = {}                  # frame -> what the browser has
        self._ages: dict[str, tuple[int | None, int]] = {}  # frame -> (common stamp, since)
        self._version = -1          # frames.version at the last look at every frame
        self._due_ns = _NEVER       # the clock when some frame's look changes by itself
        self._dirty = True

    def _regex(self, options: Mapping[str, Any], name: str) -> re.Pattern[str] | None:
        text = str(options.get(name, "") or "")
        if not text:
            return None
        try:
            return re.compile(text)
        except re.error as e:   # displays.py refuses these in parameters; this is for callers
            self.problems.report(("tf-display", name), "regex",
                                 f"TF display: {name} {text!r} is not a regular expression ({e}); "
                                 "ignored", logging.ERROR)
            return None

    def key_prefixes(self) -> list[str]:
        return [owner_prefix("tfd")]

    def set_hidden(self, frames: Iterable[str]) -> None:
        """Frames not to draw (the render camera's): from the next drain on."""
        hidden = frozenset(frames)
        if hidden != self.hidden:
            self.hidden = hidden
            self._dirty = True

    # -- which frames, and how they look ---------------------------------------------------
    def drawn(self, frame: str) -> bool:
        """Whether ``frame`` passes the filters (and is not hidden)."""
        if frame in self.hidden or not frame:
            return False
        if self.whitelist is not None and not self.whitelist.search(frame):
            return False
        return self.blacklist is None or not self.blacklist.search(frame)

    def _look(self, frame: str) -> _Look | None:
        tf = self.frames.tf
        if frame not in tf or not self.drawn(frame):
            return None
        try:
            common = tf.latest_common_time(self.frames.fixed, frame)
        except TfError:
            return None
        now = self._now
        age = self._ages.get(frame)
        if age is None or not common or age[0] != common:
            age = (common, now)
            self._ages[frame] = age
        since = age[1]
        elapsed = now - since
        third = self.timeout_ns / 3.0
        if elapsed > self.timeout_ns:   # hidden, faded out as it was left
            return _Look(0, 0, False, self._arrow(frame))
        if elapsed > 2.0 * third:
            mix, alpha = 0, round(_S * max(0.0, (self.timeout_ns - elapsed) / third))
            self._due_ns = min(self._due_ns, now + 1)
        elif elapsed > third:
            mix, alpha = round(_S * max(0.0, (2.0 * third - elapsed) / third)), _S
            self._due_ns = min(self._due_ns, now + 1)
        else:
            mix = alpha = _S
            if common:
                self._due_ns = min(self._due_ns, since + math.floor(third) + 1)
        return _Look(mix, alpha, True, self._arrow(frame))

    def _arrow(self, frame: str) -> Vec3 | None:
        if not self.show_arrows:
            return None
        edge = self.frames.tf.edge(frame)
        if edge is None:
            return None
        p = edge.transform.inverse().translation
        if math.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) <= ARROW_MIN_DISTANCE:
            return None
        return (float(p[0]), float(p[1]), float(p[2]))

    # -- elements ---------------------------------------------------------------------------
    def _material(self, rgb: Rgb, look: _Look) -> Material:
        t = look.mix / _S
        return material((rgb[0] * t + GREY * (1.0 - t), rgb[1] * t + GREY * (1.0 - t),
                         rgb[2] * t + GREY * (1.0 - t), look.alpha / _S))

    def _group(self, frame: str, look: _Look) -> Element:
        key = tf_display_key(frame)
        children: list[Element] = []
        if self.show_axes:
            length, thick = AXIS_LENGTH * self.scale, AXIS_DIAMETER * self.scale
            half = length / 2.0
            places: tuple[tuple[str, list[float], Quat], ...] = (
                ("x", [half, 0.0, 0.0], Q_Y_TO_X), ("y", [0.0, half, 0.0], IDENTITY_QUAT),
                ("z", [0.0, 0.0, half], Q_Y_TO_Z))
            for (axis, position, q), rgb in zip(places, AXIS_COLORS):
                children.append(Cylinder(key=part_key(key, axis), args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS],
                                         position=position, quaternion=list(q),
                                         scale=[thick, length, thick],
                                         material=self._material(rgb, look), materialType=LIT))
        if self.show_names:
            children.append(Text(key=part_key(key, "name"), text=frame,
                                 fontSize=NAME_HEIGHT * self.scale, billboard=True,
                                 anchorX="center", anchorY="top",
                                 material=self._material(NAME_COLOR, look)))
        if look.arrow is not None:
            children.append(self._arrow_group(key, look))
        return Group(*children, key=key, visible=look.visible)

    def _arrow_parts(self, key: str, arrow: Vec3) -> tuple[dict[str, Any], dict[str, Any],
                                                           dict[str, Any]]:
        """The arrow group's, shaft's and head's pose and size props."""
        s = self.scale
        distance = math.sqrt(arrow[0] ** 2 + arrow[1] ** 2 + arrow[2] ** 2)
        head = ARROW_HEAD_LENGTH * s * (distance if distance < ARROW_HEAD_LENGTH * s else 1.0)
        shaft = max(distance - head, 0.0)
        ds, dh = ARROW_SHAFT_DIAMETER * s, ARROW_HEAD_DIAMETER * s
        return ({"key": part_key(key, "arrow"), "quaternion": list(quat_between(_Y, arrow))},
                {"key": part_key(key, "shaft"), "position": [0.0, shaft / 2.0, 0.0],
                 "scale": [ds, shaft, ds]},
                {"key": part_key(key, "head"), "position": [0.0, shaft + head / 2.0, 0.0],
                 "scale": [dh, head, dh]})

    def _arrow_group(self, key: str, look: _Look) -> Element:
        assert look.arrow is not None
        group, shaft, head = self._arrow_parts(key, look.arrow)
        return Group(
            Cylinder(args=[0.5, 0.5, 1.0, RADIAL_SEGMENTS], material=self._material(ARROW_SHAFT_COLOR, look),
                     materialType=LIT, **shaft),
            Cone(args=[0.5, 1.0, RADIAL_SEGMENTS], material=self._material(ARROW_HEAD_COLOR, look),
                 materialType=LIT, **head),
            **group)

    def _changes(self, frame: str, old: _Look, new: _Look, removes: list[str],
                 upserts: list[ServerEvent], updates: list[dict[str, Any]]) -> None:
        key = tf_display_key(frame)
        if new.visible != old.visible:
            updates.append({"key": key, "visible": new.visible})
        if (new.mix, new.alpha) != (old.mix, old.alpha):
            parts: list[tuple[str, Rgb]] = []
            if self.show_axes:
                parts += list(zip(("x", "y", "z"), AXIS_COLORS))
            if self.show_names:
                parts.append(("name", NAME_COLOR))
            if old.arrow is not None and new.arrow is not None:
                parts += [("shaft", ARROW_SHAFT_COLOR), ("head", ARROW_HEAD_COLOR)]
            updates.extend({"key": part_key(key, part), "material": self._material(rgb, new)}
                           for part, rgb in parts)
        if new.arrow != old.arrow:
            if new.arrow is None:
                removes.append(part_key(key, "arrow"))
            elif old.arrow is None:
                upserts.append(Upsert(self._arrow_group(key, new), to=key))
            else:
                updates.extend(self._arrow_parts(key, new.arrow))

    # -- Display hooks ----------------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        self._now = now_ns

    def fixed_frame_changed(self) -> None:
        self._ages.clear()   # the chains to the fixed frame are other chains now

    def elements_in(self, frame: str) -> list[Element]:
        look = self._look(frame)
        if look is None:
            return []
        self._shown[frame] = look
        return [self._group(frame, look)]

    def dropped(self, frames: AbstractSet[str]) -> None:
        for frame in frames:
            self._shown.pop(frame, None)

    def forget_shown(self) -> None:
        self._shown.clear()

    def load(self, restructure: bool) -> int:
        return 6 * len(self.frames.shown) if restructure else 0

    def emit(self, events: list[ServerEvent]) -> None:
        """Axes for frames shown since (TF named the fixed frame late, filters changed),
        arrows that moved, colours that aged, frames that timed out or came back."""
        if not (self._dirty or self.frames.version != self._version or self._now >= self._due_ns):
            return
        self._dirty = False
        self._version = self.frames.version
        self._due_ns = _NEVER
        removes: list[str] = []
        upserts: list[ServerEvent] = []
        updates: list[dict[str, Any]] = []
        for frame in self.frames.shown:
            look = self._look(frame)
            old = self._shown.get(frame)
            if look == old:
                continue
            if look is None:
                removes.append(tf_display_key(frame))
                del self._shown[frame]
                continue
            if old is None:
                upserts.append(Upsert(self._group(frame, look), to=frame_key(frame), strict=True))
            else:
                self._changes(frame, old, look, removes, upserts, updates)
            self._shown[frame] = look
        if removes:
            events.append(Remove(*removes))
        events.extend(upserts)
        if updates:
            events.append(Update(*updates))
