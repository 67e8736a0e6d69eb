"""SceneModel: TF and markers in, protocol events out, checked by applying the
events to a SceneTree as the browser does."""

import logging
import math

import numpy as np
import pytest
from scene_msgs import Browser, S, marker, marker_array, tf, tf_msg

from vuer_ros.scene import SceneModel, TfExtrapolationError
from vuer_ros.scene.transform import quat_from_axis_angle

LOGGER = "vuer_ros.scene"


def rot_z(deg):
    return quat_from_axis_angle((0.0, 0.0, 1.0), math.radians(deg))


def flatten(node, parent=None, out=None):
    """key -> (parent key, props without children), for order-free comparison."""
    out = {} if out is None else out
    props = {k: v for k, v in node.items() if k not in ("children", "bgChildren")}
    out[node["key"]] = (parent, props)
    for name in ("children", "bgChildren"):
        for child in node.get(name, ()):
            flatten(child, node["key"], out)
    return out


def assert_browser_matches_model(b):
    """The scene built from the drained events equals a fresh full scene."""
    fresh = flatten(b.model.initial_scene().to_wire())
    assert flatten(b.tree.snapshot()) == fresh


@pytest.fixture
def robot():
    """map -> odom -> base_link -> laser (static), synced with a browser."""
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=1 * S),
                       tf("odom", "base_link", (0, 1, 0), ns=1 * S)))
    model.on_tf(tf_msg(tf("base_link", "laser", (0, 0, 0.5))), static=True)
    b.sync()
    return model, b


# -- scene and TF ------------------------------------------------------------------
def test_initial_scene_is_z_up_with_the_fixed_frame_at_the_origin():
    model = SceneModel("map")
    events = Browser(model).sync()
    assert [e.etype for e in events] == ["SET"]
    scene = events[0].data
    assert scene["tag"] == "Scene" and scene["up"] == [0, 0, 1]
    (root,) = scene["children"]
    assert root == {"tag": "Group", "key": "tf:map", "position": [0.0, 0.0, 0.0],
                    "quaternion": [0.0, 0.0, 0.0, 1.0]}
    assert {n["key"] for n in scene["bgChildren"]} >= {"grid", "DEFAULT"}
    assert model.drain_events() == []


def test_frames_nest_under_their_parents(robot):
    model, b = robot
    assert b.parent("tf:odom") == "tf:map"
    assert b.parent("tf:base_link") == "tf:odom"
    assert b.parent("tf:laser") == "tf:base_link"
    assert b.node("tf:odom")["position"] == [1.0, 0.0, 0.0]
    assert b.node("tf:laser")["position"] == [0.0, 0.0, 0.5]
    assert_browser_matches_model(b)


def test_one_tf_update_is_one_small_update_of_one_group(robot):
    model, b = robot
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 2, 0), rot_z(90), ns=2 * S)))
    (ev,) = b.sync()
    assert ev.etype == "UPDATE"
    q = list(rot_z(90))
    assert ev.data["nodes"] == [{"key": "tf:base_link", "position": [0.0, 2.0, 0.0],
                                 "quaternion": q}]


def test_updates_between_drains_coalesce_to_one_per_frame(robot):
    model, b = robot
    for i in range(2, 12):                      # 10 messages each for two frames
        model.on_tf(tf_msg(tf("odom", "base_link", (0, i, 0), ns=i * S),
                           tf("map", "odom", (i, 0, 0), ns=i * S)))
    (ev,) = b.sync()
    assert ev.etype == "UPDATE"
    nodes = {n["key"]: n["position"] for n in ev.data["nodes"]}
    assert nodes == {"tf:base_link": [0.0, 11.0, 0.0], "tf:odom": [11.0, 0.0, 0.0]}
    assert len(ev.data["nodes"]) == 2
    assert b.sync() == []


def test_older_out_of_order_tf_emits_nothing(robot):
    model, b = robot
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 5, 0), ns=3 * S)))
    b.sync()
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 9, 0), ns=2 * S)))
    assert b.sync() == []
    assert b.node("tf:base_link")["position"] == [0.0, 5.0, 0.0]


