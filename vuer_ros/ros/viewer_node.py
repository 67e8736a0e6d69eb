"""ViewerNode: the ROS 2 node behind ``ros2 run vuer_ros viewer`` / ``vuer-ros viewer``.

Inputs: /tf, /tf_static (transient local: a late viewer still gets static
frames), Marker topics (``marker_topics``) and MarkerArray topics
(``marker_array_topics``). Outputs, relative to the node's namespace:
``vuer/image`` (rgb8), ``vuer/image/compressed`` (JPEG), ``vuer/camera_info``,
``vuer/depth`` (32FC1 metres, with ``render.depth``), and the render camera's
optical frame ``render.optical_frame`` on /tf_static.

Threads: the rclpy executor runs the callbacks, which only time-stamp each
message and hand it to the :class:`RenderLoop` (its own asyncio thread, which
owns the scene model, the server and the browser); frames come back on the
render loop's publisher thread, which publishes them. Marker topics are taken
as raw CDR and decoded on the render loop (marker_cdr.py), so a huge or
malformed marker costs the executor nothing. Parameters: params.py.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from typing import Any, Sequence

import rclpy
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import TransformStamped
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import ParameterUninitializedException
from rclpy.logging import LoggingSeverity
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from ..scene.errors import UrdfError
from ..scene.urdf import read_urdf_file
from .lifecycle import RosProgram
from .marker_cdr import layout_matches
from ..params import (
    BY_NAME,
    CAMERA_INFO_TOPIC,
    COMPRESSED_TOPIC,
    DEPTH_TOPIC,
    IMAGE_TOPIC,
    NODE_NAME,
    PARAMS,
    ParamSpec,
)
from .render_loop import (
    MARKER_ARRAY_MSG,
    MARKER_ARRAY_RAW,
    MARKER_MSG,
    MARKER_RAW,
    ROBOT_DESCRIPTION,
    TF,
    RenderedFrame,
    RenderLoop,
    RenderSettings,
    Wants,
)

try:
    import cv2
except ImportError:  # pragma: no cover - opencv is in requirements; PIL is the fallback
    cv2 = None

try:
    from rclpy._rclpy_pybind11 import RCLError
except ImportError:  # pragma: no cover
    RCLError = RuntimeError  # type: ignore[misc,assignment]

_TYPES = {
    "bool": Parameter.Type.BOOL, "int": Parameter.Type.INTEGER, "double": Parameter.Type.DOUBLE,
    "string": Parameter.Type.STRING, "string[]": Parameter.Type.STRING_ARRAY,
    "double[]": Parameter.Type.DOUBLE_ARRAY,
}

TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)
TF_STATIC_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL,
                           history=HistoryPolicy.KEEP_LAST)
STATIC_BROADCAST_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                  durability=DurabilityPolicy.TRANSIENT_LOCAL,
                                  history=HistoryPolicy.KEEP_LAST)
MARKER_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE)
MARKER_ARRAY_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.VOLATILE)
ROBOT_DESCRIPTION_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                   durability=DurabilityPolicy.TRANSIENT_LOCAL)
IMAGE_QOS = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)


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


def _deserialize(kind: int, raw: bytes) -> Any:
    """rclpy's own deserialisation, for marker bytes marker_cdr does not read."""
    from rclpy.serialization import deserialize_message
    return deserialize_message(raw, MarkerArray if kind == MARKER_ARRAY_RAW else Marker)


