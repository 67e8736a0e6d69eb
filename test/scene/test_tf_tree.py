"""TfTree: tf2 semantics (chains, interpolation, static, extrapolation, re-parenting, loops)."""

import math

import numpy as np
import pytest

from vuer_ros.scene import (
    TfConnectivityError,
    TfExtrapolationError,
    TfLookupError,
    TfRejectedError,
    TfTree,
    TfUpdate,
    Transform,
)
from vuer_ros.scene.transform import quat_from_axis_angle

S = 1_000_000_000


def rot_z(deg):
    return quat_from_axis_angle((0.0, 0.0, 1.0), math.radians(deg))


def close(a, b, tol=1e-9):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), atol=tol)


def test_chain_lookup_composes_both_ways():
    tf = TfTree()
    tf.set_transform("map", "odom", Transform((1.0, 0.0, 0.0), rot_z(90)), 1 * S)
    tf.set_transform("odom", "base", Transform((2.0, 0.0, 0.0)), 1 * S)
    tf.set_transform("map", "other", Transform((0.0, 0.0, 5.0)), 1 * S, static=True)
    t = tf.lookup("map", "base", 1 * S)
    # base is 2 m along odom's x, which points along map's y
    assert close(t.translation, (1.0, 2.0, 0.0))
    assert close(t.rotation, rot_z(90))
    back = tf.lookup("base", "map", 1 * S)
    assert close(back.apply((1.0, 2.0, 0.0)), (0.0, 0.0, 0.0))
    # across branches: other <- map -> odom -> base
    assert close(tf.lookup("other", "base", 1 * S).translation, (1.0, 2.0, -5.0))
    assert tf.chain("other", "base") == ["base", "odom", "map", "other"]
    assert tf.lookup("base", "base").translation == (0.0, 0.0, 0.0)


