"""The ROS edge's message helpers (vuer_ros/ros/messages.py): every message kind's
fast decoder reads the installed (rclpy) layout, and a message built from the
core's field values is the same message whether rclpy (live) or rosbags
(offline) builds it: the bytes rosbags writes read back (through rclpy) as the
message rclpy built, field for field (bytes are not compared: Fast CDR leaves
its alignment padding uninitialised)."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import deserialize_message

from vuer_ros.bag.outputs import to_rosbags
from vuer_ros.cdr import jazzy_store
from vuer_ros.render.camera import RenderCamera
from vuer_ros.ros.messages import layout_matches, message_class, to_rclpy
from vuer_ros.view.image_fields import Wants, camera_tf_fields, image_fields
from vuer_ros.view.kinds import KINDS


@pytest.mark.parametrize("kind", [k for k in KINDS.values() if k.fast is not None],
                         ids=lambda k: k.name)
def test_each_fast_decoder_reads_the_installed_layout(kind):
    assert kind.layout is not None
    assert layout_matches(kind.msgtype, kind.layout)
    assert not layout_matches(kind.msgtype, {"nothing": "string"})


def test_rclpy_and_rosbags_build_the_same_message_from_the_core_s_fields():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
    depth = rng.uniform(0.1, 9.0, (6, 10)).astype(np.float32)
    depth[0, 0] = np.inf
    camera = RenderCamera.look_at((1.0, -2.0, 3.0), (0.0, 0.0, 0.0), width=10, height=6, fov_y=50.0)
    stamp = 1_700_000_123_456_789_012
    messages = image_fields(rgb, depth, camera, stamp, "cam_optical", 80, Wants())
    messages["tf"] = camera_tf_fields(stamp, "map", "cam_optical", (1.0, 2.0, 3.0),
                                      (0.0, 0.0, 0.6, 0.8))
    assert set(messages) == {"vuer/image", "vuer/image/compressed", "vuer/camera_info",
                             "vuer/depth", "tf"}
    store = jazzy_store()
    for topic, fields in messages.items():
        ros = to_rclpy(fields)
        cls = message_class(fields.type)
        assert isinstance(ros, cls)
        offline = bytes(store.serialize_cdr(to_rosbags(store, fields), fields.type))
        assert deserialize_message(offline, cls) == ros, topic
    image = to_rclpy(messages["vuer/image"])
    assert (image.height, image.width, image.encoding, image.step) == (6, 10, "rgb8", 30)
    assert np.array_equal(np.frombuffer(bytes(image.data), np.uint8).reshape(6, 10, 3), rgb)
    assert (image.header.stamp.sec, image.header.stamp.nanosec) == (1_700_000_123, 456_789_012)
    info = to_rclpy(messages["vuer/camera_info"])
    assert np.allclose(np.reshape(info.k, (3, 3)), camera.K)
