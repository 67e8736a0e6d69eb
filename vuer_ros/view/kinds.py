"""The message kinds the viewer shows: ROS type -> decoder from CDR -> handler into the scene.

One :class:`MessageKind` per kind of input. The live node subscribes to each
kind's topics with its QoS and hands the raw CDR bytes over; offline rendering
hands over the bag's records; both go through :class:`~vuer_ros.view.player.ScenePlayer`,
which decodes with :meth:`MessageKind.decoder` and hands the message to the
handler ``attach`` gave the topic (a display of the scene model, with the options
of its display type: vuer_ros/displays.py). So a new message type is one entry
here, one display in the scene and one client element, and it shows live and in
bags at once.

``subscriptions(options)`` says which topics carry which kind, from the node's
parameters (rviz's default topics unless configured); ``auto_subscription`` what
``displays.auto`` shows for a topic found in the graph or in a bag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from rosbags.typesys.store import Typestore

from ..cdr import ArrayDecoder, Decoder, StoreDecoder, decode_string, decode_tf, jazzy_store, same_layout
from ..cdr.markers import LAYOUT as MARKER_LAYOUT
from ..cdr.markers import MarkerDecoder
from ..cdr.string import LAYOUT as STRING_LAYOUT
from ..cdr.tf import LAYOUT as TF_LAYOUT
from ..displays import DISPLAY_TYPES
from ..scene import SceneModel
from .options import ViewOptions

Handler = Callable[[Any, int], object]
"""``handler(message, receive time ns)``: one topic's messages into the scene."""

Attach = Callable[[SceneModel, str, Mapping[str, Any]], Handler]
"""``attach(model, topic, display options) -> handler``: what a topic of this kind shows
in ``model`` (a display added to it, or one the model has), and how messages reach it."""

# ADD/MODIFY, DELETEALL (visualization_msgs/Marker)
_ADD, _DELETEALL = 0, 3


@dataclass(frozen=True)
class Qos:
    """The subscription's QoS, as rviz picks it for such a display."""

    depth: int
    reliable: bool = True
    transient_local: bool = False   # latched: a late subscriber still gets the last messages


@dataclass(frozen=True)
class MessageKind:
    name: str
    msgtype: str                      # ROS type name, e.g. tf2_msgs/msg/TFMessage
    qos: Qos
    attach: Attach
    display: str | None = None        # the display type it shows as (displays.py); None: TF
    auto: bool = False                # displays.auto shows every topic of this type found
    fast: Callable[[int], Decoder] | None = None    # max points -> a decoder of Jazzy's layout
    layout: Mapping[str, str] | None = None         # the fields ``fast`` reads (rclpy's names)
    # a newer waiting message makes an older one of the same topic pointless (latest wins)
    supersedes: Callable[[Any, Any], bool] | None = None

    @property
    def label(self) -> str:
        """The type's short name, for log lines (``MarkerArray``)."""
        return self.msgtype.rsplit("/", 1)[-1]

    @property
    def inbox_limit(self) -> int:
        """Messages of one topic that may wait for the scene before the oldest are
        dropped: ten times the subscription's depth, as a full queue would."""
        return 10 * self.qos.depth

    def decoder(self, max_points: int, store: Typestore | None = None) -> Decoder:
        """A decoder for one topic (decoders may keep state per topic). ``store``: the
        definitions the bytes were written with (a bag's); None: Jazzy's, as live."""
        store = store or jazzy_store()
        if self.fast is not None and same_layout(store, self.msgtype):
            return self.fast(max_points)
        return StoreDecoder(store, self.msgtype)


class _Fn:
    """A stateless decode function as a :class:`Decoder`."""

    def __init__(self, fn: Callable[[bytes], Any]) -> None:
        self.decode = fn


def _actions(msg: Any) -> tuple[list[str], list[int], list[int]]:
    """A MarkerArray's (ns, id, action) columns, from its columns when it has them
    (cdr/marker_columns.py: no marker objects made)."""
    cols = getattr(msg, "columns", None)
    if cols is not None:
        return cols.ns, cols.ids.tolist(), cols.actions.tolist()
    ms = msg.markers
    return [str(m.ns) for m in ms], [int(m.id) for m in ms], [int(m.action) for m in ms]


