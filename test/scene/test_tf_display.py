"""The TF display in the scene (rviz's TF display: tf_display.cpp, frame_info.cpp): axes,
names and parent arrows in the frame groups, with rviz's sizes and colours; a moving
frame costs only its own arrow; frames appearing, leaving and re-rooting keep the
browser equal to the model; rviz's frame timeout; the filters; the camera's frames.
Checked by applying the events to a SceneTree, as the browser does."""

from __future__ import annotations

import math

import pytest
from scene_msgs import Browser, S, tf, tf_msg
from test_scene_model import assert_browser_matches_model

from vuer_ros.displays import TF
from vuer_ros.scene import SceneModel
from vuer_ros.scene.tf_display import TfDisplay
from vuer_ros.scene.transform import quat_rotate


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def make(fixed: str = "map", hidden=(), **options):
    model = SceneModel(fixed)
    display = model.add_display(TfDisplay(model.frames, model.problems,
                                          {**TF.defaults(), **options}, hidden))
    model.advance(0)
    return model, display, Browser(model)


def drawn(b: Browser) -> set[str]:
    """Frames whose TF display group the browser has."""
    return {key[len("tfd:"):] for key in b.tree._nodes if key.startswith("tfd:") and "#" not in key}


def children(b: Browser, key: str) -> list[str]:
    return [c["key"] for c in b.node(key).get("children", [])]


def test_axes_of_every_frame_that_reaches_the_fixed_frame_and_none_without_tf():
    model, _, b = make()
    b.sync()
    assert drawn(b) == set()          # no TF: not even the fixed frame gets axes
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S), tf("odom", "base", (0, 1, 0), ns=S),
                       tf("elsewhere", "lost", ns=S)))
    b.sync()
    assert drawn(b) == {"map", "odom", "base"}
    assert b.parent("tfd:odom") == "tf:odom"
    assert children(b, "tfd:base") == ["tfd:base#x", "tfd:base#y", "tfd:base#z", "tfd:base#arrow"]
    assert_browser_matches_model(b)


def test_axes_are_rvizs_red_green_blue_cylinders_0_2_long_0_02_thick():
    model, _, b = make()
    model.on_tf(tf_msg(tf("map", "odom", ns=S)))
    b.sync()
    x, y, z = (b.node(f"tfd:odom#{a}") for a in "xyz")
    for node, colour, tip in ((x, "#ff0000", (1, 0, 0)), (y, "#00ff00", (0, 1, 0)),
                              (z, "#0000ff", (0, 0, 1))):
        assert node["tag"] == "Cylinder" and node["args"][:3] == [0.5, 0.5, 1.0]
        assert node["scale"] == pytest.approx([0.02, 0.2, 0.02])
        assert node["material"]["color"] == colour and node["materialType"] == "lambert"
        # the cylinder's axis (local +Y) runs from the origin to 0.2 along the frame's axis
        q = tuple(node.get("quaternion", (0, 0, 0, 1)))
        axis = quat_rotate(q, (0.0, 0.2, 0.0))
        centre = node["position"]
        assert [c + a / 2 for c, a in zip(centre, axis)] == pytest.approx([0.2 * t for t in tip])
        assert [c - a / 2 for c, a in zip(centre, axis)] == pytest.approx([0, 0, 0], abs=1e-12)


def test_marker_scale_scales_axes_names_and_arrows():
    model, _, b = make(marker_scale=2.0, show_names=True)
    model.on_tf(tf_msg(tf("map", "odom", (3, 0, 0), ns=S)))
    b.sync()
    assert b.node("tfd:odom#x")["scale"] == pytest.approx([0.04, 0.4, 0.04])
    name = b.node("tfd:odom#name")
    assert (name["tag"], name["text"], name["fontSize"]) == ("Text", "odom", pytest.approx(0.2))
    assert name["billboard"] is True and (name["anchorX"], name["anchorY"]) == ("center", "top")
    assert name["material"]["color"] == "#ffffff"
    assert b.node("tfd:odom#shaft")["scale"] == pytest.approx([0.02, 2.8, 0.02])
    assert b.node("tfd:odom#head")["scale"] == pytest.approx([0.08, 0.2, 0.08])


