"""The ROS 2 environment itself: the locally generated tf2_msgs and Fast DDS.

Two separate processes (a talker and a listener, each its own rclpy context)
exchange tf2_msgs/TFMessage over DDS on a random domain, localhost only. Sync
is by discovery (the talker waits for a matched subscription), never by fixed
sleeps. Also checks the generated type's RIHS01 hash against the released
Jazzy definition (rosbags' typestore), so /tf interoperates with a real ROS.
"""
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time

import pytest

TIMEOUT = 45.0  # generous: discovery usually matches in 0.1 s, sometimes ~3 s

CHILD = r'''
import json, sys, threading, time
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from geometry_msgs.msg import TransformStamped
from tf2_msgs.msg import TFMessage

mode, topic, latched, budget = sys.argv[1], sys.argv[2], sys.argv[3] == "latched", float(sys.argv[4])
deadline = time.monotonic() + budget
qos = QoSProfile(
    depth=100 if not latched else 1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
)


def out(**kw):
    print(json.dumps(kw), flush=True)


def transform(parent, child, sec, nanosec, xyz, q):
    t = TransformStamped()
    t.header.frame_id = parent
    t.header.stamp.sec = sec
    t.header.stamp.nanosec = nanosec
    t.child_frame_id = child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = xyz
    r = t.transform.rotation
    r.x, r.y, r.z, r.w = q
    return t


rclpy.init()
node = rclpy.create_node("vuer_ros_env_" + mode)
rc = 0
try:
    if mode == "talk":
        pub = node.create_publisher(TFMessage, topic, qos)
        msg = TFMessage(transforms=[
            transform("base_link", "tool0", 1700000000, 123456789,
                      (1.5, -2.25, 0.125), (0.0, 0.0, 0.3826834323650898, 0.9238795325112867)),
            transform("world", "base_link", 1700000000, 5, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)),
        ])
        infos = node.get_publishers_info_by_topic(topic)
        out(event="type", hash=str(infos[0].topic_type_hash), name=infos[0].topic_type)
        if latched:
            pub.publish(msg)  # once, before any subscriber exists
            out(event="published")
        # Run until the test closes our stdin (after its listener got a message).
        stop = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        while not stop.is_set():
            if time.monotonic() > deadline:
                out(event="timeout")
                rc = 3
                break
            if not latched and pub.get_subscription_count() > 0:
                pub.publish(msg)  # only once discovery has matched a subscriber
            rclpy.spin_once(node, timeout_sec=0.05)
        else:
            out(event="done")
    else:
        got = []
        node.create_subscription(TFMessage, topic, got.append, qos)
        out(event="ready")
        while not got and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.05)
        if not got:
            out(event="timeout")
            rc = 2
        else:
            m = got[0]
            out(event="received",
                type=type(m).__module__ + "." + type(m).__name__,
                transforms=[{
                    "frame_id": t.header.frame_id,
                    "stamp": [t.header.stamp.sec, t.header.stamp.nanosec],
                    "child_frame_id": t.child_frame_id,
                    "translation": [t.transform.translation.x, t.transform.translation.y,
                                    t.transform.translation.z],
                    "rotation": [t.transform.rotation.x, t.transform.rotation.y,
                                 t.transform.rotation.z, t.transform.rotation.w],
                } for t in m.transforms])
finally:
    node.destroy_node()
    rclpy.try_shutdown()
sys.exit(rc)
'''


class Child:
    """A child process speaking JSON lines on stdout; stderr is kept for failures."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, False), daemon=True).start()

    def _pump(self, stream, is_stdout):
        for line in stream:
            if not is_stdout:
                self.stderr.append(line)
                continue
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.stderr.append("stdout: " + line)
        if is_stdout:
            self.events.put(None)  # EOF

    def expect(self, event, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while True:
            try:
                ev = self.events.get(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                ev = "timeout"
            if ev is None or ev == "timeout":
                self.kill()
                pytest.fail("no %r event from child (%s); exit=%s stderr:\n%s" % (
                    event, "EOF" if ev is None else "timed out", self.proc.poll(),
                    "".join(self.stderr)[-4000:]))
            if ev.get("event") == event:
                return ev
            if ev.get("event") == "timeout":
                self.kill()
                pytest.fail("child gave up waiting: %r; stderr:\n%s" % (ev, "".join(self.stderr)[-4000:]))

    def close_stdin(self):
        self.proc.stdin.close()

    def wait_ok(self, timeout=TIMEOUT):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("child did not exit; stderr:\n" + "".join(self.stderr)[-4000:])
        assert rc == 0, "child exit %s; stderr:\n%s" % (rc, "".join(self.stderr)[-4000:])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def ros_env(tmp_path):
    env = dict(os.environ)
    prefix = sys.prefix  # the venv: ament index of the wheels and of tf2_msgs
    ament = env.get("AMENT_PREFIX_PATH", "")
    if prefix not in ament.split(os.pathsep):
        env["AMENT_PREFIX_PATH"] = prefix + (os.pathsep + ament if ament else "")
    env["ROS_DOMAIN_ID"] = str(random.randint(1, 101))
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    env["ROS_LOG_DIR"] = str(tmp_path / "ros_log")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def children():
    started = []
    yield started
    for c in started:
        c.kill()


def _expected_hash():
    from rosbags.typesys import Stores, get_typestore
    return get_typestore(Stores.ROS2_JAZZY).hash_rihs01("tf2_msgs/msg/TFMessage")


def _check_received(ev):
    assert ev["type"] == "tf2_msgs.msg._tf_message.TFMessage"
    t0, t1 = ev["transforms"]
    assert t0["frame_id"] == "base_link"
    assert t0["child_frame_id"] == "tool0"
    assert t0["stamp"] == [1700000000, 123456789]
    assert t0["translation"] == [1.5, -2.25, 0.125]
    assert t0["rotation"] == [0.0, 0.0, 0.3826834323650898, 0.9238795325112867]
    assert (t1["frame_id"], t1["child_frame_id"], t1["stamp"]) == ("world", "base_link",
                                                                   [1700000000, 5])


@pytest.mark.timeout(120)
def test_tf_across_processes(ros_env, children):
    """/tf (volatile, reliable, as tf2_ros): talker -> listener in another process."""
    topic = "/tf"
    listener = Child(["listen", topic, "volatile", str(TIMEOUT)], ros_env)
    children.append(listener)
    listener.expect("ready")
    talker = Child(["talk", topic, "volatile", str(TIMEOUT)], ros_env)
    children.append(talker)

    ty = talker.expect("type")
    assert ty["name"] == "tf2_msgs/msg/TFMessage"
    assert ty["hash"] == _expected_hash()

    _check_received(listener.expect("received"))
    listener.wait_ok()
    talker.close_stdin()
    talker.expect("done")
    talker.wait_ok()


@pytest.mark.timeout(120)
def test_tf_static_late_joiner(ros_env, children):
    """/tf_static (transient local): published once, received by a later subscriber."""
    topic = "/tf_static"
    talker = Child(["talk", topic, "latched", str(TIMEOUT)], ros_env)
    children.append(talker)
    talker.expect("published")
    listener = Child(["listen", topic, "latched", str(TIMEOUT)], ros_env)
    children.append(listener)

    _check_received(listener.expect("received"))
    listener.wait_ok()
    talker.close_stdin()
    talker.expect("done")
    talker.wait_ok()
