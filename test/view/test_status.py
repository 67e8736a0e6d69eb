"""The status event the live view sends the browsers' panels (vuer_ros/view/status.py),
from a real scene model fed real messages (no ROS graph, no browser): each display's key
prefixes own exactly the scene elements it drew, a marker topic lists the namespaces
that came on it while they have markers, the frames say which are in the scene, the
render camera and rviz's view are where the parameters put them, and the fields are the
documented ones."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Path as PathMsg
from rclpy.serialization import serialize_message
from visualization_msgs.msg import Marker, MarkerArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scene"))
import scene_msgs as sm  # noqa: E402

from vuer_ros.protocol.elements import to_wire_node  # noqa: E402
from vuer_ros.protocol.status import STATUS_ETYPE, TABLES, check, owns  # noqa: E402
from vuer_ros.render.camera import RenderCamera  # noqa: E402
from vuer_ros.scene.keys import marker_list_key  # noqa: E402
from vuer_ros.render.rviz_view import rviz_orbit_camera  # noqa: E402
from vuer_ros.render.settings import RenderSettings  # noqa: E402
from vuer_ros.view.image_fields import Wants  # noqa: E402
from vuer_ros.view.kinds import PATH, Subscription  # noqa: E402
from vuer_ros.view.live import LiveView  # noqa: E402
from vuer_ros.view.options import ViewOptions  # noqa: E402

S = 1_000_000_000


class Sink:
    def wants(self) -> Wants:
        return Wants(False, False, False, False)

    def publish(self, messages: Any) -> None:
        pass


def make_view(marker_lists: bool = True, **settings: Any) -> tuple[LiveView, list[int]]:
    clock = [S]
    options = ViewOptions(fixed_frame="map", settings=RenderSettings(**settings),
                          marker_array_topics=("/arr",), marker_topics=("/m",), port=0,
                          marker_lists=marker_lists)
    return LiveView(options, clock_ns=lambda: clock[0], sink=Sink(), sim_time=lambda: True), clock


def marker_bytes(ns: str, mid: int, frame: str = "map", action: int = 0) -> bytes:
    m = Marker()
    m.header.frame_id = frame
    m.ns, m.id, m.type, m.action = ns, mid, Marker.CUBE, action
    m.pose.orientation.w = 1.0
    m.scale.x = m.scale.y = m.scale.z = 0.5
    m.color.r = m.color.a = 1.0
    return serialize_message(m)


def array_bytes(*ids: tuple[str, int]) -> bytes:
    from rclpy.serialization import deserialize_message
    return serialize_message(MarkerArray(markers=[deserialize_message(marker_bytes(ns, i), Marker)
                                                  for ns, i in ids]))


def path_bytes(frame: str = "map") -> bytes:
    p = PathMsg()
    p.header.frame_id = frame
    for x in (0.0, 1.0, 2.0):
        pose = PoseStamped()
        pose.pose.position.x = x
        pose.pose.orientation.w = 1.0
        p.poses.append(pose)
    return serialize_message(p)


def walk(node: dict[str, Any]) -> Iterator[str]:
    for name in ("children", "bgChildren"):
        for child in node.get(name) or []:
            if isinstance(child, dict):
                if isinstance(child.get("key"), str):
                    yield child["key"]
                yield from walk(child)


def scene_keys(view: LiveView) -> list[str]:
    return list(walk(to_wire_node(view.player.model.initial_scene())))


def status(view: LiveView) -> dict[str, Any]:
    view._apply_inbox(None)
    view._drain_to_now()
    event = view.status.event(view.player.model, view.subscriptions, view.settings,
                              view._drained_ns)
    assert event.etype == STATUS_ETYPE
    return event.data


def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for e in entries:
        out[e["id"]] = e
        out.update(by_id(e["children"]))
    return out


def filled_view(marker_lists: bool = True) -> LiveView:
    v, _ = make_view(marker_lists)
    v.submit("/tf", sm.tf_msg(sm.tf("map", "odom", (1.0, 0.0, 0.0), ns=S),
                              sm.tf("odom", "base", (0.0, 1.0, 0.0), ns=S),
                              sm.tf("elsewhere", "lost", ns=S)), S)
    v.submit("/m", marker_bytes("a", 1), S)
    v.submit("/m", marker_bytes("b:odd ns", 2, frame="base"), S)
    v.submit("/arr", array_bytes(("c", 1), ("c", 2), ("a", 3)), S)
    v.add_topic(Subscription("/plan", PATH))
    v.submit("/plan", path_bytes(), S)
    return v


@pytest.fixture
def view() -> LiveView:
    return filled_view()


@pytest.mark.parametrize("marker_lists", [True, False], ids=["lists", "a node per marker"])
def test_each_display_owns_exactly_what_it_drew(marker_lists: bool):
    view = filled_view(marker_lists)
    data = status(view)
    check(data)
    entries = by_id(data["displays"])
    keys = scene_keys(view)
    ns_a = entries["Marker:/m/a"]
    ns_b = entries["Marker:/m/b:odd ns"]
    ns_c = entries["MarkerArray:/arr/c"]
    assert {e["name"] for e in entries["Marker:/m"]["children"]} == {"a", "b:odd ns"}
    # "a" came on both topics: listed under each
    assert {e["name"] for e in entries["MarkerArray:/arr"]["children"]} == {"a", "c"}

    def owned(entry: dict[str, Any]) -> set[str]:
        return {k for k in keys if any(owns(p, k) for p in entry["keys"])}

    assert owned(ns_a) and all(k.startswith("marker:a:") for k in owned(ns_a))
    if marker_lists:   # the cubes of a namespace in a frame group: one MarkerList (not
        # frame-locked, so placed in the fixed frame's group whatever their header's frame)
        assert owned(ns_a) == {marker_list_key("map", "a", 1)}
        assert owned(ns_b) == {marker_list_key("map", "b:odd ns", 1)}
        assert owned(ns_c) == {marker_list_key("map", "c", 1)}
    else:
        assert {k.split("#")[0] for k in owned(ns_a)} == {"marker:a:1", "marker:a:3"}
        assert {k.split("#")[0] for k in owned(ns_b)} == {"marker:b%3Aodd%20ns:2"}
        assert {k.split("#")[0] for k in owned(ns_c)} == {"marker:c:1", "marker:c:2"}
    path = entries["Path:/plan"]
    assert path["messages"] == 1 and owned(path) and all(k.startswith("path:/plan:") for k in owned(path))
    # the frame groups belong to no display
    everything = set().union(*(owned(e) for e in entries.values()))
    assert not any(k.startswith("tf:") for k in everything)
    assert entries["TF"]["keys"] == [] and entries["TF"]["messages"] == 1


def test_a_prefix_does_not_own_a_longer_name():
    assert owns("path:/plan", "path:/plan:0#line")
    assert owns("path:/plan", "path:/plan")
    assert not owns("path:/plan", "path:/planner:0")
    assert not owns("marker:a", "marker:ab:1")


def test_a_namespace_leaves_the_list_when_its_markers_go(view: LiveView):
    status(view)
    view.submit("/m", marker_bytes("b:odd ns", 2, action=2), S)   # DELETE
    entries = by_id(status(view)["displays"])
    assert {e["name"] for e in entries["Marker:/m"]["children"]} == {"a"}


def test_frames_say_which_are_in_the_scene(view: LiveView):
    frames = {f["name"]: f for f in status(view)["frames"]}
    assert frames["base"] == {"name": "base", "parent": "odom", "key": "tf:base"}
    assert frames["map"]["parent"] is None and frames["map"]["key"] == "tf:map"
    assert frames["lost"]["key"] is None and frames["lost"]["parent"] == "elsewhere"


def test_time_rates_and_problems(view: LiveView):
    data = status(view)
    assert data["simTime"] is True and data["time"] == pytest.approx(1.0)
    assert data["fixedFrame"] == "map" and data["imageRateTarget"] == 10.0
    assert data["sceneRate"] > 0
    view.submit("/m", marker_bytes("bad", 1, frame="nowhere"), S)
    view.submit("/tf", sm.tf_msg(sm.tf("map", "map", ns=S)), S)   # a frame its own parent
    data = status(view)
    assert data["problems"] >= 1 and data["problems"] == len(view.player.problems)
    assert 1 <= len(data["recentProblems"]) <= 5
    assert data["recentProblems"][-1] == view.player.problems.active()[-1].message


def test_camera_and_rviz_view():
    v, _ = make_view(eye=(3.0, -2.0, 2.0), target=(0.5, 0.0, 0.0), fov=60.0, width=320, height=240)
    data = status(v)
    cam = data["camera"]
    want = RenderCamera.look_at((3.0, -2.0, 2.0), (0.5, 0.0, 0.0), width=320, height=240,
                                fov_y=60.0, near=0.05, far=100.0)
    assert cam["frame"] == "map" and cam["key"] == "tf:map"
    assert np.allclose(cam["position"], want.position)
    assert np.allclose(cam["quaternion"], want.three_quaternion())
    assert (cam["fov"], cam["width"], cam["height"]) == (60.0, 320, 240)
    rviz = data["rvizView"]
    assert np.allclose(rviz["position"], rviz_orbit_camera().position)
    assert np.allclose(rviz["position"], [5.0, 5.0, 5.0 * math.sqrt(2.0)])
    assert rviz["target"] == [0.0, 0.0, 0.0] and rviz["fov"] == pytest.approx(45.0)


def test_a_camera_on_a_frame_names_it():
    v, _ = make_view(camera_frame="cam")
    cam = status(v)["camera"]
    assert cam["frame"] == "cam" and cam["key"] is None   # no TF for it yet
    v.submit("/tf", sm.tf_msg(sm.tf("map", "cam", (1.0, 0.0, 0.0), ns=S)), S)
    assert status(v)["camera"]["key"] == "tf:cam"


def test_check_names_a_stray_field():
    with pytest.raises(ValueError, match="status.displays\\[0\\].*extra \\['colour'\\]"):
        check({**{f.name: None for f in TABLES["status"]},
               "displays": [{**{f.name: [] for f in TABLES["display"]}, "colour": 1}]})


def test_a_columns_array_is_noted_without_making_its_markers(view: LiveView):
    """The panel's namespaces come from a MarkerArray's columns: noting a 1,000-marker
    array at 10 Hz must not build its 1,000 message objects (cdr/marker_columns.py)."""
    from vuer_ros.cdr import ArrayDecoder
    from vuer_ros.view.kinds import MARKER_ARRAY

    msg = ArrayDecoder().decode(array_bytes(*[("d", i) for i in range(50)], ("e", 0)))
    assert msg.columns is not None
    view.status.note("/arr", MARKER_ARRAY, msg)
    assert msg._markers is None
    entries = by_id(status(view)["displays"])
    assert {e["name"] for e in entries["MarkerArray:/arr"]["children"]} >= {"a", "c"}
    assert set(view.status._namespaces["/arr"]) >= {"d", "e"}
