"""Helpers for the node tests: the real viewer node in a subprocess, and an
rclpy client in the test process that talks to it over Fast DDS on a private
ROS_DOMAIN_ID (localhost only).

- :class:`ViewerProcess`: ``python -m vuer_ros.cli viewer --ros-args ...`` (optionally in
  a process group of its own, as a terminal's foreground job); keeps its stderr lines
  (the node's log) for assertions; stops it with SIGINT.
- :class:`RosClient`: publishers for /tf, /tf_static, markers; subscribers for
  the images, camera_info and /tf_static; its own executor thread.
- Message builders (rclpy messages) and image helpers (colour masks, centroids).
"""

from __future__ import annotations

import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DISCOVERY_TIMEOUT = 45.0   # discovery usually takes 0.1 s, sometimes ~3 s; the machine is shared


def ros_env(log_dir: Path, domain_id: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    prefix = sys.prefix
    ament = env.get("AMENT_PREFIX_PATH", "")
    if prefix not in ament.split(os.pathsep):
        env["AMENT_PREFIX_PATH"] = prefix + (os.pathsep + ament if ament else "")
    env["ROS_DOMAIN_ID"] = str(domain_id if domain_id is not None else random.randint(1, 101))
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    env["ROS_LOG_DIR"] = str(log_dir)
    env["ROS_HOME"] = str(log_dir.parent / "ros_home")   # e.g. the server's certificate: never ~/.ros
    env["PYTHONUNBUFFERED"] = "1"
    env["RCUTILS_COLORIZED_OUTPUT"] = "0"
    return env


class ViewerProcess:
    """The viewer node as users run it: ``python -m vuer_ros.cli viewer --ros-args ...``."""

    def __init__(self, env: dict[str, str], params: dict[str, Any] | None = None,
                 extra_args: Sequence[str] = (), command: Sequence[str] | None = None,
                 new_session: bool = False) -> None:
        args = ["--ros-args"]
        for name, value in (params or {}).items():
            args += ["-p", f"{name}:={format_param(value)}"]
        args += list(extra_args)
        cmd = list(command) if command else [sys.executable, "-m", "vuer_ros.cli", "viewer"]
        self.cmd = cmd + args
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=str(REPO), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     errors="replace", start_new_session=new_session)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        self.port: int | None = None

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def tail(self, n: int = 60) -> str:
        with self._cond:
            return "\n".join(self.lines[-n:])

    def wait_for_line(self, pattern: str, timeout: float = 60.0, start: int = 0) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.lines):
                    m = regex.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and i >= len(self.lines)):
                    raise AssertionError(
                        f"no log line matching {pattern!r} within {timeout} s (exit code "
                        f"{self.proc.poll()}); log tail:\n{self.tail()}")
                self._cond.wait(min(left, 0.5))

    def count(self, pattern: str) -> int:
        regex = re.compile(pattern)
        with self._cond:
            return sum(1 for line in self.lines if regex.search(line))

    def wait_started(self, timeout: float = 60.0) -> int:
        m = self.wait_for_line(r"vuer_ros viewer: open https?://(?:\[[^\]]+\]|[^:/]+):(\d+)/", timeout)
        self.port = int(m.group(1))
        return self.port

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"viewer did not exit within {timeout} s of signal {sig}; "
                                     f"log tail:\n{self.tail()}") from None
        self._reader.join(5)
        return self.proc.returncode

    def children(self) -> list[int]:
        """Pids of every process descended from the node (Chromium and its helpers)."""
        out: list[int] = []
        frontier = [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            kids = []
            for task in Path(f"/proc/{pid}/task").glob("*"):   # children of every thread
                try:
                    kids += (task / "children").read_text().split()
                except OSError:
                    pass
            for k in kids:
                out.append(int(k))
                frontier.append(int(k))
        return out


def format_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_param(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- the rclpy client -------------------------------------------------------------------------------
class ReceivedImage:
    def __init__(self, msg: Any, received: float) -> None:
        self.msg = msg
        self.received = received
        self.stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec

    @property
    def rgb(self) -> np.ndarray:
        m = self.msg
        assert m.encoding == "rgb8", m.encoding
        a = np.frombuffer(bytes(m.data), dtype=np.uint8)
        return a.reshape(m.height, m.step)[:, :m.width * 3].reshape(m.height, m.width, 3)

    @property
    def depth(self) -> np.ndarray:
        m = self.msg
        assert m.encoding == "32FC1", m.encoding
        dt = ">f4" if m.is_bigendian else "<f4"
        return np.frombuffer(bytes(m.data), dtype=dt).reshape(m.height, m.width)


class RosClient:
    """An rclpy node in the test process, on its own context and executor thread."""

    def __init__(self, domain_id: int, name: str = "vuer_test_client",
                 image_topics: Iterable[str] = ("/vuer/image",), keep: int = 50) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CameraInfo, CompressedImage, Image
        from tf2_msgs.msg import TFMessage
        from visualization_msgs.msg import Marker, MarkerArray

        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        latched = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.tf_pub = self.node.create_publisher(TFMessage, "/tf", 100)
        self.tf_static_pub = self.node.create_publisher(
            TFMessage, "/tf_static", QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                                durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.marker_pub = self.node.create_publisher(Marker, "/visualization_marker", 100)
        self.array_pub = self.node.create_publisher(MarkerArray, "/visualization_marker_array", 10)
        self._lock = threading.Condition()
        self.images: dict[str, deque[ReceivedImage]] = {}
        self.counts: dict[str, int] = {}
        for topic in image_topics:
            msg_type = CompressedImage if topic.endswith("compressed") else Image
            self.images[topic] = deque(maxlen=keep)
            self.counts[topic] = 0
            self.node.create_subscription(msg_type, topic, self._image_cb(topic), 5)
        self.camera_info: Any = None
        self.node.create_subscription(CameraInfo, "/vuer/camera_info", self._info_cb, 5)
        self.static_tf: dict[str, Any] = {}
        self.node.create_subscription(TFMessage, "/tf_static", self._static_cb, latched)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:
            pass

    def _image_cb(self, topic: str) -> Callable[[Any], None]:
        def cb(msg: Any) -> None:
            with self._lock:
                self.images[topic].append(ReceivedImage(msg, time.monotonic()))
                self.counts[topic] += 1
                self._lock.notify_all()
        return cb

    def _info_cb(self, msg: Any) -> None:
        with self._lock:
            self.camera_info = msg
            self._lock.notify_all()

    def _static_cb(self, msg: Any) -> None:
        with self._lock:
            for t in msg.transforms:
                self.static_tf[t.child_frame_id] = t
            self._lock.notify_all()

    def close(self) -> None:
        import rclpy
        self.executor.shutdown(timeout_sec=5)
        self._spinner.join(5)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    # -- waiting ----------------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._lock.wait(min(left, 0.2))

    def wait_subscribers(self, pub: Any, timeout: float = DISCOVERY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while pub.get_subscription_count() == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"no subscriber on {pub.topic_name} within {timeout} s")
            time.sleep(0.05)

    def image_after(self, t: float, topic: str = "/vuer/image", timeout: float = 20.0,
                    min_stamp_ns: int = 0) -> ReceivedImage:
        """The first image received after monotonic time ``t`` (and stamped at or after
        ``min_stamp_ns``)."""
        def find() -> ReceivedImage | None:
            for im in self.images[topic]:
                if im.received > t and im.stamp_ns >= min_stamp_ns:
                    return im
            return None
        return self.wait_for(find, timeout, f"an image on {topic} after t={t:.2f}")

    def wait_image(self, predicate: Callable[[ReceivedImage], Any], timeout: float = 20.0,
                   topic: str = "/vuer/image", after: float | None = None, what: str = "") -> Any:
        """Wait for an image (received after ``after``) for which ``predicate`` is truthy;
        returns (image, predicate value)."""
        after = time.monotonic() if after is None else after
        seen: set[int] = set()

        def find() -> Any:
            for im in list(self.images[topic]):
                if im.received <= after or id(im) in seen:
                    continue
                seen.add(id(im))
                v = predicate(im)
                if v is None or (isinstance(v, (bool, np.bool_)) and not v):
                    continue
                return (im, v)
            return None
        return self.wait_for(find, timeout, what or f"an image on {topic} that matches")

    def latest(self, topic: str = "/vuer/image") -> ReceivedImage | None:
        with self._lock:
            return self.images[topic][-1] if self.images[topic] else None

    # -- camera model as the node publishes it ------------------------------------------------------
    def camera(self, optical_frame: str = "vuer_camera_optical", fixed_frame: str = "map",
               timeout: float = 30.0) -> "PinholeCamera":
        self.wait_for(lambda: self.camera_info is not None and optical_frame in self.static_tf,
                      timeout, "camera_info and the camera's /tf_static")
        t = self.static_tf[optical_frame]
        assert t.header.frame_id == fixed_frame, t.header.frame_id
        tr, q = t.transform.translation, t.transform.rotation
        return PinholeCamera(np.array(self.camera_info.k).reshape(3, 3),
                             np.array([tr.x, tr.y, tr.z]), np.array([q.x, q.y, q.z, q.w]),
                             self.camera_info.width, self.camera_info.height)

    # -- publishing -----------------------------------------------------------------------------------
    def publish_tf(self, *transforms: Any, static: bool = False) -> None:
        from tf2_msgs.msg import TFMessage
        (self.tf_static_pub if static else self.tf_pub).publish(TFMessage(transforms=list(transforms)))

    def now(self) -> Any:
        return self.node.get_clock().now().to_msg()


def set_param(client: RosClient, name: str, value: Any, timeout: float = 30.0) -> Any:
    """``ros2 param set /vuer_viewer <name> <value>``: the SetParameters result."""
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter
    cli = client.node.create_client(SetParameters, "/vuer_viewer/set_parameters")
    try:
        if not cli.wait_for_service(timeout_sec=timeout):
            raise AssertionError(f"/vuer_viewer/set_parameters did not appear within {timeout} s")
        req = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        future = cli.call_async(req)
        client.wait_for(future.done, timeout, f"an answer to setting {name}")
        return future.result().results[0]
    finally:
        client.node.destroy_client(cli)


class PinholeCamera:
    """K from camera_info, pose of the optical frame from TF: world point -> pixel."""

    def __init__(self, K: np.ndarray, position: np.ndarray, quaternion: np.ndarray,
                 width: int, height: int) -> None:
        self.K, self.position, self.width, self.height = K, position, width, height
        x, y, z, w = quaternion / np.linalg.norm(quaternion)
        self.R = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])

    def to_optical(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, float).reshape(-1, 3) - self.position) @ self.R

    def project(self, points: np.ndarray) -> np.ndarray:
        p = self.to_optical(points)
        uv = p @ self.K.T
        return uv[:, :2] / uv[:, 2:3]

    def depth_of(self, point: Sequence[float]) -> float:
        return float(self.to_optical(np.asarray(point))[0, 2])

    @property
    def focal(self) -> float:
        return float(self.K[0, 0])


