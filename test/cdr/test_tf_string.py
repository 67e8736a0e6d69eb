"""The TFMessage and String decoders (vuer_ros/cdr/tf.py, string.py) read what
rclpy (Fast CDR, little-endian) and rosbags (big- and little-endian) serialize,
field by field, and refuse truncated bytes with CdrError."""

from __future__ import annotations

import random

import pytest
from geometry_msgs.msg import TransformStamped
from rclpy.serialization import serialize_message
from std_msgs.msg import String
from tf2_msgs.msg import TFMessage

from vuer_ros.cdr import CdrError, UnsupportedEncoding, decode_string, decode_tf, jazzy_store


def random_tf(rng: random.Random, n: int) -> TFMessage:
    out = []
    for _ in range(n):
        t = TransformStamped()
        t.header.frame_id = rng.choice(["", "map", "/odom", "odd frame:#ü/1", "x" * rng.randrange(9)])
        t.child_frame_id = rng.choice(["base_link", "a", "ü" * rng.randrange(5)])
        t.header.stamp.sec = rng.randrange(-2**31, 2**31)
        t.header.stamp.nanosec = rng.randrange(0, 10**9)
        tr, q = t.transform.translation, t.transform.rotation
        tr.x, tr.y, tr.z = (rng.uniform(-1e6, 1e6) for _ in range(3))
        q.x, q.y, q.z, q.w = (rng.uniform(-1, 1) for _ in range(4))
        out.append(t)
    return TFMessage(transforms=out)


def fields(t) -> tuple:
    tr, q = t.transform.translation, t.transform.rotation
    return (t.header.frame_id, t.child_frame_id, t.header.stamp.sec, t.header.stamp.nanosec,
            tr.x, tr.y, tr.z, q.x, q.y, q.z, q.w)


@pytest.mark.parametrize("seed", range(5))
def test_tf_equals_rclpy_and_rosbags_round_trips(seed):
    rng = random.Random(seed)
    msg = random_tf(rng, rng.choice([0, 1, 3, 17]))
    want = [fields(t) for t in msg.transforms]
    assert [fields(t) for t in decode_tf(serialize_message(msg)).transforms] == want
    store = jazzy_store()
    T = store.types
    ros = T["tf2_msgs/msg/TFMessage"](transforms=[
        T["geometry_msgs/msg/TransformStamped"](
            header=T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](
                sec=t.header.stamp.sec, nanosec=t.header.stamp.nanosec), frame_id=t.header.frame_id),
            child_frame_id=t.child_frame_id,
            transform=T["geometry_msgs/msg/Transform"](
                translation=T["geometry_msgs/msg/Vector3"](x=t.transform.translation.x,
                                                           y=t.transform.translation.y,
                                                           z=t.transform.translation.z),
                rotation=T["geometry_msgs/msg/Quaternion"](x=t.transform.rotation.x,
                                                           y=t.transform.rotation.y,
                                                           z=t.transform.rotation.z,
                                                           w=t.transform.rotation.w)))
        for t in msg.transforms])
    for little in (True, False):
        raw = bytes(store.serialize_cdr(ros, "tf2_msgs/msg/TFMessage", little_endian=little))
        assert [fields(t) for t in decode_tf(raw).transforms] == want


def test_tf_truncated_and_foreign_bytes_are_refused():
    raw = serialize_message(random_tf(random.Random(1), 3))
    for cut in (3, 8, 20, len(raw) // 2, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_tf(raw[:cut])
    with pytest.raises(UnsupportedEncoding):
        decode_tf(b"\x00\x07\x00\x00" + raw[4:])
    with pytest.raises(CdrError, match="claims"):
        decode_tf(raw[:4] + (10**6).to_bytes(4, "little") + raw[8:])


def test_string_round_trips_and_refuses_truncation():
    text = "<robot name='ü'>" + "x" * 1000 + "</robot>"
    raw = serialize_message(String(data=text))
    assert decode_string(raw).data == text
    assert decode_string(serialize_message(String(data=""))).data == ""
    with pytest.raises(CdrError):
        decode_string(raw[:100])
