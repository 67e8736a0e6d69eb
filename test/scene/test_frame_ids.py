"""tf2's frame-id rule (one leading '/' dropped, once) wherever frame ids enter the
scene: TF header.frame_id and child_frame_id, a marker's header.frame_id, the fixed
frame, the frames a caller asks about. Checked through SceneModel's public API."""

import logging

import numpy as np
import pytest
from scene_msgs import Browser, S, marker, tf, tf_msg

from vuer_ros.scene import SceneModel, TfError, TfTree, Transform, frame_id

LOGGER = "vuer_ros.scene"


@pytest.mark.parametrize("given, stored", [
    ("map", "map"), ("/map", "map"), ("//map", "/map"), ("", ""), ("/", ""),
    ("robot1/base_link", "robot1/base_link"), ("/robot1/base_link", "robot1/base_link"),
    ("base_link/", "base_link/"),
])
def test_the_rule(given, stored):
    assert frame_id(given) == stored


def test_tf_ids_lose_one_leading_slash():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("/map", "/base_link", (1, 0, 0), ns=S),
                       tf("base_link", "/robot1/arm", (0, 0, 1), ns=S)))
    b.sync()
    assert b.parent("tf:base_link") == "tf:map"
    assert b.parent("tf:robot1/arm") == "tf:base_link"     # inner slashes kept
    assert b.node("tf:base_link")["position"] == [1.0, 0.0, 0.0]
    assert model.frame_shown("base_link") and model.frame_shown("/base_link")
    assert model.tf.parent("robot1/arm") == "base_link"


def test_a_double_slash_loses_only_one():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "//a", (0, 2, 0), ns=S)))
    b.sync()
    assert b.parent("tf:/a") == "tf:map" and b.node("tf:a") is None
    assert model.tf.parent("/a") == "map" and "a" not in model.tf
    assert model.frame_shown("//a") and not model.frame_shown("/a")
    # a marker in '//a' hangs in the group of '/a'
    model.on_marker(marker(frame="//a", frame_locked=True), S)
    b.sync()
    assert b.parent("marker:test:0") == "tf:/a"
    # '/a' is a name tf2's lookups refuse: the caller's '//a' is that name, not 'a'
    with pytest.raises(TfError, match="cannot start with a '/'"):
        model.pose_in_fixed("//a")


def test_an_unreachable_tree_rooted_at_a_slashed_name_is_reported_not_raised(caplog):
    model = SceneModel("map")
    b = Browser(model)
    b.sync()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model.on_tf(tf_msg(tf("//elsewhere", "thing", ns=S)))
        assert b.sync() == []
    assert [r.getMessage() for r in caplog.records] == [
        "tf: frames '/elsewhere', 'thing' (tree rooted at '/elsewhere') have no connection to the "
        "fixed frame 'map'; they and their markers are hidden until one is published"]


def test_empty_ids_stay_empty():
    model = SceneModel("map")
    b = Browser(model)
    found = model.on_tf(tf_msg(tf("map", "", ns=S), tf("/", "base", ns=S)))
    assert found == ["tf: ignoring transform with parent 'map' because child_frame_id is empty",
                     "tf: ignoring transform for child 'base' because header.frame_id is empty"]
    model.on_marker(marker(frame="", frame_locked=True), S)   # empty: the fixed frame
    model.on_marker(marker(id=1, frame="/", frame_locked=True), S)
    b.sync()
    assert b.parent("marker:test:0") == "tf:map" and b.parent("marker:test:1") == "tf:map"
    assert np.array_equal(model.pose_in_fixed(""), np.eye(4))
    assert np.array_equal(model.pose_in_fixed("/"), np.eye(4))


def test_marker_frame_ids_lose_one_leading_slash():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "base_link", (1, 0, 0), ns=S),
                       tf("base_link", "robot1/arm", (0, 0, 1), ns=S)))
    model.on_marker(marker(id=0, frame="/base_link", frame_locked=True), S)
    model.on_marker(marker(id=1, frame="/robot1/arm", frame_locked=True), S)
    # frame_locked=false: looked up once, /base_link as base_link, placed in the fixed frame
    model.on_marker(marker(id=2, frame="/base_link", stamp_ns=S, xyz=(0, 1, 0)), S)
    b.sync()
    assert b.parent("marker:test:0") == "tf:base_link"
    assert b.parent("marker:test:1") == "tf:robot1/arm"
    assert b.parent("marker:test:2") == "tf:map"
    assert b.node("marker:test:2")["position"] == [1.0, 1.0, 0.0]


def test_the_fixed_frame_loses_one_leading_slash():
    assert SceneModel("/map").fixed_frame == "map"
    assert SceneModel("//map").fixed_frame == "/map"
    assert SceneModel("/robot1/odom").fixed_frame == "robot1/odom"
    for bad in ("", "/"):
        with pytest.raises(ValueError, match="non-empty frame id"):
            SceneModel(bad)
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    b.sync()
    model.set_fixed_frame("/map")                  # the same frame: nothing to send
    assert model.fixed_frame == "map" and b.sync() == []
    with pytest.raises(ValueError, match="non-empty frame id"):
        model.set_fixed_frame("/")
    model.set_fixed_frame("/odom")
    assert model.fixed_frame == "odom"
    (ev,) = b.sync()
    assert ev.etype == "SET" and b.parent("tf:map") == "tf:odom"


def test_pose_in_fixed_takes_the_callers_id_by_the_same_rule():
    model = SceneModel("/map")
    model.on_tf(tf_msg(tf("map", "base_link", (1, 2, 3), ns=S)))
    m = model.pose_in_fixed("/base_link")
    assert np.allclose(m[:3, 3], (1, 2, 3))
    assert np.array_equal(m, model.pose_in_fixed("base_link"))
    assert np.array_equal(model.pose_in_fixed("/map"), np.eye(4))


def test_a_tf_tree_used_alone_applies_the_rule_once():
    tree = TfTree()
    tree.set_transform("//map", "/base", Transform((1.0, 0.0, 0.0)), S)
    assert tree.parent("base") == "/map" and "map" not in tree
    assert tree.root("base") == "/map"
