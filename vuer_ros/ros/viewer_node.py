"""ViewerNode: the ROS 2 node behind ``ros2 run vuer_ros viewer`` / ``vuer-ros viewer``.

The ROS edge of the live viewer, and only that: it declares the parameters
(params.py), subscribes to the inputs the core asks for
(:attr:`LiveView.subscriptions`: /tf, /tf_static, marker topics, the robot
description, each with its kind's QoS) with ``raw=True``, and hands each
message's CDR bytes, stamped with the ROS clock, to the
:class:`~vuer_ros.view.live.LiveView`, which decodes, applies, renders and
grabs on its own thread. Frames come back as message field values
(image_fields.py) on the view's publisher thread and are published here:
``vuer/image`` (rgb8), ``vuer/image/compressed`` (JPEG), ``vuer/camera_info``,
``vuer/depth`` (32FC1 metres, with ``render.depth``), relative to the node's
namespace (for listed cameras ``vuer/<name>/image``, ...), and the render cameras'
optical frames on /tf_static (on /tf with each image for a camera that moves: one
following a target frame, or on a camera path).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Sequence

import rclpy
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import ParameterUninitializedException
from rclpy.clock import ROSClock
from rclpy.logging import LoggingSeverity
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from tf2_msgs.msg import TFMessage

from ..config import ConfigError
from ..params import (
    BY_NAME,
    CAMERA_TF_TOPIC,
    CAMERAS_PREFIX,
    DISPLAYS_PREFIX,
    NODE_NAME,
    PARAMS,
    CameraTopics,
    ParamSpec,
)
from ..scene.frame_id import frame_id
from ..view.image_fields import Fields, Wants, static_cameras_tf
from ..view.kinds import Qos, Subscription, auto_subscription
from ..view.live import LiveView
from ..view.options import ViewOptions, settings_from_params
from ..render.settings import RenderSettings
from .lifecycle import RosProgram
from .messages import deserialize, layout_matches, message_class, to_rclpy

try:
    from rclpy._rclpy_pybind11 import RCLError
except ImportError:  # pragma: no cover
    RCLError = RuntimeError  # type: ignore[misc,assignment]

_TYPES = {
    "bool": Parameter.Type.BOOL, "int": Parameter.Type.INTEGER, "double": Parameter.Type.DOUBLE,
    "string": Parameter.Type.STRING, "string[]": Parameter.Type.STRING_ARRAY,
    "double[]": Parameter.Type.DOUBLE_ARRAY,
}

STATIC_BROADCAST_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                  durability=DurabilityPolicy.TRANSIENT_LOCAL,
                                  history=HistoryPolicy.KEEP_LAST)
# How often the ROS graph is looked at for new topics (displays.auto), s.
DISCOVERY_PERIOD_S = 1.0
IMAGE_QOS = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)
# tf2_ros' TransformBroadcaster's
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)


def qos_profile(qos: Qos) -> QoSProfile:
    """A kind's QoS (view/kinds.py) as rclpy's."""
    return QoSProfile(depth=qos.depth, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE if qos.reliable
                      else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if qos.transient_local
                      else DurabilityPolicy.VOLATILE)


class RosLogHandler(logging.Handler):
    """Python ``logging`` records of vuer_ros (scene problems, server, browser)
    -> the node's rclpy logger, so they land on stderr and in the ROS log."""

    def __init__(self, node: Node) -> None:
        super().__init__(logging.DEBUG)
        self._log = node.get_logger()
        self._context = node.context
        self._name = node.get_name()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            level = record.levelno
            if not self._context.ok():   # after shutdown: rosout is gone, stderr is not
                print(f"[{logging.getLevelName(level)}] [{record.created:.9f}] [{self._name}]: "
                      f"{text}", file=sys.stderr, flush=True)
            elif level >= logging.CRITICAL:
                self._log.fatal(text)
            elif level >= logging.ERROR:
                self._log.error(text)
            elif level >= logging.WARNING:
                self._log.warning(text)
            elif level >= logging.INFO:
                self._log.info(text)
            else:
                self._log.debug(text)
        except Exception:  # logging must never raise into the caller
            pass