def _array_superseded(current: Any, later: Any) -> bool:
    """Latest state wins: a MarkerArray whose every marker is an ADD that the later
    array replaces (same ns/id, or a DELETEALL covering it) ends in the same scene
    whether it is applied or not."""
    replaced: set[tuple[str, int]] = set()
    cleared: set[str] = set()
    everything = False
    for ns, mid, action in zip(*_actions(later)):
        if action == _DELETEALL:
            if ns:
                cleared.add(ns)
            else:
                everything = True
        else:
            replaced.add((ns, mid))
    for ns, mid, action in zip(*_actions(current)):
        if action != _ADD:
            return False
        if not (everything or ns in cleared or (ns, mid) in replaced):
            return False
    return True


KINDS: dict[str, MessageKind] = {}


def _kind(*args: Any, **kw: Any) -> MessageKind:
    kind = MessageKind(*args, **kw)
    assert kind.name not in KINDS, kind.name
    KINDS[kind.name] = kind
    return kind


# -- TF, markers, the robot model --------------------------------------------------------------
TF = _kind(
    "tf", "tf2_msgs/msg/TFMessage", Qos(100),
    lambda model, topic, options: lambda msg, t: model.on_tf(msg, False),
    fast=lambda _: _Fn(decode_tf), layout=TF_LAYOUT)
TF_STATIC = _kind(
    "tf_static", "tf2_msgs/msg/TFMessage", Qos(100, transient_local=True),
    lambda model, topic, options: lambda msg, t: model.on_tf(msg, True),
    fast=lambda _: _Fn(decode_tf), layout=TF_LAYOUT)
MARKER = _kind(
    "marker", "visualization_msgs/msg/Marker", Qos(100),
    lambda model, topic, options: model.on_marker, display="Marker", auto=True,
    fast=MarkerDecoder, layout=MARKER_LAYOUT)
MARKER_ARRAY = _kind(
    "marker_array", "visualization_msgs/msg/MarkerArray", Qos(10),
    lambda model, topic, options: model.on_marker_array, display="MarkerArray", auto=True,
    fast=ArrayDecoder, layout={"markers": "sequence<visualization_msgs/Marker>"},
    supersedes=_array_superseded)
ROBOT_DESCRIPTION = _kind(
    "robot_description", "std_msgs/msg/String", Qos(1, transient_local=True),
    lambda model, topic, options: lambda msg, t: model.on_robot_description(msg, topic),
    display="RobotModel", fast=lambda _: _Fn(decode_string), layout=STRING_LAYOUT)

# -- point clouds and laser scans -------------------------------------------------------------

# -- maps -------------------------------------------------------------------------------------

# -- paths, poses, points, polygons, odometry -------------------------------------------------

# display type -> the kind its topic is read as
BY_DISPLAY: dict[str, MessageKind] = {k.display: k for k in KINDS.values() if k.display}
# message type -> the kind ``displays.auto`` shows a topic of that type as
AUTO: dict[str, MessageKind] = {k.msgtype: k for k in KINDS.values() if k.auto}

TF_TOPIC, TF_STATIC_TOPIC = "/tf", "/tf_static"


@dataclass(frozen=True)
class Subscription:
    """A topic the viewer shows: its kind and the options of its display."""

    topic: str
    kind: MessageKind
    options: Mapping[str, Any] = field(default_factory=dict)


def subscriptions(options: ViewOptions) -> list[Subscription]:
    """The topics the node's parameters ask for, each once: TF, the configured displays
    (``displays.<name>``), the marker topics and the robot description."""
    subs: dict[str, Subscription] = {TF_TOPIC: Subscription(TF_TOPIC, TF),
                                     TF_STATIC_TOPIC: Subscription(TF_STATIC_TOPIC, TF_STATIC)}
    for d in options.displays:
        kind = BY_DISPLAY.get(d.type)
        if kind is not None and d.enabled and d.topic:
            subs.setdefault(d.topic, Subscription(d.topic, kind, d.options))
    for topic in options.marker_topics:
        subs.setdefault(topic, Subscription(topic, MARKER))
    for topic in options.marker_array_topics:
        subs.setdefault(topic, Subscription(topic, MARKER_ARRAY))
    if options.robot_description_topic and not options.robot_description_file:
        subs.setdefault(options.robot_description_topic,
                        Subscription(options.robot_description_topic, ROBOT_DESCRIPTION))
    return list(subs.values())


def auto_subscription(options: ViewOptions, topic: str, msgtype: str) -> Subscription | None:
    """The display ``displays.auto`` gives a topic found with ``msgtype`` (rviz's default
    options); None when auto is off, the type has no display, or the topic is hidden."""
    kind = AUTO.get(msgtype)
    if not options.auto_displays or kind is None or topic in options.hidden_topics:
        return None
    dtype = DISPLAY_TYPES.get(kind.display or "")
    return Subscription(topic, kind, dtype.defaults() if dtype is not None else {})