def test_frames_above_the_fixed_frame_hang_inverted():
    model = SceneModel("odom")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1, 2, 0), rot_z(90), ns=S),
                       tf("odom", "base_link", (0, 1, 0), ns=S),
                       tf("map", "dock", (5, 0, 0), ns=S)))
    b.sync()
    assert b.parent("tf:map") == "tf:odom" and b.parent("tf:dock") == "tf:map"
    # tf:map's pose in odom is the inverse of map<-odom: maps (1, 2, 0) back to the origin
    m = b.node("tf:map")
    from vuer_ros.scene import Transform
    t_odom_map = Transform(tuple(m["position"]), tuple(m["quaternion"]))
    assert np.allclose(t_odom_map.apply((1.0, 2.0, 0.0)), (0, 0, 0))
    # the dock in odom agrees with a TF lookup
    dock = t_odom_map @ Transform(tuple(b.node("tf:dock")["position"]))
    assert np.allclose(dock.translation, model.tf.lookup("odom", "dock").translation)
    # an update of map <- odom moves the inverted group tf:map, once
    model.on_tf(tf_msg(tf("map", "odom", (3, 0, 0), ns=2 * S)))
    (ev,) = b.sync()
    assert ev.data["nodes"] == [{"key": "tf:map", "position": [-3.0, 0.0, 0.0],
                                 "quaternion": [-0.0, -0.0, -0.0, 1.0]}]
    assert_browser_matches_model(b)


def test_reparenting_moves_the_subtree_with_its_markers(robot):
    model, b = robot
    model.on_tf(tf_msg(tf("map", "table", (5, 0, 0), ns=S)), static=True)
    model.on_marker(marker(type=1, frame="laser", frame_locked=True, id=7), S)
    b.sync()
    assert b.parent("marker:test:7") == "tf:laser"
    # the laser is handed from the robot to the table
    model.on_tf(tf_msg(tf("table", "laser", (0, 0, 1), ns=2 * S)), static=True)
    events = b.sync()
    assert [e.etype for e in events] == ["REMOVE", "ADD"]
    assert events[0].data == {"keys": ["tf:laser"]}
    assert events[1].data["to"] == "tf:table"
    assert b.parent("tf:laser") == "tf:table"
    assert b.node("tf:laser")["position"] == [0.0, 0.0, 1.0]
    assert b.parent("marker:test:7") == "tf:laser"
    assert_browser_matches_model(b)


