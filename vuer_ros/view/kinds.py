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
from ..cdr.laser_scan import LAYOUT as LASER_SCAN_LAYOUT
from ..cdr.laser_scan import decode_laser_scan
from ..cdr.markers import LAYOUT as MARKER_LAYOUT
from ..cdr.markers import MarkerDecoder
from ..cdr.poses import PATH_LAYOUT, POSE_ARRAY_LAYOUT, PathDecoder, PoseArrayDecoder
from ..cdr.occupancy import GRID_LAYOUT, UPDATE_LAYOUT, UPDATE_MSGTYPE
from ..cdr.occupancy import decode_occupancy_grid, decode_occupancy_grid_update
from ..cdr.pointcloud import LAYOUT as POINT_CLOUD2_LAYOUT
from ..cdr.pointcloud import decode_point_cloud
from ..cdr.string import LAYOUT as STRING_LAYOUT
from ..cdr.tf import LAYOUT as TF_LAYOUT
from ..displays import DISPLAY_TYPES
from ..scene import SceneModel
from ..scene.odometry_display import OdometryDisplay
from ..scene.path_display import PathDisplay
from ..scene.point_display import PointStampedDisplay
from ..scene.polygon_display import PolygonDisplay
from ..scene.pose_display import PoseArrayDisplay, PoseDisplay
from ..scene.stamped_display import StampedDisplay
from ..scene.map_display import attach_map, attach_map_updates, update_topic_of
from ..scene.cloud_display import CloudDisplay, read_laser_scan, read_point_cloud2
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
    # other topics a display of this kind reads, by its topic and options: (topic, kind name)
    also: Callable[[str, Mapping[str, Any]], list[tuple[str, str]]] | None = None

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


def array_namespaces(msg: Any) -> set[str]:
    """The namespaces of a MarkerArray's markers (from its columns when it has them)."""
    cols = getattr(msg, "columns", None)
    return set(cols.ns) if cols is not None else {str(m.ns) for m in msg.markers}


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
# Clouds: reliable (as rviz2 subscribes by default). Over Fast DDS a best-effort
# subscription lost most clouds of 100,000 points at 10 Hz (a 1.6 MB sample is fragmented,
# and one lost fragment loses it: bench/cloud_rate.py saw p95 latencies of 6 s);
# displays.auto lowers it to best effort for a best-effort publisher. Depth 1: a cloud
# the node has not taken yet is replaced by a newer one (latest wins) rather than queued
# behind it, which at 16 MB a cloud would add its period to the latency. Scans are small:
# best effort, depth 5, as SensorDataQoS, which every publisher matches.
POINT_CLOUD2 = _kind(
    "point_cloud2", "sensor_msgs/msg/PointCloud2", Qos(1),
    lambda model, topic, options: model.add_display(CloudDisplay(
        model.frames, model.problems, topic, options, read_point_cloud2,
        tf_timeout_ns=model.marker_tf_timeout_ns)).on_message,
    display="PointCloud2", auto=True, fast=lambda _: _Fn(decode_point_cloud),
    layout=POINT_CLOUD2_LAYOUT)
LASER_SCAN = _kind(
    "laser_scan", "sensor_msgs/msg/LaserScan", Qos(5, reliable=False),
    lambda model, topic, options: model.add_display(CloudDisplay(
        model.frames, model.problems, topic, options, read_laser_scan,
        tf_timeout_ns=model.marker_tf_timeout_ns)).on_message,
    display="LaserScan", auto=True, fast=lambda _: _Fn(decode_laser_scan),
    layout=LASER_SCAN_LAYOUT)

# -- maps -------------------------------------------------------------------------------------
# map_server latches its map (transient local); updates as rviz subscribes to them (depth 5).
# The update kind shows as part of a Map display: it comes after MAP, so BY_DISPLAY keeps MAP.
MAP = _kind(
    "map", "nav_msgs/msg/OccupancyGrid", Qos(1, transient_local=True), attach_map,
    display="Map", auto=True, fast=lambda _: _Fn(decode_occupancy_grid), layout=GRID_LAYOUT,
    also=lambda topic, options: [(update_topic_of(topic, options), "map_update")])
MAP_UPDATE = _kind(
    "map_update", UPDATE_MSGTYPE, Qos(5), attach_map_updates, display="Map", auto=True,
    fast=lambda _: _Fn(decode_occupancy_grid_update), layout=UPDATE_LAYOUT)

# -- paths, poses, points, polygons, odometry -------------------------------------------------
# rviz subscribes these displays reliable and volatile, depth 5 (RosTopicDisplay's qos_profile)
_TOPIC_QOS = Qos(5)


def _stamped(display: Callable[..., StampedDisplay]) -> Attach:
    """``attach`` of a stamped display: one display per topic, messages to its on_message."""
    return lambda model, topic, options: model.add_display(display(
        model.frames, model.problems, topic, options,
        tf_timeout_ns=model.marker_tf_timeout_ns)).on_message


PATH = _kind("path", "nav_msgs/msg/Path", _TOPIC_QOS, _stamped(PathDisplay), display="Path", auto=True,
             fast=PathDecoder, layout=PATH_LAYOUT)
POSE = _kind("pose", "geometry_msgs/msg/PoseStamped", _TOPIC_QOS, _stamped(PoseDisplay),
             display="Pose", auto=True)
POSE_ARRAY = _kind("pose_array", "geometry_msgs/msg/PoseArray", _TOPIC_QOS, _stamped(PoseArrayDisplay),
                   display="PoseArray", auto=True, fast=PoseArrayDecoder, layout=POSE_ARRAY_LAYOUT)
POINT_STAMPED = _kind("point_stamped", "geometry_msgs/msg/PointStamped", _TOPIC_QOS,
                      _stamped(PointStampedDisplay), display="PointStamped", auto=True)
POLYGON = _kind("polygon", "geometry_msgs/msg/PolygonStamped", _TOPIC_QOS, _stamped(PolygonDisplay),
                display="Polygon", auto=True)
ODOMETRY = _kind("odometry", "nav_msgs/msg/Odometry", _TOPIC_QOS, _stamped(OdometryDisplay),
                 display="Odometry", auto=True)

# display type -> the kind its topic is read as (the first kind of that display)
BY_DISPLAY: dict[str, MessageKind] = {}
for _k in KINDS.values():
    if _k.display:
        BY_DISPLAY.setdefault(_k.display, _k)
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
            for topic, name in kind.also(d.topic, d.options) if kind.also else ():
                subs.setdefault(topic, Subscription(topic, KINDS[name], d.options))
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