def arrow_tip(b: Browser, frame: str) -> tuple[float, float, float]:
    """Where the arrow of ``frame`` ends, in the frame (its group's rotation applied)."""
    arrow = b.node(f"tfd:{frame}#arrow")
    shaft, head = b.node(f"tfd:{frame}#shaft"), b.node(f"tfd:{frame}#head")
    length = shaft["scale"][1] + head["scale"][1]
    assert head["position"][1] == pytest.approx(shaft["scale"][1] + head["scale"][1] / 2)
    return quat_rotate(tuple(arrow["quaternion"]), (0.0, length, 0.0))


def test_the_arrow_runs_from_the_frame_to_its_parents_origin_in_rvizs_colours():
    model, _, b = make()
    # base sits at (1, 2, 0) in odom, turned 90 degrees: odom's origin is at (-2, 1, 0) in base
    model.on_tf(tf_msg(tf("map", "odom", ns=S), tf("odom", "base", (1, 2, 0), yaw(90), ns=S)))
    b.sync()
    assert arrow_tip(b, "base") == pytest.approx((-2.0, 1.0, 0.0))
    shaft, head = b.node("tfd:base#shaft"), b.node("tfd:base#head")
    assert (shaft["tag"], head["tag"]) == ("Cylinder", "Cone")
    assert shaft["scale"][0] == pytest.approx(0.01) and head["scale"][0] == pytest.approx(0.04)
    assert head["scale"][1] == pytest.approx(0.1)
    assert shaft["material"]["color"] == "#cccc4d" and head["material"]["color"] == "#ff1a99"
    # no arrow for a root, nor for a parent closer than 1 mm (odom is at map's origin)
    assert b.node("tfd:map#arrow") is None and b.node("tfd:odom#arrow") is None


def test_a_short_arrow_has_a_head_of_a_tenth_of_its_length():
    model, _, b = make()
    model.on_tf(tf_msg(tf("map", "near", (0.05, 0, 0), ns=S)))
    b.sync()
    assert b.node("tfd:near#head")["scale"][1] == pytest.approx(0.005)
    assert arrow_tip(b, "near") == pytest.approx((-0.05, 0, 0))


def test_a_moving_frame_moves_its_axes_with_its_group_and_updates_only_its_arrow():
    model, _, b = make()
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S), tf("odom", "laser", (0, 0, 1))),
                static=False)
    b.sync()
    model.on_tf(tf_msg(tf("map", "odom", (2, 1, 0), yaw(30), ns=2 * S)))
    model.advance(2 * S)
    events = b.sync()
    assert [e.etype for e in events] == ["UPDATE", "UPDATE"]
    assert [n["key"] for n in events[0].data["nodes"]] == ["tf:odom"]          # the group moves
    assert {n["key"] for n in events[1].data["nodes"]} == {
        "tfd:odom#arrow", "tfd:odom#shaft", "tfd:odom#head"}                    # its arrow only
    back = quat_rotate((0, 0, -math.sin(math.radians(15)), math.cos(math.radians(15))), (-2, -1, 0))
    assert arrow_tip(b, "odom") == pytest.approx(back)
    assert_browser_matches_model(b)


def test_frames_appearing_leaving_and_re_rooting_keep_the_axes_right():
    model, _, b = make()
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S), tf("odom", "base", (0, 1, 0), ns=S)))
    b.sync()
    model.on_tf(tf_msg(tf("base", "arm", (0, 0, 1), ns=S)))                     # appears
    b.sync()
    assert "arm" in drawn(b)
    assert_browser_matches_model(b)
    model.on_tf(tf_msg(tf("island", "base", (0, 0, 0.5), ns=2 * S)))          # leaves (re-parented)
    b.sync()
    assert drawn(b) == {"map", "odom"}
    assert_browser_matches_model(b)
    model.on_tf(tf_msg(tf("odom", "island", (5, 0, 0), ns=2 * S)))            # comes back
    b.sync()
    assert drawn(b) == {"map", "odom", "island", "base", "arm"}
    assert arrow_tip(b, "base") == pytest.approx((0, 0, -0.5))                 # to its new parent
    assert_browser_matches_model(b)
    model.set_fixed_frame("base")                                               # re-rooted: a SET
    (ev,) = b.sync()
    assert ev.etype == "SET"
    assert drawn(b) == {"map", "odom", "island", "base", "arm"}
    assert b.parent("tfd:odom") == "tf:odom" and b.parent("tf:island") == "tf:base"
    assert arrow_tip(b, "base") == pytest.approx((0, 0, -0.5))                 # still to its TF parent
    assert_browser_matches_model(b)


