"""``vuer-ros demo``: the viewer node plus the demo robot, in one process.

:class:`DemoPublisher` turns :class:`vuer_ros.demo.DemoRobot`'s plain data into
ROS messages: /tf_static once (transient local), /tf at 30 Hz, the markers
as one MarkerArray on /visualization_marker_array every second (as robots
re-publish them). :func:`run_demo` spins it with a :class:`ViewerNode`
(headless renderer, images always rendered) and prints the URL and the
achieved image rate every two seconds.
"""

from __future__ import annotations

import time
from typing import Sequence

import rclpy
from geometry_msgs.msg import Point, TransformStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import ColorRGBA
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from ..demo.robot import DemoMarker, DemoRobot, FrameTransform
from .lifecycle import RosProgram
from .viewer_node import ViewerNode

STATIC_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.TRANSIENT_LOCAL)


def transform_msg(ft: FrameTransform, stamp: object) -> TransformStamped:
    t = TransformStamped()
    t.header.stamp = stamp
    t.header.frame_id = ft.parent
    t.child_frame_id = ft.child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = ft.translation
    r = t.transform.rotation
    r.x, r.y, r.z, r.w = ft.rotation
    return t


def marker_msg(dm: DemoMarker, stamp: object) -> Marker:
    m = Marker()
    m.header.stamp = stamp
    m.header.frame_id = dm.frame_id
    m.ns, m.id, m.type, m.action = dm.ns, dm.id, dm.type, dm.action
    p, o = m.pose.position, m.pose.orientation
    p.x, p.y, p.z = dm.position
    o.x, o.y, o.z, o.w = dm.orientation
    m.scale.x, m.scale.y, m.scale.z = dm.scale
    m.color.r, m.color.g, m.color.b, m.color.a = dm.color
    m.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in dm.points]
    m.colors = [ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a)) for r, g, b, a in dm.colors]
    m.text = dm.text
    m.frame_locked = dm.frame_locked
    m.lifetime.sec = int(dm.lifetime_s)
    m.lifetime.nanosec = int((dm.lifetime_s % 1.0) * 1e9)
    return m


class DemoPublisher(Node):
    """Publishes the demo robot on /tf, /tf_static and /visualization_marker_array."""

    def __init__(self, robot: DemoRobot | None = None, tf_rate: float = 30.0,
                 marker_period: float = 1.0) -> None:
        super().__init__("vuer_demo_robot")
        self.robot = robot or DemoRobot()
        self.t0 = time.monotonic()
        self.tf_pub = self.create_publisher(TFMessage, "/tf", 100)
        self.static_pub = self.create_publisher(TFMessage, "/tf_static", STATIC_QOS)
        self.marker_pub = self.create_publisher(MarkerArray, "/visualization_marker_array", 10)
        stamp = self.get_clock().now().to_msg()
        self.static_pub.publish(TFMessage(transforms=[
            transform_msg(ft, stamp) for ft in self.robot.static_transforms()]))
        self.create_timer(1.0 / tf_rate, self._publish_tf)
        self.create_timer(marker_period, self._publish_markers)
        self._publish_tf()
        self._publish_markers()

    def _publish_tf(self) -> None:
        stamp = self.get_clock().now().to_msg()
        t = time.monotonic() - self.t0
        self.tf_pub.publish(TFMessage(transforms=[
            transform_msg(ft, stamp) for ft in self.robot.transforms(t)]))

    def _publish_markers(self) -> None:
        stamp = self.get_clock().now().to_msg()
        t = time.monotonic() - self.t0
        self.marker_pub.publish(MarkerArray(markers=[
            marker_msg(dm, stamp) for dm in self.robot.markers(t)]))


def run_demo(duration: float | None = None, port: int = 8012, host: str = "127.0.0.1",
             rate: float = 10.0, width: int = 640, height: int = 480, headless: bool = True,
             depth: bool = False, ros_args: Sequence[str] = ()) -> int:
    """Run the demo until Ctrl-C, SIGTERM or ``duration`` seconds; the exit code."""
    robot = DemoRobot()
    overrides = [f"port:={port}", f"host:={host}", f"fixed_frame:={robot.fixed_frame}",
                 f"render.rate:={float(rate)}", f"render.width:={width}", f"render.height:={height}",
                 f"render.headless:={'true' if headless else 'false'}",
                 f"render.depth:={'true' if depth else 'false'}", "render.lazy:=false",
                 "render.eye:=[3.2,-3.2,2.6]", "render.target:=[0.0,0.0,0.3]"]
    args = ["vuer-ros-demo", "--ros-args"]
    for o in overrides:
        args += ["-p", o]
    extra = list(ros_args)
    if extra and extra[0] != "--ros-args":
        extra = ["--ros-args", *extra]
    program = RosProgram("vuer-ros demo")
    viewer: ViewerNode | None = None
    demo: DemoPublisher | None = None
    executor: SingleThreadedExecutor | None = None
    code = 0
    started = time.monotonic()
    try:
        program.init(args + extra)
        executor = SingleThreadedExecutor()
        viewer = ViewerNode()
        demo = DemoPublisher(robot)
        executor.add_node(viewer)
        executor.add_node(demo)
        print(f"vuer-ros demo: open {viewer.view.open_url} in a browser; images on "
              f"/vuer/image, /vuer/image/compressed, /vuer/camera_info "
              f"({width}x{height} at {rate:g} Hz)" + ("" if headless else
                                                      "; rendered by the browser you open"),
              flush=True)
        next_report = time.monotonic() + 2.0
        while rclpy.ok():
            now = time.monotonic()
            if duration is not None and now - started >= duration:
                break
            executor.spin_once(timeout_sec=0.1)
            if now >= next_report:
                next_report = now + 2.0
                stats = viewer.view.stats
                print(f"vuer-ros demo: {stats.rate():.1f} images/s (target {rate:g} Hz), "
                      f"{stats.published} published, {stats.grab_failures} failed grabs",
                      flush=True)
    except BaseException as e:
        code = program.exit_code(e)
    finally:
        elapsed = time.monotonic() - started
        if viewer is not None:
            published = viewer.view.stats.published
            viewer.shutdown()
            print(f"vuer-ros demo: stopped after {elapsed:.1f} s; {published} images published "
                  f"({published / max(elapsed, 1e-9):.1f}/s on average, renderer start included)",
                  flush=True)
        for node in (demo, viewer):
            if node is not None:
                if executor is not None:
                    executor.remove_node(node)
                node.destroy_node()
        if executor is not None:
            executor.shutdown()
        program.close()
    return code
