"""Placing stamped messages (stamped_display.py) as rviz's message filter does: each message
in the fixed frame by TF at its header stamp (interpolated), waiting for TF that has not
come yet, given up after the timeout with one log line, refused without a frame id; the
last N kept in slots (a message that only moved is one pose UPDATE); a new fixed frame
clears. Through the kinds' real attach, with the events applied to a SceneTree."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from pose_msgs import PoseMsgs, yaw
from scene_msgs import TS, Browser, S, tf, tf_msg
from test_scene_model import assert_browser_matches_model

from vuer_ros.scene import SceneModel
from vuer_ros.scene.stamped_display import FILTER_SIZE
from vuer_ros.view.kinds import KINDS

M = PoseMsgs(lambda name: TS.types[name])
TIMEOUT_NS = 5 * S


@pytest.fixture
def scene():
    """map -> odom moving along +X at 1 m/s between 1 s and 3 s, synced with a browser."""
    model = SceneModel("map", marker_tf_timeout_ns=TIMEOUT_NS)
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1.0, 0.0, 0.0), ns=1 * S)))
    model.on_tf(tf_msg(tf("map", "odom", (3.0, 0.0, 0.0), ns=3 * S)))
    b.sync()
    return model, b


def attach(model, kind, topic, **options):
    return KINDS[kind].attach(model, topic, options)


def pose_of(b, key):
    node = b.node(key)
    assert node is not None, key
    return np.array(node["position"]), np.array(node["quaternion"])


def test_a_message_is_placed_by_tf_at_its_stamp_and_stays(scene):
    model, b = scene
    on = attach(model, "point_stamped", "/clicked")
    on(M.point_stamped("odom", (0.0, 1.0, 0.0), ns=int(1.5 * S)), 2 * S)
    b.sync()
    assert b.parent("point:/clicked:0") == "tf:map"
    pos, _ = pose_of(b, "point:/clicked:0")
    np.testing.assert_allclose(pos, [1.5 + 0.0, 1.0, 0.0])   # odom interpolated at 1.5 s
    # odom moves on: what was drawn at its stamp stays
    model.on_tf(tf_msg(tf("map", "odom", (9.0, 0.0, 0.0), ns=4 * S)))
    b.sync()
    np.testing.assert_allclose(pose_of(b, "point:/clicked:0")[0], [1.5, 1.0, 0.0])
    # the next message is drawn where odom is at its own stamp: the same group moves
    on(M.point_stamped("odom", (0.0, 1.0, 0.0), ns=4 * S), 4 * S)
    (ev,) = b.sync()
    assert ev.etype == "UPDATE"
    np.testing.assert_allclose(pose_of(b, "point:/clicked:0")[0], [9.0, 1.0, 0.0])
    # stamp 0: the latest transform
    on(M.point_stamped("odom", (0.0, 2.0, 0.0), ns=0), 5 * S)
    b.sync()
    np.testing.assert_allclose(pose_of(b, "point:/clicked:0")[0], [9.0, 2.0, 0.0])
    assert_browser_matches_model(b)


def test_the_pose_turns_with_the_frame_at_the_stamp(scene):
    model, b = scene
    model.on_tf(tf_msg(tf("map", "turned", (0.0, 0.0, 0.0), yaw(math.pi / 2), ns=2 * S)))
    on = attach(model, "pose", "/goal")
    on(M.pose_stamped("turned", (1.0, 0.0, 0.0), yaw(math.pi / 2), ns=2 * S), 2 * S)
    b.sync()
    pos, q = pose_of(b, "pose:/goal:0")
    np.testing.assert_allclose(pos, [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(q), [0.0, 0.0, 1.0, 0.0], atol=1e-12)   # 180 deg about z


def test_a_message_waits_for_its_transform_then_is_placed(scene, caplog):
    model, b = scene
    on = attach(model, "pose", "/late")
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        on(M.pose_stamped("base", (0.0, 0.0, 0.0), ns=2 * S), 2 * S)
        model.advance(3 * S)
        b.sync()
        assert b.node("pose:/late:0") is None                       # no transform yet: waits
        model.on_tf(tf_msg(tf("map", "base", (0.0, 5.0, 0.0), ns=2 * S)))
        b.sync()
    np.testing.assert_allclose(pose_of(b, "pose:/late:0")[0], [0.0, 5.0, 0.0])
    assert "/late" not in caplog.text                                  # waiting is not a problem


def test_messages_without_a_transform_are_given_up_once_with_one_log_line(scene, caplog):
    model, b = scene
    on = attach(model, "pose", "/lost")
    good = attach(model, "point_stamped", "/fine")
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        # a 50 Hz stream in a frame nobody publishes: the filter drops the oldest (size 10)
        for i in range(400):
            t = 2 * S + i * 20_000_000
            on(M.pose_stamped("nowhere", ns=t), t)
            good(M.point_stamped("map", (0.0, 0.0, float(i)), ns=t), t)
            model.advance(t)
            b.sync()
    lines = [r.getMessage() for r in caplog.records if "/lost" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "'nowhere'" in lines[0] and "fixed frame 'map'" in lines[0] and "waited 5 s" in lines[0]
    assert b.node("pose:/lost:0") is None
    # everything else kept flowing
    np.testing.assert_allclose(pose_of(b, "point:/fine:0")[0], [0.0, 0.0, 399.0])
    assert len(on.__self__._waiting) <= FILTER_SIZE


def test_a_stamp_older_than_the_tf_history_is_given_up_at_once(scene, caplog):
    model, _ = scene
    on = attach(model, "pose", "/old")
    model.on_tf(tf_msg(tf("map", "odom", (4.0, 0.0, 0.0), ns=20 * S)))   # history: 10 s
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        on(M.pose_stamped("odom", ns=1 * S), 20 * S)
    assert [r for r in caplog.records if "/old" in r.getMessage()]
    assert not on.__self__._waiting


def test_an_empty_frame_id_is_refused_and_logged_once(scene, caplog):
    model, b = scene
    on = attach(model, "pose", "/noframe")
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        for _ in range(3):
            on(M.pose_stamped("", ns=2 * S), 2 * S)
        on(M.pose_stamped("map", (1.0, 2.0, 3.0)), 2 * S)
    lines = [r.getMessage() for r in caplog.records if "/noframe" in r.getMessage()]
    assert lines == ["/noframe: header.frame_id is empty (tf2 cannot place it); skipped"]
    b.sync()
    np.testing.assert_allclose(pose_of(b, "pose:/noframe:0")[0], [1.0, 2.0, 3.0])


def test_the_last_n_are_kept_in_slots_and_only_moved_ones_update(scene):
    model, b = scene
    on = attach(model, "point_stamped", "/trail", history_length=3)
    on(M.point_stamped("map", (0.0, 0.0, 0.0)), 2 * S)
    assert [e.etype for e in b.sync()] == ["SET"]     # a display added: the scene is sent again
    for i in (1, 2):
        on(M.point_stamped("map", (float(i), 0.0, 0.0)), 2 * S)
    events = b.sync()
    assert [e.etype for e in events] == ["UPSERT"]
    assert [n["key"] for n in events[0].data["nodes"]] == ["point:/trail:1", "point:/trail:2"]
    on(M.point_stamped("map", (3.0, 0.0, 0.0)), 2 * S)   # the oldest (slot 0) goes
    (ev,) = b.sync()
    assert ev.etype == "UPDATE" and ev.data["nodes"][0]["key"] == "point:/trail:0"
    xs = sorted(pose_of(b, f"point:/trail:{i}")[0][0] for i in range(3))
    assert xs == [1.0, 2.0, 3.0]
    on(M.point_stamped("map", (3.0, 0.0, 0.0)), 2 * S)   # the same again: slot 1 takes x=3 too
    b.sync()
    assert_browser_matches_model(b)


def test_a_new_fixed_frame_clears_the_display(scene):
    model, b = scene
    on = attach(model, "pose", "/goal")
    on(M.pose_stamped("map"), 2 * S)
    b.sync()
    assert b.node("pose:/goal:0") is not None
    model.set_fixed_frame("odom")
    b.sync()
    assert b.node("pose:/goal:0") is None
    on(M.pose_stamped("map", (1.0, 0.0, 0.0), ns=3 * S), 3 * S)   # map in odom at 3 s: x - 3
    b.sync()
    assert b.parent("pose:/goal:0") == "tf:odom"
    np.testing.assert_allclose(pose_of(b, "pose:/goal:0")[0], [-2.0, 0.0, 0.0])
    assert_browser_matches_model(b)