def test_the_fixed_frame_gets_axes_when_tf_names_it_later():
    model, _, b = make()
    model.on_tf(tf_msg(tf("odom", "base", ns=S)))    # not connected to map
    b.sync()
    assert drawn(b) == set()
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    b.sync()
    assert drawn(b) == {"map", "odom", "base"}
    assert_browser_matches_model(b)


@pytest.mark.parametrize("options,want", [
    ({"show_axes": False}, ["tfd:odom#arrow"]),
    ({"show_arrows": False}, ["tfd:odom#x", "tfd:odom#y", "tfd:odom#z"]),
    ({"show_names": True}, ["tfd:odom#x", "tfd:odom#y", "tfd:odom#z", "tfd:odom#name",
                            "tfd:odom#arrow"]),
])
def test_each_option_turns_its_part_on_or_off(options, want):
    model, _, b = make(**options)
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    b.sync()
    assert children(b, "tfd:odom") == want


def test_the_filters_are_searched_anywhere_in_the_name_and_the_camera_frames_are_left_out():
    model, display, b = make(filter_whitelist="base|arm", filter_blacklist="^arm_",
                             hidden=["base_cam"])
    model.on_tf(tf_msg(tf("map", "base_link", ns=S), tf("base_link", "arm_1", ns=S),
                       tf("base_link", "forearm", ns=S), tf("base_link", "base_cam", ns=S)))
    b.sync()
    assert drawn(b) == {"base_link", "forearm"}
    display.set_hidden([])
    b.sync()
    assert drawn(b) == {"base_link", "forearm", "base_cam"}
    assert_browser_matches_model(b)


def test_a_bad_regular_expression_is_reported_once_and_ignored():
    model, display, b = make(filter_blacklist="(")
    assert [p.message for p in model.problems.active()] == [
        "TF display: filter_blacklist '(' is not a regular expression (missing ), unterminated "
        "subpattern at position 0); ignored"]
    model.on_tf(tf_msg(tf("map", "odom", ns=S)))
    b.sync()
    assert drawn(b) == {"map", "odom"}


def colours(b: Browser, frame: str) -> tuple[str, float, bool]:
    m = b.node(f"tfd:{frame}#x")["material"]
    return m["color"], m["opacity"], b.node(f"tfd:{frame}").get("visible", True)


def test_a_frame_not_updated_turns_grey_fades_out_and_is_hidden_after_the_timeout():
    model, _, b = make(frame_timeout=15.0)
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    model.on_tf(tf_msg(tf("map", "table", (0, 1, 0))), static=True)
    model.advance(S)
    b.sync()
    seen = {}
    for t in (5.5, 6.5, 8.5, 11.5, 13.5, 16.5):      # seconds; its stamp last changed at 1 s
        model.advance(round(t * S))
        b.sync()
        seen[t] = colours(b, "odom")
        assert colours(b, "table") == ("#ff0000", 1.0, True)   # static: never ages
        assert_browser_matches_model(b)
    def rgb(hex_colour: str) -> list[float]:
        return [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]

    def lerp(t: float) -> list[float]:   # rviz's lerpColor(red, grey, t)
        return [c * t + 0.7 * (1 - t) for c in (1.0, 0.0, 0.0)]

    assert seen[5.5] == ("#ff0000", 1.0, True)                  # a third: as new
    # the second third: from red towards grey 0.7, t = (2/3 timeout - age) / (1/3 timeout)
    assert rgb(seen[6.5][0]) == pytest.approx(lerp(0.9), abs=0.01) and seen[6.5][1:] == (1.0, True)
    assert rgb(seen[8.5][0]) == pytest.approx(lerp(0.5), abs=0.01) and seen[8.5][1:] == (1.0, True)
    # the last third: grey, fading out, alpha = (timeout - age) / (1/3 timeout)
    assert seen[11.5][0] == "#b3b3b3" and seen[11.5][1] == pytest.approx(0.9, abs=0.01)
    assert seen[13.5][0] == "#b3b3b3" and seen[13.5][1] == pytest.approx(0.5, abs=0.01)
    assert seen[16.5][2] is False                               # hidden
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=17 * S)))   # published again
    model.advance(17 * S)
    b.sync()
    assert colours(b, "odom") == ("#ff0000", 1.0, True)
    assert_browser_matches_model(b)


def test_a_frame_that_does_not_age_sends_nothing_on_later_drains():
    model, _, b = make()
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0))), static=True)
    b.sync()
    for t in (1, 10, 100):
        model.advance(t * S)
        assert b.sync() == []
