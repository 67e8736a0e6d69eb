"""CloudDisplay: sensor_msgs/PointCloud2 and LaserScan topics, as rviz's PointCloudCommon.

One display per topic, its elements in the fixed frame's group::

    Group tf:<fixed>
      Cloud cloud:<topic>          decay_time 0: the latest cloud
      Cloud cloud:<topic>:<n>      decay_time > 0: every cloud younger than it

Each cloud is placed once, at the transform fixed <- header.frame_id at its
header stamp (rviz's ``transformCloud``; an empty frame id is the fixed frame;
stamp 0 takes the latest transform). A cloud whose transform is not there yet
waits (rviz's TF message filter, at most ``QUEUE`` clouds, the oldest dropped)
for up to ``tf_timeout_ns``; one older than the TF history, or still unplaced
then, is dropped and reported once. Its points stay in their own frame (one
pose per cloud, no per-point transform).

rviz's decay: with ``decay_time`` 0 a placed cloud replaces the one shown (which
stays until then); otherwise every cloud stays until it is ``decay_time`` older
(by receive time) than the clock. A new fixed frame clears them (rviz's reset).

Speed: ``on_message`` only checks a cloud's declared sizes and layout
(cloud_fields.py / laser_scan.py; a cloud over ``max_points`` is refused there,
before its data is touched) and queues it. The points are read, filtered and
coloured only when a cloud is about to be sent (``emit`` or a SET), so clouds
that a newer one replaces before the next drain cost nothing but their receipt.
A cloud is one element with packed float32 positions and uint8 colours (15 or
16 bytes a point on the wire), built once and kept for SETs; an updated cloud of
the same shape of props is a non-strict UPSERT, so the browser refills its
buffers in place, with a coalesce key: a browser still behind on the previous
cloud is sent only the newest (server/outbox.py).

Bad input (CloudError from the readers, a missing transform) is reported once
per (topic, kind) through ``problems`` and the cloud skipped; the display keeps
showing what it has.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Mapping

import numpy as np

from ..displays import DISPLAY_TYPES
from ..protocol.elements import Cloud, Element
from ..protocol.events import Remove, ServerEvent, Upsert
from .cloud_colors import TRANSFORMERS, Colors, PointSource, colorize, pick, supports
from .cloud_fields import CloudPoints, read_cloud
from .display import Display
from .errors import CloudError, TfError, TfExtrapolationError
from .frame_id import frame_id
from .frame_layout import FrameLayout
from .keys import cloud_key, frame_key
from .laser_scan import ScanPoints, read_scan
from .msg_fields import stamp_ns
from .problems import ProblemLog
from .tf_tree import format_time
from .transform import IDENTITY, Transform

# clouds waiting for their transform, at most (rviz's default Queue Size)
QUEUE = 10

Reader = Callable[[Any, str, Mapping[str, Any]], PointSource]
"""``read(msg, topic, options) -> points``: a message checked (CloudError otherwise)."""


@dataclass(eq=False)
class _Cloud:
    points: PointSource | None             # None once its element is built
    frame: str
    stamp_ns: int
    received_ns: int
    key: str
    seq: int                               # arrival order on the topic
    pose: Transform | None = None          # fixed <- frame at the stamp, once placed
    element: Element | None = None         # built when first sent
    props: frozenset[str] = field(default_factory=frozenset)


class CloudDisplay(Display):
    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], read: Reader, *, tf_timeout_ns: int) -> None:
        """``options``: the display's (vuer_ros/displays.py: PointCloud2's and LaserScan's
        are the same), those left out at their defaults."""
        super().__init__(frames, problems)
        self.topic = topic
        self.options = {**DISPLAY_TYPES["PointCloud2"].defaults(), **options}
        self.read = read
        self.tf_timeout_ns = int(tf_timeout_ns)
        self.decay_ns = int(float(self.options["decay_time"]) * 1e9)
        self._now_ns = 0
        self._seq = 0
        self._waiting: deque[_Cloud] = deque()  # received, no transform yet, oldest first
        self._placed: list[_Cloud] = []         # to show, oldest first
        self._shown: dict[str, _Cloud] = {}     # key -> cloud the browser has

    # -- input ------------------------------------------------------------------------------
    def on_message(self, msg: Any, receive_ns: int) -> None:
        """A PointCloud2 / LaserScan (read by field name) received at ``receive_ns``."""
        receive_ns = int(receive_ns)
        self._now_ns = max(self._now_ns, receive_ns)
        try:
            points = self.read(msg, self.topic, self.options)
        except CloudError as e:
            self.problems.report(("cloud", self.topic), e.kind, str(e), logging.ERROR)
            return
        header = msg.header
        frame = frame_id(str(header.frame_id)) or self.frames.fixed
        key = cloud_key(self.topic) if self.decay_ns <= 0 else cloud_key(self.topic, self._seq)
        self._waiting.append(_Cloud(points, frame, stamp_ns(header.stamp), receive_ns, key,
                                    self._seq))
        self._seq += 1
        while len(self._waiting) > QUEUE:
            self._waiting.popleft()
        self._place_waiting()

    # -- time, TF and the fixed frame ------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        self._now_ns = now_ns
        self._place_waiting()
        self._decay()

    def settle(self, force: bool) -> None:
        self._place_waiting()

    def fixed_frame_changed(self) -> None:
        """As rviz's reset: the clouds go; new ones are placed in the new fixed frame."""
        self._waiting.clear()
        self._placed.clear()

    def _place_waiting(self) -> None:
        """Place every waiting cloud whose transform is there (each on its own, as rviz's
        message filter); drop those that cannot be placed any more."""
        if not self._waiting:
            return
        still: deque[_Cloud] = deque()
        for cloud in self._waiting:
            try:
                fixed = self.frames.fixed
                cloud.pose = IDENTITY if cloud.frame == fixed else self.frames.tf.lookup(
                    fixed, cloud.frame, cloud.stamp_ns or None)
            except TfError as e:
                gone = isinstance(e, TfExtrapolationError) and e.direction == "past" and cloud.stamp_ns
                if not gone and self._now_ns - cloud.received_ns <= self.tf_timeout_ns:
                    still.append(cloud)      # may still come
                    continue
                self.problems.report(
                    ("cloud", self.topic), "tf",
                    f"{self.topic}: no transform from '{cloud.frame}' to fixed frame "
                    f"'{self.frames.fixed}' at the cloud's stamp {format_time(cloud.stamp_ns)}: {e}"
                    + ("" if gone else f" (waited {self.tf_timeout_ns / 1e9:g} s)")
                    + "; skipped")
                continue
            self._place(cloud)
        self._waiting = still
        self._decay()

    def _place(self, cloud: _Cloud) -> None:
        """Into the clouds shown, in the order they were received."""
        placed = self._placed
        if placed and placed[-1].seq > cloud.seq:
            if self.decay_ns <= 0:
                return           # a newer cloud is already placed: this one is superseded
            placed.insert(next(i for i, c in enumerate(placed) if c.seq > cloud.seq), cloud)
        else:
            placed.append(cloud)

    def _decay(self) -> None:
        if self.decay_ns <= 0:
            del self._placed[:-1]      # the latest replaces the others
        else:
            now = self._now_ns
            self._placed = [c for c in self._placed if now - c.received_ns <= self.decay_ns]

    # -- the cloud as an element -------------------------------------------------------------------
    def _element(self, cloud: _Cloud) -> Element | None:
        """The cloud's element (built once); None when reading it failed (reported)."""
        if cloud.element is not None:
            return cloud.element
        points = cloud.points
        assert cloud.pose is not None and points is not None
        try:
            xyz = points.xyz()
            colors = self._colors(points, cloud.pose)
        except CloudError as e:
            self.problems.report(("cloud", self.topic), e.kind, str(e), logging.ERROR)
            return None
        except Exception as e:   # a malformed cloud must not stop the drain
            self.problems.report(("cloud", self.topic), "unreadable",
                                 f"{self.topic}: cannot read this cloud ({type(e).__name__}: {e}); "
                                 "skipped", logging.ERROR)
            return None
        for kind, text in points.warnings:
            self.problems.report(("cloud", self.topic), kind, text)
        o = self.options
        style = str(o["style"])
        pixels = style == "Points"
        props: dict[str, Any] = {
            "position": cloud.pose.position_list, "quaternion": cloud.pose.quaternion_list,
            "vertices": _packed(xyz), "style": style,
            "size": float(o["size_pixels"] if pixels else o["size"]),
            "units": "pixels" if pixels else "metres", "alpha": float(o["alpha"])}
        if colors.per_point is not None and len(colors.per_point) == len(xyz):
            props["colors"] = _packed(colors.per_point)
        else:
            props["color"] = [c / 255.0 for c in colors.flat]
        cloud.element = Cloud(key=cloud.key, **props)
        cloud.props = frozenset(props)
        cloud.points = None     # the message's bytes can go
        return cloud.element

    def _colors(self, points: PointSource, pose: Transform) -> Colors:
        want = str(self.options["color_transformer"])
        if want not in TRANSFORMERS or not supports(want, points):
            want = pick(points)      # as rviz picks when its choice does not fit the cloud
        return colorize(want, points, self.options, pose)

    # -- in the frame groups ----------------------------------------------------------------------
    def load(self, restructure: bool) -> int:
        return sum(1 for c in self._placed if self._shown.get(c.key) is not c)

    def elements_in(self, frame: str) -> list[Element]:
        if frame != self.frames.fixed:
            return []
        out: list[Element] = []
        for cloud in self._placed:
            element = self._element(cloud)
            if element is not None:
                out.append(element)
                self._shown[cloud.key] = cloud
        return out

    def dropped(self, frames: AbstractSet[str]) -> None:
        if self.frames.fixed in frames:
            self._shown.clear()

    def forget_shown(self) -> None:
        self._shown.clear()

    def emit(self, events: list[ServerEvent]) -> None:
        fixed = self.frames.fixed
        if fixed not in self.frames.shown:
            return
        want = {c.key: c for c in self._placed}
        removes = [key for key in self._shown if key not in want]
        for key in removes:
            del self._shown[key]
        updates: list[Element] = []
        rebuilds: list[Element] = []
        for key, cloud in want.items():
            before = self._shown.get(key)
            if before is cloud:
                continue
            element = self._element(cloud)
            if element is None:
                self._placed.remove(cloud)
                continue
            # the same props replaced in place: the browser refills its buffers
            (updates if before is not None and before.props == cloud.props else rebuilds).append(element)
            self._shown[key] = cloud
        if removes:
            events.append(Remove(*removes))
        if updates:
            update = Upsert(*updates, to=frame_key(fixed))
            if len(updates) == 1:
                # the next cloud of this key sets the same props: a browser that has not
                # been sent this one yet gets only the next (server/outbox.py)
                update.coalesce_key = updates[0].key
            events.append(update)
        if rebuilds:
            events.append(Upsert(*rebuilds, to=frame_key(fixed), strict=True))


def _packed(values: np.ndarray) -> bytes:
    """A packed array prop's wire bytes, made once per cloud (not at every send)."""
    return np.ascontiguousarray(values).tobytes()


def read_point_cloud2(msg: Any, topic: str, options: Mapping[str, Any]) -> CloudPoints:
    """A PointCloud2 checked against the display's ``max_points``; the fields the colour
    transformers may read are checked too."""
    return read_cloud(msg, topic, int(options["max_points"]),
                      ("rgb", "rgba", "r", "g", "b", str(options["channel_name"]), "intensities"))


def read_laser_scan(msg: Any, topic: str, options: Mapping[str, Any]) -> ScanPoints:
    """A LaserScan checked against the display's ``max_points`` and projected."""
    return read_scan(msg, topic, int(options["max_points"]))