def test_a_loop_is_refused_and_reported_once(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            found = model.on_tf(tf_msg(tf("laser", "map", ns=2 * S)))
            assert len(found) == 1 and "would close a loop" in found[0]
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["tf: refusing transform 'laser' -> 'map': it would close a loop "
                     "(map -> laser -> base_link -> odom -> map); a frame has one parent and "
                     "the tree has no cycles"]
    assert b.sync() == []
    assert b.parent("tf:odom") == "tf:map"


def test_unreachable_frames_are_hidden_then_shown_when_connected(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model.on_tf(tf_msg(tf("world", "robot2", (0, 0, 1), ns=S)))
        model.on_marker(marker(type=2, frame="robot2", frame_locked=True, id=1), S)
        b.sync()
        model.on_tf(tf_msg(tf("world", "robot2", (0, 0, 2), ns=2 * S)))
        b.sync()
    assert b.node("tf:robot2") is None and b.node("marker:test:1") is None
    assert not model.frame_shown("robot2")
    assert [r.getMessage() for r in caplog.records] == [
        "tf: frames 'robot2', 'world' (tree rooted at 'world') have no connection to the fixed "
        "frame 'map'; they and their markers are hidden until one is published"]
    # a link connects the second tree: it appears, with its marker and newest pose
    model.on_tf(tf_msg(tf("map", "world", (10, 0, 0), ns=2 * S)), static=True)
    events = b.sync()
    assert [e.etype for e in events] == ["ADD"]
    assert events[0].data["to"] == "tf:map"
    assert b.parent("tf:robot2") == "tf:world"
    assert b.node("tf:robot2")["position"] == [0.0, 0.0, 2.0]
    assert b.parent("marker:test:1") == "tf:robot2"
    assert (("tf-tree", "world"), "unreachable") not in model.problems and len(model.problems) == 0
    assert_browser_matches_model(b)


def test_marker_in_a_frame_tf_never_named_waits_and_is_reported_once(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for i in range(3):
            model.on_marker(marker(type=1, frame="gripper", frame_locked=True, id=i), S)
            b.sync()
    assert [r.getMessage() for r in caplog.records] == [
        "marker ns=test id=0: frame 'gripper' does not exist in TF; markers in it are hidden "
        "until it is published"]
    model.on_tf(tf_msg(tf("base_link", "gripper", (0, 0, 1), ns=S)))
    b.sync()
    assert [b.parent(f"marker:test:{i}") for i in range(3)] == ["tf:gripper"] * 3
    assert len(model.problems) == 0


# -- markers -------------------------------------------------------------------------
def test_add_modify_and_type_change(robot):
    model, b = robot
    model.on_marker(marker(type=1, ns="arm", id=3, xyz=(1, 2, 3), scale=(1, 2, 3)), S)
    (ev,) = b.sync()
    assert ev.etype == "UPSERT" and ev.data["to"] == "tf:map" and ev.data["strict"] is True
    grp = b.node("marker:arm:3")
    assert grp["position"] == [1.0, 2.0, 3.0] and grp["visible"] is True
    assert b.node("marker:arm:3#body")["tag"] == "Box"
    assert b.node("marker:arm:3#body")["args"] == [1.0, 2.0, 3.0]
    # MODIFY: the same key, replaced in place
    model.on_marker(marker(type=1, ns="arm", id=3, xyz=(4, 5, 6), scale=(2, 2, 2)), S)
    (ev,) = b.sync()
    assert ev.etype == "UPSERT"
    assert b.node("marker:arm:3")["position"] == [4.0, 5.0, 6.0]
    assert b.node("marker:arm:3#body")["args"] == [2.0, 2.0, 2.0]
    # type change: the children are rebuilt
    model.on_marker(marker(type=0, ns="arm", id=3, scale=(1, 0.1, 0.1)), S)
    b.sync()
    assert b.node("marker:arm:3#body") is None
    assert b.node("marker:arm:3#shaft")["tag"] == "Cylinder"
    assert b.node("marker:arm:3#head")["tag"] == "Cone"
    assert_browser_matches_model(b)


def test_delete_deleteall_and_deleteall_by_namespace(robot):
    model, b = robot
    model.on_marker_array(marker_array(
        *[marker(type=1, ns="a", id=i) for i in range(3)],
        *[marker(type=2, ns="b", id=i) for i in range(3)]), S)
    b.sync()
    model.on_marker(marker(ns="a", id=1, action=2), S)
    (ev,) = b.sync()
    assert ev.etype == "REMOVE" and ev.data == {"keys": ["marker:a:1"]}
    model.on_marker(marker(ns="b", action=3), S)           # DELETEALL of namespace b
    (ev,) = b.sync()
    assert sorted(ev.data["keys"]) == ["marker:b:0", "marker:b:1", "marker:b:2"]
    assert b.node("marker:a:0") is not None and b.node("marker:a:2") is not None
    model.on_marker(marker(ns="", action=3), S)            # DELETEALL of everything
    (ev,) = b.sync()
    assert sorted(ev.data["keys"]) == ["marker:a:0", "marker:a:2"]
    assert len(model.markers) == 0
    assert model.on_marker(marker(ns="a", id=99, action=2), S) == []   # unknown: no-op
    assert b.sync() == []


def test_deleteall_then_add_in_one_array_replaces(robot):
    model, b = robot
    model.on_marker_array(marker_array(marker(type=1, id=1), marker(type=1, id=2)), S)
    b.sync()
    model.on_marker_array(marker_array(marker(action=3), marker(type=2, id=2)), S)
    events = b.sync()
    assert [e.etype for e in events] == ["REMOVE", "UPSERT"]
    assert events[0].data["keys"] == ["marker:test:1"]
    assert b.node("marker:test:2#body")["tag"] == "Sphere"
    assert_browser_matches_model(b)


def test_lifetime_expires_via_advance(robot):
    model, b = robot
    model.on_marker(marker(type=1, id=1, lifetime_ns=2 * S), 10 * S)
    model.on_marker(marker(type=1, id=2), 10 * S)          # lifetime 0: forever
    b.sync()
    model.advance(11 * S)
    assert b.sync() == []
    model.on_marker(marker(type=1, id=1, lifetime_ns=2 * S), 11 * S)   # re-sent: restarts
    assert b.sync() == []                                # unchanged: nothing to send
    model.advance(12 * S + S // 2)
    assert b.sync() == []
    model.advance(13 * S)
    (ev,) = b.sync()
    assert ev.etype == "REMOVE" and ev.data["keys"] == ["marker:test:1"]
    model.advance(1000 * S)
    assert b.sync() == [] and b.node("marker:test:2") is not None


def test_resending_an_unchanged_array_sends_nothing_and_one_change_one_node(robot):
    model, b = robot
    def array(z_of_5=0.0):
        return marker_array(*[marker(type=t, id=i, xyz=(i, 0, z_of_5 if i == 5 else 0),
                                     points=[(0, 0, 0), (1, 1, 1)] if t == 4 else ())
                              for i, t in enumerate([1, 2, 3, 4, 9, 1, 8])])
    model.on_marker_array(array(), S)
    b.sync()
    model.on_marker_array(array(), 2 * S)
    assert b.sync() == []
    model.on_marker_array(array(z_of_5=1.0), 3 * S)
    (ev,) = b.sync()   # only its pose changed: one pose UPDATE of its group
    assert ev.etype == "UPDATE" and ev.data["nodes"] == [
        {"key": "marker:test:5", "position": [5.0, 0.0, 1.0], "quaternion": [0.0, 0.0, 0.0, 1.0]}]
    assert b.node("marker:test:5")["position"] == [5.0, 0.0, 1.0]
    model.on_marker_array(marker_array(marker(type=1, id=5, xyz=(5, 0, 1), scale=(2, 2, 2))), 4 * S)
    (ev,) = b.sync()   # its geometry changed: the group is replaced
    assert ev.etype == "UPSERT" and [n["key"] for n in ev.data["nodes"]] == ["marker:test:5"]
    assert_browser_matches_model(b)


def test_unlocked_update_waiting_for_tf_keeps_the_previous_version_shown(robot):
    model, b = robot
    model.on_marker(marker(type=1, id=1, frame="base_link", stamp_ns=S), S)
    b.sync()
    assert b.node("marker:test:1")["position"] == [1.0, 1.0, 0.0]
    # the next version is stamped ahead of TF: no REMOVE, the old one stays meanwhile
    model.on_marker(marker(type=2, id=1, frame="base_link", stamp_ns=2 * S), 2 * S)
    assert b.sync() == []
    assert b.node("marker:test:1#body")["tag"] == "Box"
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 5, 0), ns=2 * S),
                       tf("map", "odom", (1, 0, 0), ns=2 * S)))
    events = b.sync()
    assert [e.etype for e in events] == ["UPDATE", "UPSERT"]
    assert b.node("marker:test:1")["position"] == [1.0, 5.0, 0.0]
    assert b.node("marker:test:1#body")["tag"] == "Sphere"


