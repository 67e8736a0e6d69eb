"""The message kinds the viewer shows: ROS type -> decoder from CDR -> handler into the scene.

One :class:`MessageKind` per kind of input. The live node subscribes to each
kind's topics with its QoS and hands the raw CDR bytes over; offline rendering
hands over the bag's records; both go through :class:`~vuer_ros.view.player.ScenePlayer`,
which decodes with :meth:`MessageKind.decoder` and applies with ``apply``. So a
new message type is one entry here, one handler in the scene model and one
client element, and it shows live and in bags at once.

``subscriptions(options)`` says which topics carry which kind, from the node's
parameters (rviz's default topics unless configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from rosbags.typesys.store import Typestore

from ..cdr import ArrayDecoder, Decoder, StoreDecoder, decode_string, decode_tf, jazzy_store, same_layout
from ..cdr.markers import LAYOUT as MARKER_LAYOUT
from ..cdr.markers import MarkerDecoder
from ..cdr.string import LAYOUT as STRING_LAYOUT
from ..cdr.tf import LAYOUT as TF_LAYOUT
from ..scene import SceneModel
from .options import ViewOptions

Apply = Callable[[SceneModel, Any, int, str], object]
"""``apply(model, message, receive time ns, topic)``."""

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
    apply: Apply
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


def _array_superseded(current: Any, later: Any) -> bool:
    """Latest state wins: a MarkerArray whose every marker is an ADD that the later
    array replaces (same ns/id, or a DELETEALL covering it) ends in the same scene
    whether it is applied or not."""
    replaced: set[tuple[str, int]] = set()
    cleared: set[str] = set()
    everything = False
    for m in later.markers:
        if int(m.action) == _DELETEALL:
            if m.ns:
                cleared.add(str(m.ns))
            else:
                everything = True
        else:
            replaced.add((str(m.ns), int(m.id)))
    for m in current.markers:
        if int(m.action) != _ADD:
            return False
        if not (everything or str(m.ns) in cleared or (str(m.ns), int(m.id)) in replaced):
            return False
    return True


TF = MessageKind(
    "tf", "tf2_msgs/msg/TFMessage", Qos(100),
    lambda model, msg, t, topic: model.on_tf(msg, False),
    fast=lambda _: _Fn(decode_tf), layout=TF_LAYOUT)
TF_STATIC = MessageKind(
    "tf_static", "tf2_msgs/msg/TFMessage", Qos(100, transient_local=True),
    lambda model, msg, t, topic: model.on_tf(msg, True),
    fast=lambda _: _Fn(decode_tf), layout=TF_LAYOUT)
MARKER = MessageKind(
    "marker", "visualization_msgs/msg/Marker", Qos(100),
    lambda model, msg, t, topic: model.on_marker(msg, t),
    fast=MarkerDecoder, layout=MARKER_LAYOUT)
MARKER_ARRAY = MessageKind(
    "marker_array", "visualization_msgs/msg/MarkerArray", Qos(10),
    lambda model, msg, t, topic: model.on_marker_array(msg, t),
    fast=ArrayDecoder, layout={"markers": "sequence<visualization_msgs/Marker>"},
    supersedes=_array_superseded)
ROBOT_DESCRIPTION = MessageKind(
    "robot_description", "std_msgs/msg/String", Qos(1, transient_local=True),
    lambda model, msg, t, topic: model.on_robot_description(msg, topic),
    fast=lambda _: _Fn(decode_string), layout=STRING_LAYOUT)

KINDS: dict[str, MessageKind] = {k.name: k for k in (TF, TF_STATIC, MARKER, MARKER_ARRAY,
                                                      ROBOT_DESCRIPTION)}

TF_TOPIC, TF_STATIC_TOPIC = "/tf", "/tf_static"


def subscriptions(options: ViewOptions) -> list[tuple[str, MessageKind]]:
    """(topic, kind) for every input the node's parameters ask for, each topic once."""
    subs: dict[str, MessageKind] = {TF_TOPIC: TF, TF_STATIC_TOPIC: TF_STATIC}
    for topic in options.marker_topics:
        subs.setdefault(topic, MARKER)
    for topic in options.marker_array_topics:
        subs.setdefault(topic, MARKER_ARRAY)
    if options.robot_description_topic and not options.robot_description_file:
        subs.setdefault(options.robot_description_topic, ROBOT_DESCRIPTION)
    return list(subs.items())
