"""The live view's logic without ROS or a browser (it is never started here): the
render camera on a TF frame agrees with the optical frame the node publishes, a
ROS clock that jumps back resets the scene but keeps static TF, an inbox that
overflows drops the oldest messages of that topic, a waiting MarkerArray that
replaces an older one wins, and bytes the CDR decoders do not read go to the
middleware's decoder."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from visualization_msgs.msg import Marker, MarkerArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scene"))
import scene_msgs as sm  # noqa: E402

from vuer_ros.render.camera import quat_to_matrix  # noqa: E402
from vuer_ros.render.settings import RenderSettings  # noqa: E402
from vuer_ros.view.image_fields import Wants  # noqa: E402
from vuer_ros.view.live import LiveView  # noqa: E402
from vuer_ros.view.options import ViewOptions  # noqa: E402

S = 1_000_000_000


class Sink:
    def wants(self) -> Wants:
        return Wants(False, False, False, False)

    def publish(self, messages) -> None:
        pass


def make_loop(clock: list[int], fallback=None, **settings) -> LiveView:
    options = ViewOptions(fixed_frame="map", settings=RenderSettings(**settings),
                          marker_array_topics=("/arr",), marker_topics=("/m",), port=0)
    return LiveView(options, clock_ns=lambda: clock[0], sink=Sink(), fallback_decode=fallback)


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def test_camera_on_a_body_frame_looks_along_its_x_with_z_up():
    clock = [S]
    loop = make_loop(clock, camera_frame="cam_link")
    loop.player.feed("/tf", sm.tf_msg(sm.tf("map", "cam_link", (1.0, 2.0, 3.0), yaw(90), ns=S)), S)
    cam = loop.player.camera()
    assert cam is not None
    assert np.allclose(cam.position, [1, 2, 3])
    R = quat_to_matrix(cam.orientation)   # columns: optical x, y, z in map
    assert np.allclose(R[:, 2], [0, 1, 0])    # forward = cam_link +X = map +Y
    assert np.allclose(R[:, 0], [1, 0, 0])    # right = -(cam_link +Y) = map +X
    assert np.allclose(R[:, 1], [0, 0, -1])   # down = -(cam_link +Z)
    # the optical frame published on TF, composed with cam_link's pose, is this camera
    parent, xyz, q = loop.settings.camera_mount("map")
    assert parent == "cam_link" and xyz == (0.0, 0.0, 0.0)
    assert np.allclose(quat_to_matrix(yaw(90)) @ quat_to_matrix(q), R)


def test_camera_on_an_optical_frame_and_a_missing_frame():
    clock = [S]
    loop = make_loop(clock, camera_frame="cam_optical", camera_frame_is_optical=True)
    assert loop.player.camera() is None
    assert loop.player.camera() is None
    assert [p.kind for p in loop.player.problems.active(("render-camera", "cam_optical"))] == ["tf"]
    loop.player.feed("/tf", sm.tf_msg(sm.tf("map", "cam_optical", (0.0, 0.0, 5.0), yaw(30), ns=S)), S)
    cam = loop.player.camera()
    assert np.allclose(quat_to_matrix(cam.orientation), quat_to_matrix(yaw(30)))
    assert not loop.player.problems.active(("render-camera", "cam_optical"))
    assert loop.settings.camera_mount("map")[2] == (0.0, 0.0, 0.0, 1.0)


def test_fixed_camera_mount_matches_eye_and_target():
    loop = make_loop([S], eye=(1.0, -2.0, 4.0), target=(0.0, 0.0, 0.0))
    parent, xyz, q = loop.settings.camera_mount("map")
    cam = loop.player.camera()
    assert parent == "map" and np.allclose(xyz, cam.position)
    assert np.allclose(quat_to_matrix(q), quat_to_matrix(cam.orientation))
    assert np.allclose(cam.project(np.zeros(3)), [[319.5, 239.5]])


def test_clock_jumping_back_resets_the_scene_but_keeps_static_tf():
    clock = [100 * S]
    loop = make_loop(clock)
    loop.player.feed("/tf_static", sm.tf_msg(sm.tf("map", "fixed_part", (1.0, 0.0, 0.0), ns=100 * S)), 0)
    loop.player.feed("/tf", sm.tf_msg(sm.tf("map", "moving", (0.0, 1.0, 0.0), ns=100 * S)), 0)
    loop._drain_to_now()
    assert "moving" in loop.player.model.tf and "fixed_part" in loop.player.model.tf
    clock[0] = 99 * S   # a small step back (< 1 s of jitter) is not a jump
    loop._drain_to_now()
    assert loop.stats.resets == 0
    clock[0] = 10 * S   # the bag restarted
    loop._drain_to_now()
    assert loop.stats.resets == 1
    assert "moving" not in loop.player.model.tf
    assert "fixed_part" in loop.player.model.tf


def test_an_overflowing_inbox_drops_the_oldest_of_that_topic():
    loop = make_loop([S])
    for i in range(150):
        m = Marker(ns="q", id=i, type=1)
        m.header.frame_id = "map"
        m.scale.x = m.scale.y = m.scale.z = 1.0
        m.color.a = 1.0
        m.pose.orientation.w = 1.0
        loop.submit("/arr", serialize_message(MarkerArray(markers=[m])), S)
    loop.submit("/tf", sm.tf_msg(sm.tf("map", "x", ns=S)), S)
    loop._apply_inbox(None)
    assert loop.stats.dropped_messages == 50
    assert sorted(rec.spec.id for rec in loop.player.model.markers) == list(range(50, 150))
    assert "x" in loop.player.model.tf


def _array(ids, x=0.0, action=0, ns="q") -> bytes:
    ms = []
    for i in ids:
        m = Marker(ns=ns, id=i, type=1, action=action)
        m.header.frame_id = "map"
        m.scale.x = m.scale.y = m.scale.z = 1.0
        m.color.a = 1.0
        m.pose.position.x = x
        m.pose.orientation.w = 1.0
        ms.append(m)
    return serialize_message(MarkerArray(markers=ms))


def test_a_waiting_array_that_replaces_an_older_one_wins():
    loop = make_loop([S])
    loop.submit("/arr", _array(range(10), x=1.0), S)
    loop.submit("/tf", sm.tf_msg(sm.tf("map", "x", ns=S)), S)
    loop.submit("/arr", _array(range(12), x=2.0), S)
    loop._apply_inbox(None)
    assert loop.stats.coalesced == 1
    assert sorted(r.spec.id for r in loop.player.model.markers) == list(range(12))
    assert {r.spec.pose.position_list[0] for r in loop.player.model.markers} == {2.0}


@pytest.mark.parametrize("first,second", [
    (dict(ids=range(10)), dict(ids=range(5))),                    # id 5..9 not replaced
    (dict(ids=[1], action=2), dict(ids=[1])),                     # a DELETE is never skipped
    (dict(ids=range(3), ns="a"), dict(ids=range(3), ns="b")),     # another namespace
])
def test_an_array_that_is_not_fully_replaced_is_applied(first, second):
    loop = make_loop([S])
    loop.submit("/arr", _array(**first), S)
    loop.submit("/arr", _array(**second), S)
    loop._apply_inbox(None)
    assert loop.stats.coalesced == 0


def test_deleteall_in_the_next_array_covers_the_older_one():
    loop = make_loop([S])
    loop.submit("/arr", _array(range(10), ns="a"), S)
    loop.submit("/arr", _array([0], ns="a", action=3), S)
    loop._apply_inbox(None)
    assert loop.stats.coalesced == 1 and len(loop.player.model.markers) == 0


def test_an_encoding_the_cdr_decoders_do_not_read_goes_to_the_fallback_decoder():
    calls = []

    def fallback(msgtype, raw):
        calls.append((msgtype, raw[:2]))
        m = Marker(ns="x", id=1, type=1)
        m.header.frame_id = "map"
        m.scale.x = m.scale.y = m.scale.z = 1.0
        m.color.a = 1.0
        m.pose.orientation.w = 1.0
        return m

    loop = make_loop([S], fallback=fallback)
    loop.submit("/m", b"\x00\x07\x00\x00" + bytes(200), S)
    loop._apply_inbox(None)
    assert calls == [("visualization_msgs/msg/Marker", b"\x00\x07")]
    assert [r.spec.ns for r in loop.player.model.markers] == ["x"]


def test_the_render_camera_s_own_frame_heard_back_is_not_part_of_the_scene():
    clock = [S]
    loop = make_loop(clock)
    loop.player.feed("/tf", sm.tf_msg(sm.tf("map", "base", (1.0, 0.0, 0.0), ns=S)), S)
    # the node's camera TF comes back on /tf_static, here under an old fixed frame
    loop.player.feed("/tf_static", sm.tf_msg(sm.tf("nowhere", "vuer_camera_optical", ns=S)), S)
    loop._drain_to_now()
    assert "vuer_camera_optical" not in loop.player.model.tf
    assert not loop.player.problems.active(("tf-tree", "nowhere"))
    # another optical frame name: that one is ignored instead
    loop.player.configure(RenderSettings(optical_frame="cam"))
    loop.player.feed("/tf_static", sm.tf_msg(sm.tf("map", "vuer_camera_optical", ns=S)), S)
    loop.player.feed("/tf_static", sm.tf_msg(sm.tf("map", "cam", ns=S)), S)
    assert "vuer_camera_optical" in loop.player.model.tf and "cam" not in loop.player.model.tf