def test_frame_locked_follows_the_frame_unlocked_stays_put(robot):
    model, b = robot
    model.on_marker(marker(type=1, id=1, frame="base_link", frame_locked=True, xyz=(0, 0, 1)), S)
    model.on_marker(marker(type=1, id=2, frame="base_link", frame_locked=False, xyz=(0, 0, 1),
                           stamp_ns=1 * S), S)
    b.sync()
    assert b.parent("marker:test:1") == "tf:base_link"
    assert b.node("marker:test:1")["position"] == [0.0, 0.0, 1.0]
    assert b.parent("marker:test:2") == "tf:map"
    assert b.node("marker:test:2")["position"] == [1.0, 1.0, 1.0]   # map<-odom<-base at 1 s
    # the robot drives on: only its group moves; the unlocked marker keeps its fixed pose
    model.on_tf(tf_msg(tf("odom", "base_link", (3, 1, 0), ns=2 * S)))
    (ev,) = b.sync()
    assert ev.etype == "UPDATE" and [n["key"] for n in ev.data["nodes"]] == ["tf:base_link"]
    assert b.node("marker:test:2")["position"] == [1.0, 1.0, 1.0]
    assert b.node("marker:test:1")["position"] == [0.0, 0.0, 1.0]


def test_unlocked_marker_waits_for_tf_at_its_stamp_interpolated(robot):
    model, b = robot
    model.on_marker(marker(type=1, id=5, frame="base_link", stamp_ns=S + S // 2), S)
    assert b.sync() == []                                # no TF at 1.5 s yet
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 3, 0), ns=2 * S)))
    model.on_tf(tf_msg(tf("map", "odom", (3, 0, 0), ns=2 * S)))
    b.sync()
    # both links interpolated halfway: odom (2, 0, 0), base (0, 2, 0)
    assert b.node("marker:test:5")["position"] == pytest.approx([2.0, 2.0, 0.0])
    assert b.parent("marker:test:5") == "tf:map"