def test_interpolation_midway_lerps_translation_and_slerps_rotation():
    tf = TfTree()
    tf.set_transform("map", "base", Transform((0.0, 0.0, 0.0), rot_z(0)), 1 * S)
    tf.set_transform("map", "base", Transform((2.0, 4.0, 0.0), rot_z(90)), 2 * S)
    mid = tf.lookup("map", "base", 1 * S + S // 2)
    assert close(mid.translation, (1.0, 2.0, 0.0))
    assert close(mid.rotation, rot_z(45))
    quarter = tf.lookup("map", "base", 1 * S + S // 4)
    assert close(quarter.rotation, rot_z(22.5))      # slerp, not a normalised lerp
    assert close(tf.lookup("map", "base", 2 * S).translation, (2.0, 4.0, 0.0))


def test_slerp_takes_the_short_way_across_the_sign_flip():
    tf = TfTree()
    q170 = rot_z(170)
    q190 = tuple(-c for c in rot_z(190))   # same rotation as rot_z(190), opposite sign
    tf.set_transform("map", "base", Transform(rotation=q170), 0 + 1)
    tf.set_transform("map", "base", Transform(rotation=q190), 2 * S + 1)
    mid = tf.lookup("map", "base", S + 1)
    assert close(np.abs(mid.rotation), np.abs(rot_z(180)), 1e-9)


def test_latest_lookup_uses_the_latest_common_time_of_the_chain():
    tf = TfTree()
    tf.set_transform("map", "odom", Transform((0.0, 0.0, 0.0)), 1 * S)
    tf.set_transform("map", "odom", Transform((10.0, 0.0, 0.0)), 3 * S)
    tf.set_transform("odom", "base", Transform((0.0, 1.0, 0.0)), 1 * S)
    tf.set_transform("odom", "base", Transform((0.0, 3.0, 0.0)), 2 * S)
    assert tf.latest_common_time("map", "base") == 2 * S
    # map->odom interpolated at 2 s (5 m), odom->base at its newest (3 m)
    assert close(tf.lookup("map", "base").translation, (5.0, 3.0, 0.0))
    assert close(tf.lookup("map", "base", 0).translation, (5.0, 3.0, 0.0))


def test_static_transforms_hold_for_all_time():
    tf = TfTree()
    tf.set_transform("base", "laser", Transform((0.0, 0.0, 0.3)), 5 * S, static=True)
    tf.set_transform("map", "base", Transform((1.0, 0.0, 0.0)), 100 * S)
    tf.set_transform("map", "base", Transform((2.0, 0.0, 0.0)), 101 * S)
    assert tf.is_static("laser") and not tf.is_static("base")
    # long after and long before the static stamp
    assert close(tf.lookup("base", "laser", 1000 * S).translation, (0.0, 0.0, 0.3))
    assert close(tf.lookup("base", "laser", 1).translation, (0.0, 0.0, 0.3))
    assert tf.latest_common_time("base", "laser") is None
    assert close(tf.lookup("map", "laser", 100 * S + S // 2).translation, (1.5, 0.0, 0.3))


def test_extrapolation_errors_into_the_past_and_the_future():
    tf = TfTree(cache_time_ns=10 * S)
    tf.set_transform("map", "base", Transform(), 20 * S)
    with pytest.raises(TfExtrapolationError, match="only time 20.000000000 is in the buffer"):
        tf.lookup("map", "base", 19 * S)
    tf.set_transform("map", "base", Transform(), 21 * S)
    with pytest.raises(TfExtrapolationError, match="into the future") as e:
        tf.lookup("map", "base", 22 * S)
    assert e.value.direction == "future"
    assert "when looking up transform from frame [base] to frame [map]" in str(e.value)
    with pytest.raises(TfExtrapolationError, match="into the past") as e:
        tf.lookup("map", "base", 19 * S)
    assert e.value.direction == "past"


def test_history_is_pruned_and_older_data_refused():
    tf = TfTree(cache_time_ns=10 * S)
    for t in range(0, 31):
        tf.set_transform("map", "base", Transform((float(t), 0.0, 0.0)), t * S)
    assert tf.time_range("base") == (20 * S, 30 * S)
    with pytest.raises(TfExtrapolationError, match="into the past"):
        tf.lookup("map", "base", 15 * S)
    with pytest.raises(TfRejectedError, match="from the past") as e:
        tf.set_transform("map", "base", Transform(), 5 * S)
    assert e.value.kind == "old"
    # out of order but inside the history: stored, the latest value is unchanged
    assert tf.set_transform("map", "base", Transform((99.0, 0.0, 0.0)), 25 * S + 1) is TfUpdate.OLDER
    assert tf.edge("base").transform.translation == (30.0, 0.0, 0.0)
    assert close(tf.lookup("map", "base", 25 * S + 1).translation, (99.0, 0.0, 0.0))


def test_unknown_and_unconnected_frames():
    tf = TfTree()
    tf.set_transform("map", "base", Transform(), S)
    tf.set_transform("world", "robot2", Transform(), S)
    with pytest.raises(TfLookupError, match='"nowhere" passed to lookup_transform argument '
                                            'source_frame does not exist'):
        tf.lookup("map", "nowhere")
    with pytest.raises(TfLookupError, match="cannot start with a '/'"):
        tf.lookup("/map", "base")
    with pytest.raises(TfConnectivityError, match="not part of the same tree"):
        tf.lookup("map", "robot2")
    assert not tf.can_transform("map", "robot2")
    assert tf.can_transform("map", "base")
    assert tf.root("robot2") == "world" and not tf.connected("base", "robot2")


def test_reparenting_changes_the_chain():
    tf = TfTree()
    assert tf.set_transform("map", "a", Transform((1.0, 0.0, 0.0)), S, True) is TfUpdate.LINKED
    assert tf.set_transform("map", "b", Transform((0.0, 5.0, 0.0)), S, True) is TfUpdate.LINKED
    assert tf.set_transform("a", "tool", Transform((0.0, 0.0, 1.0)), S) is TfUpdate.LINKED
    assert tf.set_transform("a", "tool", Transform((0.0, 0.0, 2.0)), 2 * S) is TfUpdate.MOVED
    assert close(tf.lookup("map", "tool").translation, (1.0, 0.0, 2.0))
    # the tool is handed over from a to b
    assert tf.set_transform("b", "tool", Transform((0.0, 0.0, 3.0)), 3 * S) is TfUpdate.LINKED
    assert tf.parent("tool") == "b"
    assert close(tf.lookup("map", "tool").translation, (0.0, 5.0, 3.0))
    # history keeps the old parent for the old times
    assert tf.chain("map", "tool") == ["tool", "b", "map"]
    assert close(tf.lookup("a", "tool", 2 * S).translation, (0.0, 0.0, 2.0))


def test_a_loop_is_refused_naming_the_frames():
    tf = TfTree()
    tf.set_transform("map", "odom", Transform(), S)
    tf.set_transform("odom", "base", Transform(), S)
    with pytest.raises(TfRejectedError) as e:
        tf.set_transform("base", "map", Transform(), S)
    assert e.value.kind == "loop"
    assert "'base' -> 'map'" in str(e.value) and "map -> base -> odom -> map" in str(e.value)
    assert tf.parent("map") is None            # unchanged
    with pytest.raises(TfRejectedError) as e:  # re-parenting onto a descendant
        tf.set_transform("base", "odom", Transform(), 2 * S)
    assert e.value.kind == "loop"
    assert tf.parent("odom") == "map"


@pytest.mark.parametrize("parent, child, tr, kind", [
    ("map", "map", Transform(), "self"),
    ("", "base", Transform(), "empty"),
    ("map", "", Transform(), "empty"),
    ("map", "base", Transform((math.nan, 0.0, 0.0)), "nan"),
    ("map", "base", Transform((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.5)), "denormalized"),
])
def test_bad_transforms_are_refused(parent, child, tr, kind):
    tf = TfTree()
    with pytest.raises(TfRejectedError) as e:
        tf.set_transform(parent, child, tr, S)
    assert e.value.kind == kind
    assert len(tf) == 0


def test_leading_slash_is_stripped_and_near_unit_quaternions_normalised():
    tf = TfTree()
    tf.set_transform("/map", "/base", Transform((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.004)), S)
    assert tf.parent("base") == "map"
    assert tf.edge("base").transform.rotation == (0.0, 0.0, 0.0, 1.0)


def test_a_frame_switches_between_static_and_dynamic_with_the_last_kind():
    tf = TfTree()
    tf.set_transform("map", "base", Transform((1.0, 0.0, 0.0)), S, static=True)
    tf.set_transform("map", "base", Transform((2.0, 0.0, 0.0)), 5 * S)
    assert not tf.is_static("base")
    with pytest.raises(TfExtrapolationError):
        tf.lookup("map", "base", 4 * S)