def _descriptor(spec: ParamSpec) -> ParameterDescriptor:
    d = ParameterDescriptor(name=spec.name, type=_TYPES[spec.type_name].value,
                            description=spec.description,
                            read_only=not spec.dynamic and spec.name != "port"
                            and not isinstance(spec.default, list))
    if spec.range is not None:
        lo, hi = spec.range
        if spec.type_name == "int":
            d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=1)]
        else:
            d.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi),
                                                         step=0.0)]
    if spec.name == "port":
        d.additional_constraints = "read at start; after start it holds the bound port"
    elif not spec.dynamic:
        d.additional_constraints = "read at start"
    return d


def _coerce(spec: ParamSpec, param: Parameter) -> Parameter:
    """Let ``-p render.rate:=20`` and ``-p render.eye:=[1,2,3]`` (ints where doubles
    are declared) and ``-p mesh_roots:=[]`` (an untyped empty list) through."""
    want = _TYPES[spec.type_name]
    if param.type_ == want:
        return param
    if want == Parameter.Type.DOUBLE and param.type_ == Parameter.Type.INTEGER:
        return Parameter(spec.name, want, float(param.value))
    if want == Parameter.Type.DOUBLE_ARRAY and param.type_ == Parameter.Type.INTEGER_ARRAY:
        return Parameter(spec.name, want, [float(v) for v in param.value])
    if want in (Parameter.Type.DOUBLE_ARRAY, Parameter.Type.STRING_ARRAY) and (
            param.type_ == Parameter.Type.NOT_SET or (
                param.type_.name.endswith("_ARRAY") and len(param.value) == 0)):
        return Parameter(spec.name, want, [])
    if want == Parameter.Type.STRING_ARRAY and param.type_ == Parameter.Type.STRING:
        return Parameter(spec.name, want, [param.value])
    return param