def test_unlocked_marker_too_old_or_timed_out_is_reported(robot, caplog):
    model, b = robot
    model.on_tf(tf_msg(tf("odom", "base_link", (0, 1, 0), ns=20 * S),
                       tf("map", "odom", (1, 0, 0), ns=20 * S)))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model.on_marker(marker(type=1, id=1, frame="base_link", stamp_ns=S // 2), 20 * S)
        model.on_marker(marker(type=1, id=2, frame="ghost", stamp_ns=20 * S), 20 * S)
        model.advance(21 * S)
        assert len(caplog.records) == 1                  # the past one, at once
        model.advance(26 * S)                            # > 5 s waiting for 'ghost'
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs[0].startswith("marker ns=test id=1: no transform from 'base_link' to fixed frame "
                              "'map' at its stamp 0.500000000: Lookup would require "
                              "extrapolation")
    assert msgs[1].startswith("marker ns=test id=2: no transform from 'ghost' to fixed frame 'map'")
    assert msgs[1].endswith("(waited 5 s)")
    assert b.node("marker:test:1") is None and b.node("marker:test:2") is None


def test_empty_frame_id_is_the_fixed_frame_and_odd_frames_are_escaped():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "arm:left #1/link", (0, 0, 1), ns=S)))
    model.on_marker(marker(type=1, id=1, frame=""), S)
    model.on_marker(marker(type=1, id=2, frame="arm:left #1/link", frame_locked=True), S)
    b.sync()
    assert b.parent("marker:test:1") == "tf:map"
    assert b.parent("marker:test:2") == "tf:arm%3Aleft%20%231/link"
    assert_browser_matches_model(b)


# -- bad input -----------------------------------------------------------------------
def test_bad_markers_are_logged_once_and_skipped_while_the_rest_apply(robot, caplog):
    model, b = robot
    bad = [
        marker(type=8, ns="bad", id=1, points=[(0, 0, 0)] * 4, colors=[(1, 1, 1, 1)] * 5),
        marker(type=1, ns="bad", id=2, xyz=(math.nan, 0, 0)),
        marker(type=77, ns="bad", id=3),
        marker(type=1, ns="bad", id=4, action=1),
    ]
    good = [marker(type=1, ns="good", id=i) for i in range(3)]
    array = marker_array(good[0], *bad[:2], good[1], *bad[2:], good[2])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        found1 = model.on_marker_array(array, S)
        found2 = model.on_marker_array(array, S)          # the same again: no new log lines
    assert found1 == found2 and len(found1) == 4
    assert [r.getMessage() for r in caplog.records] == [
        "marker ns=bad id=1: colors has 5 entries for 4 points; expected 4 (one per point) or 0",
        "marker ns=bad id=2: pose has a non-finite value (nan, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)",
        "marker ns=bad id=3: unknown type 77 (known: 0..12, ARROW..ARROW_STRIP)",
        "marker ns=bad id=4: unknown action 1 (ADD/MODIFY = 0, DELETE = 2, DELETEALL = 3)",
    ]
    assert all(r.levelno == logging.ERROR for r in caplog.records)
    b.sync()
    assert [b.parent(f"marker:good:{i}") for i in range(3)] == ["tf:map"] * 3
    assert all(b.node(f"marker:bad:{i}") is None for i in range(1, 5))