def _stamp(ns: int) -> TimeMsg:
    return TimeMsg(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


class ViewerNode(Node):
    """TF + markers -> browser scene; browser renders -> sensor_msgs/Image."""

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
        settings = self._settings_from_params()
        p = self._p
        self.fixed_frame = str(p("fixed_frame")).lstrip("/") or "map"

        # outputs
        self.image_pub = self.create_publisher(Image, IMAGE_TOPIC, IMAGE_QOS)
        self.compressed_pub = self.create_publisher(CompressedImage, COMPRESSED_TOPIC, IMAGE_QOS)
        self.info_pub = self.create_publisher(CameraInfo, CAMERA_INFO_TOPIC, IMAGE_QOS)
        self.depth_pub = self.create_publisher(Image, DEPTH_TOPIC, IMAGE_QOS)
        self.static_tf_pub = self.create_publisher(TFMessage, "/tf_static", STATIC_BROADCAST_QOS)
        self._publish_lock = threading.Lock()

        self.render = RenderLoop(
            fixed_frame=self.fixed_frame, settings=settings, clock_ns=self._now_ns, sink=self,
            host=str(p("host")), port=int(p("port")), mesh_roots=list(p("mesh_roots")),
            max_marker_points=int(p("max_marker_points")), grid=bool(p("grid")),
            scene_rate=float(p("scene_rate")), fallback_decode=_deserialize)

        # inputs
        submit = self.render.submit
        self.create_subscription(TFMessage, "/tf",
                                 lambda m: submit(TF, m, self._now_ns(), "/tf"), TF_QOS)
        self.create_subscription(TFMessage, "/tf_static",
                                 lambda m: submit(TF, m, self._now_ns(), "/tf_static"),
                                 TF_STATIC_QOS)
        raw = layout_matches(Marker)
        if not raw:
            self.get_logger().warning(
                "visualization_msgs/Marker differs from the layout vuer_ros decodes itself "
                "(ROS 2 Jazzy); using rclpy's slower deserialisation")
        for topic in dict.fromkeys(p("marker_topics")):
            kind = MARKER_RAW if raw else MARKER_MSG
            self.create_subscription(Marker, topic, self._handoff(kind, topic), MARKER_QOS,
                                     raw=raw)
        for topic in dict.fromkeys(p("marker_array_topics")):
            kind = MARKER_ARRAY_RAW if raw else MARKER_ARRAY_MSG
            self.create_subscription(MarkerArray, topic, self._handoff(kind, topic),
                                     MARKER_ARRAY_QOS, raw=raw)

        robot_topic = str(p("robot_description_topic"))
        robot_file = str(p("robot_description_file")).strip()
        if robot_file:   # a file instead of the topic: parsed here, shown by the render loop
            try:
                description: Any = read_urdf_file(robot_file)
            except UrdfError as e:
                description = e   # logged (once) and shown as no robot, as a bad topic message
            self.render.submit(ROBOT_DESCRIPTION, description, self._now_ns(), robot_file)
        elif robot_topic:
            self.create_subscription(String, robot_topic,
                                     self._handoff(ROBOT_DESCRIPTION, robot_topic),
                                     ROBOT_DESCRIPTION_QOS)

        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.render.start()
        self._write_port(self.render.port)
        self._publish_camera_tf()
        self.get_logger().info(
            f"vuer_ros viewer: open {self.render.url} (fixed frame '{self.fixed_frame}', "
            f"{settings.width}x{settings.height} at {settings.rate:g} Hz, "
            f"{'headless renderer' if settings.headless else 'renders from a connected browser'})")

    # -- parameters ----------------------------------------------------------------------------
    def _p(self, name: str) -> Any:
        return self.get_parameter(name).value

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

    def _settings_from_params(self, changes: dict[str, Any] | None = None) -> RenderSettings:
        changes = changes or {}

        def p(name: str) -> Any:
            return changes[name] if name in changes else self._p(name)

        for name in ("render.eye", "render.target"):
            v = list(p(name))
            if len(v) != 3 or not all(math.isfinite(float(x)) for x in v):
                raise ValueError(f"{name} must be 3 finite numbers [x, y, z], got {v}")
        settings = RenderSettings(
            rate=float(p("render.rate")), width=int(p("render.width")),
            height=int(p("render.height")), fov=float(p("render.fov")),
            near=float(p("render.near")), far=float(p("render.far")),
            camera_frame=str(p("render.camera_frame")).lstrip("/"),
            camera_frame_is_optical=bool(p("render.camera_frame_is_optical")),
            eye=tuple(float(x) for x in p("render.eye")),  # type: ignore[arg-type]
            target=tuple(float(x) for x in p("render.target")),  # type: ignore[arg-type]
            optical_frame=str(p("render.optical_frame")).strip("/"),
            headless=bool(p("render.headless")), depth=bool(p("render.depth")),
            jpeg_quality=int(p("render.jpeg_quality")), lazy=bool(p("render.lazy")),
            grab_timeout=float(p("render.grab_timeout")))
        settings.check()
        return settings

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        if self._internal_set:
            return SetParametersResult(successful=True)
        changes: dict[str, Any] = {}
        for param in params:
            spec = BY_NAME.get(param.name)
            if spec is None:
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
            settings = self._settings_from_params(changes)
            if "fixed_frame" in changes and not str(changes["fixed_frame"]).strip("/"):
                raise ValueError("fixed_frame must not be empty")
        except (ValueError, TypeError) as e:
            return SetParametersResult(successful=False, reason=str(e))
        # applied here: this runs before the values are stored, which is fine for us
        if "fixed_frame" in changes:
            self.fixed_frame = str(changes["fixed_frame"]).strip("/")
            self.render.set_fixed_frame(self.fixed_frame)
        self.render.configure(settings)
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

    def _handoff(self, kind: int, topic: str) -> Any:
        submit, now = self.render.submit, self._now_ns

        def callback(msg: Any) -> None:
            submit(kind, msg, now(), topic)
        return callback

    # -- camera on TF ---------------------------------------------------------------------------
    def _publish_camera_tf(self, settings: RenderSettings | None = None) -> None:
        settings = settings or self.render.settings
        parent, xyz, q = settings.camera_mount(self.fixed_frame)
        t = TransformStamped()
        t.header.stamp = self.get_clock().now().to_msg()
        t.header.frame_id = parent
        t.child_frame_id = settings.optical_frame
        t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = xyz
        r = t.transform.rotation
        r.x, r.y, r.z, r.w = q
        self._safe_publish(self.static_tf_pub, TFMessage(transforms=[t]))

    # -- FrameSink (called on the render loop's publisher thread) -------------------------------
    def wants(self) -> Wants:
        try:
            return Wants(image=self.image_pub.get_subscription_count() > 0,
                         compressed=self.compressed_pub.get_subscription_count() > 0,
                         depth=self.depth_pub.get_subscription_count() > 0,
                         info=self.info_pub.get_subscription_count() > 0)
        except Exception:  # shutting down
            return Wants(False, False, False, False)

    def publish(self, rendered: RenderedFrame) -> None:
        settings, frame, camera = rendered.settings, rendered.frame, rendered.camera
        lazy = settings.lazy
        wants = self.wants() if lazy else Wants()
        stamp = _stamp(rendered.stamp_ns)
        frame_id = settings.optical_frame
        rgb = frame.rgb
        h, w = rgb.shape[:2]
        if wants.image:
            img = Image()
            img.header.stamp, img.header.frame_id = stamp, frame_id
            img.height, img.width, img.encoding, img.is_bigendian, img.step = h, w, "rgb8", 0, w * 3
            img.data = rgb.tobytes()
            self._safe_publish(self.image_pub, img)
        if wants.compressed:
            data = _jpeg(rgb, settings.jpeg_quality)
            if data is not None:
                c = CompressedImage()
                c.header.stamp, c.header.frame_id = stamp, frame_id
                c.format = "rgb8; jpeg compressed bgr8"
                c.data = data
                self._safe_publish(self.compressed_pub, c)
        if wants.depth and frame.depth is not None:
            d = Image()
            d.header.stamp, d.header.frame_id = stamp, frame_id
            d.height, d.width, d.encoding, d.step = h, w, "32FC1", w * 4
            d.is_bigendian = int(sys.byteorder == "big")
            d.data = frame.depth.astype("=f4", copy=False).tobytes()
            self._safe_publish(self.depth_pub, d)
        if wants.info:
            info = CameraInfo(**camera.camera_info_fields())
            info.header.stamp, info.header.frame_id = stamp, frame_id
            self._safe_publish(self.info_pub, info)

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
        """Stop the renderer, the server and the render loop's threads."""
        self.render.stop()
        logging.getLogger("vuer_ros").removeHandler(self._log_handler)


def _jpeg(rgb: Any, quality: int) -> bytes | None:
    if cv2 is not None:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
        return buf.tobytes() if ok else None
    import io

    from PIL import Image as PilImage
    out = io.BytesIO()
    PilImage.fromarray(rgb).save(out, format="JPEG", quality=int(quality))
    return out.getvalue()


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