# -- silhouettes: what the pinhole model says an object covers ---------------------------------------
def hull_mask(camera: PinholeCamera, parts: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask of the union of the convex hulls of each part's projected
    surface points (each part must be convex)."""
    import cv2
    mask = np.zeros((camera.height, camera.width), np.uint8)
    for pts in parts:
        uv = camera.project(pts)
        hull = cv2.convexHull((uv * 16).round().astype(np.int32))
        # pixel (u, v) centres sit at integers in ROS/OpenCV: fill with 4 fractional bits
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def centroid(mask: np.ndarray) -> tuple[float, float]:
    v, u = np.nonzero(mask)
    if len(u) == 0:
        return (math.nan, math.nan)
    return float(u.mean()), float(v.mean())


def colour_mask(rgb: np.ndarray, colour: Sequence[float], min_value: int = 30) -> np.ndarray:
    """Pixels whose hue matches a saturated marker colour (each channel 0 or 1, or 0.5):
    lighting scales a colour, so compare channel ratios, not values."""
    img = rgb.astype(np.float32)
    mx = img.max(axis=2)
    ok = mx >= min_value
    for c, want in enumerate(colour[:3]):
        ratio = img[..., c] / np.maximum(mx, 1.0)
        if want >= 0.99:
            ok &= ratio > 0.8
        elif want <= 0.01:
            ok &= ratio < 0.3
        else:
            ok &= np.abs(ratio - want) < 0.2
    return ok


# -- surface samples of the rviz shapes (in the marker's frame, before its pose) ---------------------
def box_points(size: Sequence[float]) -> np.ndarray:
    sx, sy, sz = (s / 2.0 for s in size)
    return np.array([[x, y, z] for x in (-sx, sx) for y in (-sy, sy) for z in (-sz, sz)])


def ellipsoid_points(diameters: Sequence[float], n: int = 40) -> np.ndarray:
    th, ph = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, 2 * n))
    pts = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
    return pts * (np.asarray(diameters) / 2.0)


def cylinder_points(diameters: Sequence[float], height: float, n: int = 64) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([np.cos(a) * diameters[0] / 2, np.sin(a) * diameters[1] / 2], -1)
    top = np.hstack([ring, np.full((n, 1), height / 2)])
    return np.vstack([top, top * [1, 1, -1]])


def cone_points(diameter: float, base: Sequence[float], tip: Sequence[float], n: int = 64) -> np.ndarray:
    """A cone (or a cylinder when ``tip`` is a disc centre) along base->tip."""
    base, tip = np.asarray(base, float), np.asarray(tip, float)
    axis = tip - base
    axis /= np.linalg.norm(axis)
    u = np.cross(axis, [0, 0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0, 0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    ring = base + diameter / 2 * (np.cos(a) * u + np.sin(a) * v)
    return np.vstack([ring, tip[None]])


def transform_points(points: np.ndarray, position: Sequence[float],
                     quaternion: Sequence[float] = (0, 0, 0, 1)) -> np.ndarray:
    x, y, z, w = np.asarray(quaternion, float) / np.linalg.norm(quaternion)
    R = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return np.asarray(points, float).reshape(-1, 3) @ R.T + np.asarray(position, float)


# -- playing a bag into the node ---------------------------------------------------------------
def play_bag(client: RosClient, bag: Path) -> int:
    """Play ``bag`` into the node at bag rate, as ``ros2 bag play --clock`` does: each
    message preceded by /clock at its bag time. Waits first for the node's first image
    (its renderer is up: with use_sim_time and no /clock it is stamped 0) and after for
    an image of the last instant (the clock rests there). Returns that bag time (ns)."""
    from builtin_interfaces.msg import Time
    from rclpy.serialization import deserialize_message
    from rosbags.highlevel import AnyReader
    from rosgraph_msgs.msg import Clock

    from vuer_ros.ros.messages import message_class
    from vuer_ros.view.kinds import AUTO

    with AnyReader([bag]) as reader:
        types = {c.topic: message_class(c.msgtype) for c in reader.connections}
        shown = {c.topic for c in reader.connections if c.msgtype in AUTO}
        plays = [(t, c.topic, deserialize_message(raw, types[c.topic]))
                 for c, t, raw in reader.messages()]
    clock = client.node.create_publisher(Clock, "/clock", 10)
    pubs = {"/tf": client.tf_pub, "/tf_static": client.tf_static_pub,
            "/visualization_marker": client.marker_pub}
    for topic, cls in types.items():
        if topic not in pubs:
            pubs[topic] = client.node.create_publisher(cls, topic, 10)
    for topic, pub in [("/clock", clock), *pubs.items()]:
        if topic in ("/clock", "/tf", "/tf_static") or topic in shown:   # the node reads them
            client.wait_subscribers(pub)
    client.wait_image(lambda im: True, timeout=90.0, after=0.0)
    wall0, t0 = time.monotonic(), plays[0][0]
    for t, topic, msg in plays:
        time.sleep(max(0.0, wall0 + (t - t0) / 1e9 - time.monotonic()))
        clock.publish(Clock(clock=Time(sec=t // 10**9, nanosec=t % 10**9)))
        pubs[topic].publish(msg)
    last_t = plays[-1][0]
    client.wait_image(lambda im: im.stamp_ns >= last_t, timeout=30.0, after=0.0)
    return last_t


# -- rclpy message builders ---------------------------------------------------------------------------
def tf(parent: str, child: str, xyz: Sequence[float] = (0, 0, 0),
       q: Sequence[float] = (0, 0, 0, 1), stamp: Any = None) -> Any:
    from geometry_msgs.msg import TransformStamped
    t = TransformStamped()
    if stamp is not None:
        t.header.stamp = stamp
    t.header.frame_id = parent
    t.child_frame_id = child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = \
        (float(v) for v in xyz)
    r = t.transform.rotation
    r.x, r.y, r.z, r.w = (float(v) for v in q)
    return t


def marker(ns: str, id: int, type: int, frame: str = "map", xyz: Sequence[float] = (0, 0, 0),
           q: Sequence[float] = (0, 0, 0, 1), scale: Sequence[float] = (1, 1, 1),
           rgba: Sequence[float] = (1, 0, 0, 1), points: Sequence[Sequence[float]] = (),
           colors: Sequence[Sequence[float]] = (), text: str = "", action: int = 0,
           frame_locked: bool = False, lifetime: float = 0.0, mesh_resource: str = "",
           stamp: Any = None) -> Any:
    from geometry_msgs.msg import Point
    from std_msgs.msg import ColorRGBA
    from visualization_msgs.msg import Marker
    m = Marker()
    if stamp is not None:
        m.header.stamp = stamp
    m.header.frame_id = frame
    m.ns, m.id, m.type, m.action = ns, int(id), int(type), int(action)
    p, o = m.pose.position, m.pose.orientation
    p.x, p.y, p.z = (float(v) for v in xyz)
    o.x, o.y, o.z, o.w = (float(v) for v in q)
    m.scale.x, m.scale.y, m.scale.z = (float(v) for v in scale)
    m.color.r, m.color.g, m.color.b, m.color.a = (float(v) for v in rgba)
    m.points = [Point(x=float(a), y=float(b), z=float(c)) for a, b, c in points]
    m.colors = [ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a)) for r, g, b, a in colors]
    m.text = text
    m.frame_locked = frame_locked
    m.lifetime.sec = int(lifetime)
    m.lifetime.nanosec = int(round((lifetime % 1.0) * 1e9))
    m.mesh_resource = mesh_resource
    return m


def binary_stl(path: Path, size: float = 1.0) -> Path:
    """A cube of edge ``size`` centred on the origin, as binary STL."""
    import struct
    h = size / 2.0
    v = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = []
    for a, b, c, d in quads:
        tris += [(a, b, c), (a, c, d)]
    data = bytearray(b"vuer_ros test cube".ljust(80, b" "))
    data += struct.pack("<I", len(tris))
    for t in tris:
        a, b, c = (np.array(v[i]) for i in t)
        n = np.cross(b - a, c - a)
        n /= np.linalg.norm(n)
        if np.dot(n, a + b + c) < 0:   # outward, counter-clockwise seen from outside
            t, n = (t[0], t[2], t[1]), -n
        data += struct.pack("<3f", *n)
        for i in t:
            data += struct.pack("<3f", *v[i])
        data += b"\x00\x00"
    path.write_bytes(bytes(data))
    return path


# -- the node under test ------------------------------------------------------------------
# The camera every geometry test looks through: oblique, so the full pinhole model matters.
CAMERA_PARAMS: dict[str, Any] = {
    "render.width": 400, "render.height": 300, "render.fov": 50.0,
    "render.eye": [1.0, -2.0, 4.0], "render.target": [0.0, 0.0, 0.0],
}
# The TF display's axes are red, green and blue, as the tests' markers: off unless a
# test is about it (TF_DISPLAY_ON).
NO_TF_DISPLAY: dict[str, Any] = {"displays.tf.enabled": False}
TF_DISPLAY_ON: dict[str, Any] = {"displays.tf.enabled": True}


class NodeUnderTest:
    def __init__(self, viewer: ViewerProcess, client: RosClient, env: dict[str, str],
                 mesh_dir: Path) -> None:
        self.viewer, self.client, self.env, self.mesh_dir = viewer, client, env, mesh_dir


def start_node(tmp: Path, params: dict[str, Any] | None = None,
               image_topics: tuple[str, ...] = ("/vuer/image",)) -> NodeUnderTest:
    """A viewer with the geometry camera, a uniform background (no grid, no TF display
    unless ``params`` turn it on) and a mesh root holding a 1 m STL cube; a fake ament
    package ``vuer_test_meshes`` too."""
    mesh_dir = tmp / "meshes"
    mesh_dir.mkdir(parents=True, exist_ok=True)
    binary_stl(mesh_dir / "cube.stl")
    prefix = tmp / "prefix"
    share = prefix / "share"
    (share / "ament_index" / "resource_index" / "packages").mkdir(parents=True, exist_ok=True)
    (share / "ament_index" / "resource_index" / "packages" / "vuer_test_meshes").write_text("")
    (share / "vuer_test_meshes" / "meshes").mkdir(parents=True, exist_ok=True)
    binary_stl(share / "vuer_test_meshes" / "meshes" / "cube.stl")
    domain = random.randint(1, 101)
    env = ros_env(tmp / "ros_log", domain)
    env["AMENT_PREFIX_PATH"] = str(prefix) + os.pathsep + env["AMENT_PREFIX_PATH"]
    all_params: dict[str, Any] = {"port": 0, "grid": False, "fixed_frame": "map",
                                  "render.rate": 10.0, "mesh_roots": [str(mesh_dir)],
                                  **CAMERA_PARAMS, **NO_TF_DISPLAY, **(params or {})}
    viewer = ViewerProcess(env, all_params)
    try:
        viewer.wait_started()
        client = RosClient(domain, image_topics=image_topics)
    except BaseException:
        viewer.stop()
        raise
    return NodeUnderTest(viewer, client, env, mesh_dir)


def stop_node(node: NodeUnderTest) -> None:
    children = node.viewer.children()
    node.client.close()
    rc = node.viewer.stop()
    assert rc == 0, f"viewer exit code {rc}; log tail:\n{node.viewer.tail()}"
    left = [pid for pid in children if process_alive(pid)]
    assert not left, f"processes left behind by the viewer: {left}"