def test_quaternion_warnings_once_and_the_marker_still_applies(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            model.on_marker(marker(type=1, id=1, q=(0, 0, 0, 0)), S)
            model.on_marker(marker(type=1, id=2, q=(0, 0, 1, 1)), S)
    assert [r.getMessage() for r in caplog.records] == [
        "marker ns=test id=1: orientation is all zeros; using the identity",
        "marker ns=test id=2: orientation has length 1.41421, not 1; normalised"]
    b.sync()
    assert b.node("marker:test:1")["quaternion"] == [0.0, 0.0, 0.0, 1.0]
    assert b.node("marker:test:2")["quaternion"] == pytest.approx(list(rot_z(90)))


def test_a_fixed_marker_logs_again_if_it_breaks_again(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model.on_marker(marker(type=99, id=1), S)
        model.on_marker(marker(type=1, id=1), S)
        model.on_marker(marker(type=99, id=1), S)
    assert len(caplog.records) == 2


def test_duplicate_ids_in_one_array_warn_once_and_the_last_wins(robot, caplog):
    model, b = robot
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model.on_marker_array(marker_array(marker(type=1, id=1), marker(type=2, id=1)), S)
        model.on_marker_array(marker_array(marker(type=1, id=1), marker(type=2, id=1)), S)
    assert [r.getMessage() for r in caplog.records] == [
        "MarkerArray has several markers with marker ns=test id=1; the last one wins"]
    b.sync()
    assert b.node("marker:test:1#body")["tag"] == "Sphere"


def test_bad_tf_is_skipped_and_the_rest_of_the_message_applies(robot):
    model, b = robot
    found = model.on_tf(tf_msg(tf("map", "a", (math.nan, 0, 0), ns=2 * S),
                               tf("map", "b", (1, 0, 0), q=(0, 0, 0, 3), ns=2 * S),
                               tf("map", "c", (2, 0, 0), ns=2 * S)))
    assert len(found) == 2
    b.sync()
    assert b.node("tf:a") is None and b.node("tf:b") is None
    assert b.node("tf:c")["position"] == [2.0, 0.0, 0.0]


# -- misc ----------------------------------------------------------------------------
def test_pose_in_fixed_for_a_render_camera(robot):
    model, _ = robot
    m = model.pose_in_fixed("laser")
    assert m.shape == (4, 4)
    assert np.allclose(m[:3, 3], [1.0, 1.0, 0.5]) and np.allclose(m[:3, :3], np.eye(3))
    assert np.array_equal(model.pose_in_fixed("map"), np.eye(4))
    with pytest.raises(TfExtrapolationError):
        model.pose_in_fixed("base_link", 5 * S)


def test_changing_the_fixed_frame_sends_a_set_and_clears_markers(robot):
    model, b = robot
    model.on_marker(marker(type=1, id=1), S)
    b.sync()
    model.set_fixed_frame("base_link")
    (ev,) = b.sync()
    assert ev.etype == "SET"
    assert b.parent("tf:base_link") == "scene" and b.parent("tf:odom") == "tf:base_link"
    assert b.node("marker:test:1") is None and len(model.markers) == 0


def test_random_sequences_keep_the_browser_in_step_with_the_model():
    """Random TF links (re-parenting, loops, statics, fixed frame above or below),
    markers (locked, unlocked, unknown frames, deletes, lifetimes) and drains: after
    every drain the browser's scene equals the model's full scene, the events apply
    without a problem, and no frame is updated twice in one drain."""
    import random
    rng = random.Random(1234)
    frames = [f"f{i}" for i in range(8)] + ["map"]
    for _trial in range(20):
        model = SceneModel(rng.choice(["map", "f0", "f3"]), marker_tf_timeout_ns=3 * S)
        b = Browser(model)
        t = S
        last: dict = {}
        for _step in range(150):
            t += rng.randrange(1, S // 5)
            r = rng.random()
            if r < 0.45:
                p, c = rng.sample(frames, 2)
                model.on_tf(tf_msg(tf(p, c, (rng.random(), rng.random(), 0), rot_z(rng.random() * 90),
                                      ns=t - rng.choice([0, 0, S // 3]))),
                            static=rng.random() < 0.2)
            elif r < 0.75:
                frame = rng.choice(frames + ["", "ghost"])
                kw = dict(type=rng.choice([1, 2, 4]), id=rng.randrange(10), ns=rng.choice("ab"),
                          frame=frame, frame_locked=rng.random() < 0.5,
                          stamp_ns=rng.choice([0, t, t - S // 2]),
                          lifetime_ns=rng.choice([0, 0, S]))
                if kw["type"] == 4:
                    kw["points"] = [(0, 0, 0), (1, 1, 1)]
                model.on_marker(marker(**kw), t)
                last = kw
            elif r < 0.80 and last:
                model.on_marker(marker(**last), t)      # re-sent unchanged
            elif r < 0.84:
                model.on_marker(marker(ns=rng.choice("ab"), id=rng.randrange(10), action=2), t)
            elif r < 0.85:
                model.on_marker(marker(ns=rng.choice(["a", ""]), action=3), t)
            elif r < 0.86:
                model.set_fixed_frame(rng.choice(frames))
            else:
                model.advance(t)
            if rng.random() < 0.3:
                for ev in b.sync():
                    if ev.etype == "UPDATE":
                        keys = [n["key"] for n in ev.data["nodes"]]
                        assert len(keys) == len(set(keys))
                assert_browser_matches_model(b)


def test_a_malformed_marker_object_is_reported_not_raised(robot):
    model, b = robot
    broken = marker(type=4, id=1, points=[(0, 0, 0), (1, 1, 1)])
    broken.points = [None, None]                       # not Points: reading them fails
    found = model.on_marker_array(marker_array(broken, marker(type=1, id=2)), S)
    assert found == ["marker ns=test id=1: cannot read this marker "
                     "(AttributeError: 'NoneType' object has no attribute 'x')"]
    b.sync()
    assert b.node("marker:test:1") is None and b.node("marker:test:2") is not None
