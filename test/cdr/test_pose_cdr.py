"""The Path and PoseArray decoders (vuer_ros/cdr/poses.py) read what rclpy (Fast CDR,
little-endian) and rosbags (big- and little-endian) serialize: every pose, the header;
frame ids of one length (one strided view) or of many; truncated bytes are refused."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pose_msgs import PoseMsgs
from rclpy.serialization import serialize_message

from vuer_ros.cdr import CdrError, jazzy_store
from vuer_ros.cdr.poses import decode_path, decode_pose_array
from vuer_ros.ros.messages import message_class

RCLPY = PoseMsgs(message_class)
STORE = jazzy_store()
ROSBAGS = PoseMsgs(lambda name: STORE.types[name])


def random_poses(rng: random.Random, n: int) -> list[tuple[tuple, tuple]]:
    return [(tuple(rng.uniform(-1e4, 1e4) for _ in range(3)), tuple(rng.uniform(-1, 1) for _ in range(4)))
            for _ in range(n)]


def rows(poses) -> np.ndarray:
    return np.array([[*p, *q] for p, q in poses]).reshape(-1, 7)


def encodings(kind: str, build):
    """(label, bytes) of one message as rclpy and rosbags (both byte orders) serialize it."""
    yield "rclpy", bytes(serialize_message(build(RCLPY)))
    for little in (True, False):
        yield f"rosbags-{'le' if little else 'be'}", bytes(
            STORE.serialize_cdr(build(ROSBAGS), kind, little_endian=little))


@pytest.mark.parametrize("seed", range(6))
def test_path_poses_and_header_round_trip(seed):
    rng = random.Random(seed)
    poses = random_poses(rng, rng.choice([0, 1, 2, 7, 300]))
    frame = rng.choice(["", "map", "odd frame:#ü"])
    # one frame id for every pose (the strided view), or each its own (element by element)
    mixed = seed % 2 == 1
    names = [rng.choice(["a", "map", "", "base_link"]) if mixed else frame for _ in poses]

    def build(m):
        path = m.path(frame, poses, ns=1_700_000_000_123_456_789)
        for ps, name in zip(path.poses, names):
            ps.header.frame_id = name
        return path
    for label, raw in encodings("nav_msgs/msg/Path", build):
        msg = decode_path(raw)
        assert msg.header.frame_id == frame and msg.header.stamp.sec == 1_700_000_000, label
        assert msg.header.stamp.nanosec == 123_456_789, label
        np.testing.assert_array_equal(msg.poses, rows(poses), err_msg=label)


@pytest.mark.parametrize("seed", range(4))
def test_pose_array_round_trips(seed):
    rng = random.Random(seed)
    poses = random_poses(rng, rng.choice([0, 1, 5, 1000]))
    for label, raw in encodings("geometry_msgs/msg/PoseArray", lambda m: m.pose_array("odom", poses, ns=5)):
        msg = decode_pose_array(raw)
        assert msg.header.frame_id == "odom" and msg.header.stamp.nanosec == 5, label
        np.testing.assert_array_equal(msg.poses, rows(poses), err_msg=label)


def test_truncated_and_lying_bytes_are_refused():
    poses = random_poses(random.Random(1), 5)
    for decode, raw in ((decode_path, bytes(serialize_message(RCLPY.path("map", poses)))),
                        (decode_pose_array, bytes(serialize_message(RCLPY.pose_array("map", poses))))):
        for cut in (3, 10, 20, len(raw) // 2, len(raw) - 1):
            with pytest.raises(CdrError):
                decode(raw[:cut])
        count_at = 16 + 4   # after the header of "map\0": stamp, length, 4 bytes
        with pytest.raises(CdrError, match="claims"):
            decode(raw[:count_at] + (10**6).to_bytes(4, "little") + raw[count_at + 4:])