class ViewerNode(Node):
    """TF, markers, a robot model -> browser scene; browser renders -> sensor_msgs/Image."""

    def __init__(self, node_name: str = NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._log_handler = RosLogHandler(self)
        py_logger = logging.getLogger("vuer_ros")
        py_logger.addHandler(self._log_handler)
        # follow the node's log level (--ros-args --log-level vuer_viewer:=debug)
        try:
            debug = self.get_logger().is_enabled_for(LoggingSeverity.DEBUG)
        except Exception:
            debug = False
        py_logger.setLevel(logging.DEBUG if debug else logging.INFO)
        py_logger.propagate = False
        self._internal_set = False
        self._declare_parameters()
        options = ViewOptions.from_params(self._params())
        self.fixed_frame = options.fixed_frame

        # outputs: each camera's topics (read at start, as the cameras are)
        self._camera_topics: dict[str, CameraTopics] = {}
        self._image_pubs: dict[str, Any] = {
            # a camera that moves (a target frame, a path): its pose with each image
            CAMERA_TF_TOPIC: self.create_publisher(TFMessage, CAMERA_TF_TOPIC, TF_QOS)}
        for spec in options.settings.camera_specs:
            topics = self._camera_topics[spec.name] = spec.topics
            for topic, msg_type in ((topics.image, Image), (topics.compressed, CompressedImage),
                                    (topics.camera_info, CameraInfo), (topics.depth, Image)):
                self._image_pubs[topic] = self.create_publisher(msg_type, topic, IMAGE_QOS)
        self.static_tf_pub = self.create_publisher(TFMessage, "/tf_static", STATIC_BROADCAST_QOS)
        self._publish_lock = threading.Lock()

        self.view = LiveView(options, clock_ns=self._now_ns, sink=self, fallback_decode=deserialize,
                             sim_time=self._sim_time)

        # inputs: raw CDR for the core's decoders, unless the installed message differs
        # from the layout they read (another ROS distribution): then rclpy decodes
        self._subscribed: set[str] = set()
        # resolved topic -> (its subscription, what it shows, the QoS it asked for)
        self._subscriptions_by_topic: dict[str, tuple[Any, Subscription, QoSProfile]] = {}
        for sub in self.view.subscriptions:
            self._subscribe(sub, self._offered_qos(sub.topic, sub.kind.qos))
        # every second: topics of supported types that appeared (displays.auto), and
        # publishers whose QoS the subscriptions do not match yet
        self._discover()
        self.create_timer(DISCOVERY_PERIOD_S, self._discover)

        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.view.start()
        try:
            self._write_port(self.view.port)
            self._publish_camera_tf()
        except BaseException:
            self.view.stop()
            raise
        settings = options.settings
        size = f"{settings.width}x{settings.height}" if not settings.cameras else \
            "cameras " + ", ".join(f"{c.name} {c.width}x{c.height}" for c in settings.cameras)
        self.get_logger().info(
            f"vuer_ros viewer: open {self.view.open_url} (fixed frame '{self.fixed_frame}', "
            f"{size} at {settings.rate:g} Hz, "
            f"{'headless renderer' if settings.headless else 'renders from a connected browser'})")

    # -- inputs ---------------------------------------------------------------------------------
    def _subscribe(self, sub: Subscription, qos: QoSProfile) -> bool:
        """Subscribe to a topic the view shows; False (logged once) when this ROS install
        lacks its message package."""
        kind = sub.kind
        name = self.resolve_topic_name(sub.topic)
        self._subscribed.add(name)
        try:
            msg_class = message_class(kind.msgtype)
        except (ImportError, AttributeError, ValueError) as e:
            self.get_logger().error(
                f"{sub.topic}: cannot subscribe, the message package of {kind.msgtype} is not "
                f"installed ({e}); install it (e.g. ros-$ROS_DISTRO-"
                f"{kind.msgtype.split('/')[0].replace('_', '-')}) to show this topic")
            return False
        raw = layout_matches(kind.msgtype, kind.layout)
        if not raw:
            self.get_logger().warning(
                f"{kind.msgtype} differs from the layout vuer_ros decodes itself (ROS 2 "
                f"Jazzy); {sub.topic} uses rclpy's slower deserialisation")
        self._subscriptions_by_topic[name] = (
            self.create_subscription(msg_class, sub.topic, self._handoff(sub.topic), qos, raw=raw),
            sub, qos)
        return True

    def _match_publishers(self) -> None:
        """A publisher that offers less than a subscription asks for (a best-effort lidar
        driver, a volatile map) never connects to it: subscribe again as it offers, once."""
        for name, (subscription, sub, qos) in list(self._subscriptions_by_topic.items()):
            lower = self._offered_qos(name, Qos(qos.depth, qos.reliability == ReliabilityPolicy.RELIABLE,
                                                 qos.durability == DurabilityPolicy.TRANSIENT_LOCAL))
            if (lower.reliability, lower.durability) == (qos.reliability, qos.durability):
                continue
            self.destroy_subscription(subscription)
            del self._subscriptions_by_topic[name]
            if self._subscribe(sub, lower):
                self.get_logger().info(
                    f"{sub.topic}: subscribed again as its publishers offer "
                    f"({lower.reliability.name.lower()}, {lower.durability.name.lower()})")

    def _discover(self) -> None:
        """displays.auto: subscribe to every new topic of a supported type, with a QoS its
        publishers offer (as rosbag2 and Foxglove's bridge pick one)."""
        try:
            self._match_publishers()
            found = self.get_topic_names_and_types() if self.view.options.auto_displays else []
        except Exception:   # shutting down
            return
        for topic, types in found:
            if topic in self._subscribed:
                continue
            for msgtype in types:
                sub = auto_subscription(self.view.options, topic, msgtype)
                if sub is None:
                    continue
                self.view.add_topic(sub)   # before its first message can arrive
                if self._subscribe(sub, self._offered_qos(topic, sub.kind.qos)):
                    self.get_logger().info(f"showing {topic} ({msgtype}) as a "
                                           f"{sub.kind.display} display")
                break

    def _offered_qos(self, topic: str, want: Qos) -> QoSProfile:
        """The kind's QoS, lowered to what every publisher of ``topic`` offers (a reliable
        or transient-local request would not match a best-effort or volatile publisher)."""
        reliable, latched = want.reliable, want.transient_local
        for info in self.get_publishers_info_by_topic(topic):
            qos = info.qos_profile
            reliable = reliable and qos.reliability == ReliabilityPolicy.RELIABLE
            latched = latched and qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
        return qos_profile(Qos(want.depth, reliable, latched))

    # -- parameters ----------------------------------------------------------------------------
    def _p(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _params(self, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter of the table, with ``changes`` over the current values."""
        values = {name: self._p(name) for name in [*(s.name for s in PARAMS), *self._listed_params]}
        values.update(changes or {})
        return values

    def _declare_parameters(self) -> None:
        overrides = getattr(self, "_parameter_overrides", None)
        for spec in PARAMS:
            if isinstance(overrides, dict) and spec.name in overrides:
                overrides[spec.name] = _coerce(spec, overrides[spec.name])
            ptype = _TYPES[spec.type_name]
            descriptor = _descriptor(spec)
            if isinstance(spec.default, list):
                # a list default cannot carry its type ([] reads as a byte array): declare by
                # type, then set the default unless the user gave a value (so these are not
                # read_only in the descriptor; _on_set_parameters refuses changes instead)
                # (rclpy also reads an empty override list as a byte array: take it out)
                value = list(spec.default)
                given = overrides.get(spec.name) if isinstance(overrides, dict) else None
                if given is not None and given.type_ == ptype and not given.value:
                    del overrides[spec.name]
                    value = []
                self.declare_parameter(spec.name, ptype, descriptor)
                try:
                    unset = self.get_parameter(spec.name).type_ == Parameter.Type.NOT_SET
                except ParameterUninitializedException:
                    unset = True
                if unset:
                    self.set_parameters([Parameter(spec.name, ptype, value)])
            else:
                self.declare_parameter(spec.name, spec.default, descriptor)
        # displays and cameras listed in the parameter file (displays.<name>.<key>,
        # render.cameras.<name>.<key>; displays.py and cameras.py check them)
        self._listed_params = sorted(name for name in (overrides or {})
                                     if name.startswith((DISPLAYS_PREFIX, CAMERAS_PREFIX))
                                     and name not in BY_NAME)
        for name in self._listed_params:
            what = "a display option (docs/displays.md)" if name.startswith(DISPLAYS_PREFIX) \
                else "a render camera's key (docs/parameters.md, \"Several cameras\")"
            self.declare_parameter(name, overrides[name].value, ParameterDescriptor(
                name=name, read_only=True, description=what))

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        if self._internal_set:
            return SetParametersResult(successful=True)
        changes: dict[str, Any] = {}
        for param in params:
            spec = BY_NAME.get(param.name)
            if spec is None:
                if param.name.startswith(DISPLAYS_PREFIX):
                    return SetParametersResult(successful=False, reason=(
                        "displays are read at start; restart the node"))
                if param.name.startswith(CAMERAS_PREFIX):
                    return SetParametersResult(successful=False, reason=(
                        "render cameras are read at start; restart the node"))
                continue   # use_sim_time and other rclpy parameters
            if spec.name == "port":
                return SetParametersResult(successful=False, reason=(
                    "port is read at start (it holds the bound port); restart the node"))
            if not spec.dynamic:
                return SetParametersResult(successful=False,
                                           reason=f"{param.name} is read at start; restart the node")
            changes[param.name] = param.value
        if not changes:
            return SetParametersResult(successful=True)
        try:
            settings = settings_from_params(self._params(changes))
            fixed = str(changes.get("fixed_frame", self.fixed_frame))
            if not frame_id(fixed):
                raise ValueError("fixed_frame must not be empty")
        except (ConfigError, ValueError, TypeError) as e:
            return SetParametersResult(successful=False, reason=str(e))
        # applied here: this runs before the values are stored, which is fine for us
        if fixed != self.fixed_frame:
            self.fixed_frame = fixed
            self.view.set_fixed_frame(fixed)
        self.view.configure(settings)
        self._publish_camera_tf(settings)
        return SetParametersResult(successful=True)

    def _write_port(self, port: int) -> None:
        self._internal_set = True
        try:
            self.set_parameters([Parameter("port", Parameter.Type.INTEGER, int(port))])
        finally:
            self._internal_set = False

    # -- time -----------------------------------------------------------------------------------
    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _sim_time(self) -> bool:
        """Whether the node's clock is sim time (use_sim_time: /clock drives it)."""
        clock = self.get_clock()
        return isinstance(clock, ROSClock) and clock.ros_time_is_active

    def _handoff(self, topic: str) -> Any:
        submit, now = self.view.submit, self._now_ns

        def callback(msg: Any) -> None:
            submit(topic, msg, now())
        return callback

    # -- camera on TF ---------------------------------------------------------------------------
    def _publish_camera_tf(self, settings: RenderSettings | None = None) -> None:
        """The optical frames of the cameras fixed on TF on /tf_static, all in one message
        (the latched topic keeps one per publisher); a camera that moves goes out on /tf
        with each image instead."""
        settings = settings or self.view.settings
        tf = static_cameras_tf(self._now_ns(), settings.camera_specs, self.fixed_frame)
        if tf is not None:
            self._safe_publish(self.static_tf_pub, to_rclpy(tf))

    # -- FrameSink (called on the view's publisher thread) --------------------------------------
    def wants(self, camera: str = "") -> Wants:
        pubs = self._image_pubs
        try:
            topics = self._camera_topics[camera]
            return Wants(image=pubs[topics.image].get_subscription_count() > 0,
                         compressed=pubs[topics.compressed].get_subscription_count() > 0,
                         depth=pubs[topics.depth].get_subscription_count() > 0,
                         info=pubs[topics.camera_info].get_subscription_count() > 0)
        except Exception:  # shutting down, or a camera this node has no publishers for
            return Wants(False, False, False, False)

    def publish(self, messages: dict[str, Fields]) -> None:
        for topic, fields in messages.items():
            self._safe_publish(self._image_pubs[topic], to_rclpy(fields))

    def _safe_publish(self, pub: Any, msg: Any) -> None:
        try:
            with self._publish_lock:
                pub.publish(msg)
        except RCLError as e:   # "cannot publish data": a transient DDS failure
            logging.getLogger("vuer_ros.ros").warning("publishing on %s failed: %s", pub.topic_name, e)
        except Exception as e:  # the context is shutting down
            if rclpy.ok():
                logging.getLogger("vuer_ros.ros").warning("publishing on %s failed: %r",
                                                          getattr(pub, "topic_name", "?"), e)

    # -- lifecycle ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the renderer, the server and the view's threads."""
        self.view.stop()
        logging.getLogger("vuer_ros").removeHandler(self._log_handler)


def run(args: Sequence[str] | None = None, node_factory: Any = None) -> int:
    """Init rclpy, spin the node until Ctrl-C / SIGTERM, stop everything; exit code
    (signals during the stop cannot cut it short: lifecycle.py)."""
    program = RosProgram("vuer_ros viewer")
    node = None
    code = 0
    try:
        program.init(args)
        node = (node_factory or ViewerNode)()
        program.spin(node)
    except BaseException as e:
        code = program.exit_code(e)
    finally:
        if node is not None:
            node.shutdown()
            node.destroy_node()
        program.close()
    return code


def main(args: Sequence[str] | None = None) -> None:
    """Console script ``viewer`` (``ros2 run vuer_ros viewer --ros-args ...``)."""
    sys.exit(run(args if args is not None else sys.argv))


if __name__ == "__main__":
    main()
