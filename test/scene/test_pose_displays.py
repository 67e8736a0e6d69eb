"""What the Path, Pose, PoseArray, PointStamped, Polygon and Odometry displays send: rviz's
shapes and sizes for each option, Odometry's trail (keep N, tolerances) and covariance
shapes, and bad input each logged once with the topic and the offending key, skipped while
the rest flows. Through the kinds' real attach; events applied to a SceneTree."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from pose_msgs import PoseMsgs, yaw
from scene_msgs import TS, Browser, S, tf, tf_msg
from test_scene_model import assert_browser_matches_model

from vuer_ros.scene import SceneModel
from vuer_ros.scene.transform import Transform, quat_rotate
from vuer_ros.view.kinds import KINDS

M = PoseMsgs(lambda name: TS.types[name])
Y_TO_X = [0.0, 0.0, -math.sqrt(0.5), math.sqrt(0.5)]


@pytest.fixture
def scene():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1.0, 2.0, 0.0), yaw(math.pi / 2))), static=True)
    b.sync()
    return model, b


def attach(model, kind, topic, **options):
    return KINDS[kind].attach(model, topic, options)


def children(b, key):
    node = b.node(key)
    assert node is not None, key
    return {c["key"].split("#", 1)[1]: c for c in node.get("children", [])}


def logged(caplog, topic):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(topic + ":")]


def points_of(line):
    return np.frombuffer(line["points"], dtype="<f4").reshape(-1, 3)


# -- Pose ------------------------------------------------------------------------------------------
def test_pose_arrow_has_rvizs_sizes_and_colour(scene):
    model, b = scene
    attach(model, "pose", "/goal")(M.pose_stamped("map", (1.0, 0.0, 0.0)), S)
    b.sync()
    parts = children(b, "pose:/goal:0")
    shaft, head = parts["shaft"], parts["head"]
    # Shaft Length 1, "Shaft Radius" 0.05 (drawn as the diameter), Head Length 0.3, "Head Radius" 0.1
    assert shaft["tag"] == "Cylinder" and shaft["scale"] == [0.05, 1.0, 0.05]
    assert shaft["position"] == [0.5, 0.0, 0.0] and shaft["quaternion"] == pytest.approx(Y_TO_X)
    assert head["tag"] == "Cone" and head["scale"] == [0.1, 0.3, 0.1]
    assert head["position"] == [1.15, 0.0, 0.0]
    assert shaft["material"]["color"] == head["material"]["color"] == "#ff1900"   # (255, 25, 0)


def test_pose_axes_are_red_green_blue_along_xyz(scene):
    model, b = scene
    attach(model, "pose", "/axes", shape="Axes", axes_length=2.0, axes_radius=0.2)(
        M.pose_stamped("map"), S)
    b.sync()
    parts = children(b, "pose:/axes:0")
    assert set(parts) == {"x", "y", "z"}
    for name, colour, centre in (("x", "#ff0000", [1, 0, 0]), ("y", "#00ff00", [0, 1, 0]),
                                 ("z", "#0000ff", [0, 0, 1])):
        c = parts[name]
        assert c["material"]["color"] == colour and c["scale"] == [0.2, 2.0, 0.2]
        assert c["position"] == pytest.approx(centre)
        q = c.get("quaternion", [0, 0, 0, 1])
        axis = quat_rotate(tuple(q), (0.0, 1.0, 0.0))   # the cylinder's own axis
        assert axis == pytest.approx(tuple(centre), abs=1e-12)


def test_pose_bad_input_is_logged_once_and_skipped(scene, caplog):
    model, b = scene
    on = attach(model, "pose", "/bad")
    on(M.pose_stamped("map", (1.0, 0.0, 0.0)), S)
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        for _ in range(3):
            on(M.pose_stamped("map", (math.nan, 0.0, 0.0)), S)
            on(M.pose_stamped("map", (5.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)), S)
        b.sync()
        assert b.node("pose:/bad:0")["position"] == [1.0, 0.0, 0.0]    # the last good one stays
        for _ in range(3):
            on(M.pose_stamped("map", (2.0, 0.0, 0.0), (0.0, 0.0, 0.0, 2.0)), S)
    assert logged(caplog, "/bad") == [
        "/bad: pose.position.x is nan; skipped",
        "/bad: pose.orientation is all zeros; not drawn",
        "/bad: pose.orientation has length 2, not 1; normalised"]
    b.sync()
    assert b.node("pose:/bad:0")["position"] == [2.0, 0.0, 0.0]


# -- PoseArray ---------------------------------------------------------------------------------------
POSES = [((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)), ((1.0, 0.0, 0.0), yaw(math.pi / 2))]


def test_pose_array_flat_arrows_are_one_line_of_segments(scene):
    model, b = scene
    attach(model, "pose_array", "/particles")(M.pose_array("odom", POSES), S)
    b.sync()
    group = b.node("pose_array:/particles:0")
    assert group["position"] == pytest.approx([1.0, 2.0, 0.0])              # odom in map
    (line,) = children(b, "pose_array:/particles:0").values()
    assert line["tag"] == "Line" and line["segments"] is True and line["lineWidth"] == 1.0
    assert line.get("worldUnits") is False and line["material"]["color"] == "#ff1900"
    pts = points_of(line)
    L = 0.3   # Arrow Length
    want = [(0, 0, 0), (L, 0, 0), (L, 0, 0), (0.75 * L, 0.2 * L, 0), (L, 0, 0), (0.75 * L, -0.2 * L, 0),
            (1, 0, 0), (1, L, 0), (1, L, 0), (1 - 0.2 * L, 0.75 * L, 0), (1, L, 0), (1 + 0.2 * L, 0.75 * L, 0)]
    np.testing.assert_allclose(pts, want, atol=1e-6)


def test_pose_array_3d_arrows_and_axes_sit_at_each_pose(scene):
    model, b = scene
    attach(model, "pose_array", "/a3", shape="Arrow (3D)")(M.pose_array("map", POSES), S)
    attach(model, "pose_array", "/ax", shape="Axes")(M.pose_array("map", POSES), S)
    b.sync()
    arrows = children(b, "pose_array:/a3:0")
    assert sorted(arrows) == ["head.0", "head.1", "shaft.0", "shaft.1"]
    # Shaft Length 0.23, "Shaft Radius" 0.01, Head Length 0.07, "Head Radius" 0.03
    assert arrows["shaft.1"]["scale"] == [0.01, 0.23, 0.01] and arrows["head.1"]["scale"] == [0.03, 0.07, 0.03]
    assert arrows["shaft.1"]["position"] == pytest.approx([1.0, 0.115, 0.0])   # pose 1 faces +Y
    assert arrows["head.1"]["position"] == pytest.approx([1.0, 0.23 + 0.035, 0.0])
    axes = children(b, "pose_array:/ax:0")
    assert sorted(axes) == ["x.0", "x.1", "y.0", "y.1", "z.0", "z.1"]
    assert axes["x.1"]["scale"] == [0.01, 0.3, 0.01]
    assert axes["x.1"]["position"] == pytest.approx([1.0, 0.15, 0.0])


def test_pose_array_hides_a_zero_quaternion_pose_and_refuses_nan(scene, caplog):
    model, b = scene
    on = attach(model, "pose_array", "/pa", shape="Axes")
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        on(M.pose_array("map", [POSES[0], ((2.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))]), S)
        b.sync()
        assert sorted(children(b, "pose_array:/pa:0")) == ["x.0", "y.0", "z.0"]
        on(M.pose_array("map", [POSES[0], ((2.0, math.inf, 0.0), POSES[0][1])]), S)
    assert logged(caplog, "/pa") == ["/pa: poses[1].orientation is all zeros; not drawn",
                                     "/pa: poses[1].position.y is inf; skipped"]


# -- Path ---------------------------------------------------------------------------------------------
PATH = [((0.0, 0.0, 0.0), (0, 0, 0, 1)), ((1.0, 0.0, 0.0), (0, 0, 0, 1)), ((1.0, 1.0, 0.5), yaw(1.0))]


def test_path_is_a_line_through_the_positions_placed_by_the_path_header(scene):
    model, b = scene
    # the poses say another frame: rviz reads the path's header only
    attach(model, "path", "/plan")(M.path("odom", PATH, pose_frame="elsewhere"), S)
    b.sync()
    assert b.node("path:/plan:0")["position"] == pytest.approx([1.0, 2.0, 0.0])
    (line,) = children(b, "path:/plan:0").values()
    np.testing.assert_allclose(points_of(line), [p for p, _ in PATH])
    assert line["segments"] is False and line["lineWidth"] == 1.0 and line["worldUnits"] is False
    assert line["material"] == {"color": "#19ff00", "opacity": 1.0, "transparent": False}


def test_path_billboards_pose_arrows_offset_and_buffer(scene):
    model, b = scene
    on = attach(model, "path", "/p", line_style="Billboards", line_width=0.1, pose_style="Arrows",
                offset=[0.0, 0.0, 1.0], buffer_length=2, alpha=0.5)
    on(M.path("map", PATH), S)
    b.sync()
    parts = children(b, "path:/p:0")
    assert parts["line"]["worldUnits"] is True and parts["line"]["lineWidth"] == 0.1
    assert parts["line"]["material"]["transparent"] is True
    assert b.node("path:/p:0")["position"] == [0.0, 0.0, 1.0]
    # Shaft Length 0.1, Shaft Diameter 0.1, Head Length 0.2, Head Diameter 0.3, Pose Color (255, 85, 255)
    assert parts["shaft.2"]["scale"] == [0.1, 0.1, 0.1] and parts["head.2"]["scale"] == [0.3, 0.2, 0.3]
    assert parts["shaft.2"]["material"]["color"] == "#ff55ff"
    head = Transform((1.0, 1.0, 0.5), yaw(1.0)).apply((0.2, 0.0, 0.0))
    assert parts["head.2"]["position"] == pytest.approx(list(head))
    on(M.path("map", PATH[:2]), S)
    on(M.path("map", PATH[:1]), S)                 # one point: no line, one arrow
    b.sync()
    kept = [children(b, f"path:/p:{i}") for i in (0, 1) if b.node(f"path:/p:{i}")]
    assert sorted(len(k) for k in kept) == [2, 5]     # the last two paths: 1 and 2 poses
    assert_browser_matches_model(b)


def test_empty_and_nan_paths_are_logged_once(scene, caplog):
    model, b = scene
    on = attach(model, "path", "/p")
    on(M.path("map", PATH), S)
    b.sync()
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        for _ in range(3):
            on(M.path("map", [((0.0, math.nan, 0.0), (0, 0, 0, 1))] + PATH), S)
        b.sync()
        assert b.node("path:/p:0") is not None                         # the good path stays
        for _ in range(3):
            on(M.path("map", []), S)
        b.sync()
    assert b.node("path:/p:0") is None                                  # empty: nothing shown
    assert logged(caplog, "/p") == ["/p: poses[0].pose.position.y is nan; skipped",
                                    "/p: the path has no poses; nothing drawn"]
    on(M.path("map", PATH), S)
    b.sync()
    assert b.node("path:/p:0") is not None
    assert_browser_matches_model(b)


# -- PointStamped and Polygon -----------------------------------------------------------------------
def test_point_is_a_sphere_as_wide_as_the_radius_option(scene):
    model, b = scene
    attach(model, "point_stamped", "/pt")(M.point_stamped("map", (1.0, 2.0, 3.0)), S)
    b.sync()
    assert b.node("point:/pt:0")["position"] == [1.0, 2.0, 3.0]
    (sphere,) = children(b, "point:/pt:0").values()
    assert sphere["tag"] == "Sphere" and sphere["args"][0] == 0.5 and sphere["scale"] == [0.2, 0.2, 0.2]
    assert sphere["material"]["color"] == "#cc29cc"                    # (204, 41, 204)


def test_polygon_is_a_closed_line_and_too_few_points_clear_it(scene, caplog):
    model, b = scene
    on = attach(model, "polygon", "/footprint")
    square = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)]
    on(M.polygon("map", square), S)
    b.sync()
    (line,) = children(b, "polygon:/footprint:0").values()
    np.testing.assert_allclose(points_of(line), square + [square[0]])
    assert line["segments"] is False and line["lineWidth"] == 1.0 and line["material"]["color"] == "#19ff00"
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        on(M.polygon("map", [(0.0, math.nan, 0.0)] + square), S)
        b.sync()
        assert b.node("polygon:/footprint:0") is not None
        on(M.polygon("map", square[:1]), S)
        on(M.polygon("map", []), S)
        b.sync()
    assert b.node("polygon:/footprint:0") is None
    assert logged(caplog, "/footprint") == [
        "/footprint: polygon.points[0].y is nan; skipped",
        "/footprint: the polygon has 1 point; a polygon needs at least 2; nothing drawn"]


# -- Odometry ---------------------------------------------------------------------------------------
def test_odometry_keeps_the_last_n_and_drops_poses_within_tolerance(scene):
    model, b = scene
    on = attach(model, "odometry", "/odom", keep=3)
    xs = [0.0, 0.05, 0.2, 0.25, 0.5, 0.8]    # 0.05 and 0.25 are within 0.1 m of the last drawn
    for i, x in enumerate(xs):
        on(M.odometry("map", (x, 0.0, 0.0), ns=(i + 1) * S), (i + 1) * S)
    b.sync()
    shown = sorted(b.node(f"odometry:/odom:{i}")["position"][0] for i in range(3))
    assert shown == [0.2, 0.5, 0.8] and b.node("odometry:/odom:3") is None
    # turned beyond angle_tolerance (0.1 rad) at the same place: drawn; within: not
    on(M.odometry("map", (0.8, 0.0, 0.0), yaw(0.05), ns=8 * S), 8 * S)
    on(M.odometry("map", (0.8, 0.0, 0.0), yaw(0.3), ns=9 * S), 9 * S)
    b.sync()
    turned = [b.node(f"odometry:/odom:{i}")["quaternion"] for i in range(3)]
    assert sum(q == pytest.approx(list(yaw(0.3))) for q in turned) == 1
    assert not any(q == pytest.approx(list(yaw(0.05))) for q in turned)
    assert_browser_matches_model(b)


def test_odometry_refuses_nan_covariance_and_unnormalised_quaternions(scene, caplog):
    model, b = scene
    on = attach(model, "odometry", "/odom")
    cov = np.zeros(36)
    cov[7] = math.nan
    with caplog.at_level(logging.WARNING, "vuer_ros.scene"):
        for _ in range(2):
            on(M.odometry("map", (1.0, 0.0, 0.0), covariance=cov), S)
            on(M.odometry("map", (2.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)), S)
            on(M.odometry("map", (3.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.2)), S)
        on(M.odometry("map", (4.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.004)), S)   # within rviz's 0.01
    assert logged(caplog, "/odom") == [
        "/odom: pose.covariance[7] is nan; skipped",
        "/odom: pose.pose.orientation (0, 0, 0, 0) has squares summing to 0, not 1; skipped"]
    b.sync()
    assert b.node("odometry:/odom:0")["position"] == [4.0, 0.0, 0.0]
    assert b.node("odometry:/odom:1") is None


def semi_axes(sphere):
    """World semi-axes (3, 3) of a scaled, turned unit-diameter sphere element."""
    q = tuple(sphere["quaternion"])
    return np.array([np.array(quat_rotate(q, tuple(np.eye(3)[i]))) * sphere["scale"][i] / 2
                     for i in range(3)])


def test_odometry_position_covariance_is_one_sigma_in_the_header_axes(scene):
    model, b = scene
    on = attach(model, "odometry", "/odom", covariance_orientation=False)
    rot = np.array([[math.cos(0.4), -math.sin(0.4), 0], [math.sin(0.4), math.cos(0.4), 0], [0, 0, 1]])
    sigma = np.diag([0.5, 0.2, 0.1])
    cov = np.zeros((6, 6))
    cov[:3, :3] = rot @ sigma ** 2 @ rot.T
    cov[3:, 3:] = np.eye(3) * 0.01
    # the pose itself is turned: the ellipsoid keeps to the header frame's axes
    on(M.odometry("map", (1.0, 0.0, 0.0), yaw(1.2), covariance=cov.flatten()), S)
    b.sync()
    parts = children(b, "odometry:/odom:0")
    assert set(parts) == {"shaft", "head", "cov_position"}
    ell = parts["cov_position"]
    assert ell["material"] == {"color": "#cc33cc", "opacity": 0.3, "transparent": True}
    group_q = tuple(b.node("odometry:/odom:0")["quaternion"])
    world = np.array([quat_rotate(group_q, tuple(a)) for a in semi_axes(ell)])
    # the semi-axes are the principal standard deviations along the covariance's eigenvectors
    got = sorted(world.tolist(), key=lambda a: -np.linalg.norm(a))
    for axis, s, want in zip(got, [0.5, 0.2, 0.1], rot.T):
        assert np.linalg.norm(axis) == pytest.approx(s)
        assert abs(np.dot(axis, want)) == pytest.approx(s)


def test_odometry_orientation_covariance_discs_and_2d_cone(scene):
    model, b = scene
    on = attach(model, "odometry", "/odom", covariance_position=False, position_tolerance=0.0)
    cov = np.zeros((6, 6))
    cov[2, 2] = 0.01
    cov[3, 3], cov[4, 4], cov[5, 5] = 0.1 ** 2, 0.2 ** 2, 0.3 ** 2
    on(M.odometry("map", covariance=cov.flatten(), ns=S), S)
    b.sync()
    parts = children(b, "odometry:/odom:0")
    assert {"cov_roll", "cov_pitch", "cov_yaw"} <= set(parts)
    roll = parts["cov_roll"]
    assert roll["position"] == pytest.approx([1.0, 0.0, 0.0])           # offset 1 along +X
    assert roll["material"]["color"] == "#ffff7f" and roll["material"]["opacity"] == 0.5
    # its flat side faces +X; across it: pitch and yaw, 2 tan(sigma) wide
    normal = quat_rotate(tuple(roll["quaternion"]), (0.0, 1.0, 0.0))
    assert abs(normal[0]) == pytest.approx(1.0)
    assert sorted([roll["scale"][0], roll["scale"][2]]) == pytest.approx(
        [2 * math.tan(0.2), 2 * math.tan(0.3)])
    assert roll["scale"][1] == 0.001
    # 2D (no z, roll, pitch variance): one flat cone of the yaw, from the pose along +X
    flat = np.zeros((6, 6))
    flat[0, 0], flat[1, 1], flat[5, 5] = 0.04, 0.04, 0.3 ** 2
    on(M.odometry("map", (2.0, 0.0, 0.0), covariance=flat.flatten(), ns=2 * S), 2 * S)
    b.sync()
    parts = children(b, "odometry:/odom:1")
    assert set(parts) == {"shaft", "head", "cov_yaw"} and parts["cov_yaw"]["tag"] == "Cone"
    cone = parts["cov_yaw"]
    assert cone["position"] == pytest.approx([0.49115, 0.0, 0.0])
    assert cone["scale"] == pytest.approx([2 * math.tan(0.3), 1.0, 0.001])
    tip = np.array(quat_rotate(tuple(cone["quaternion"]), (0.0, 0.5, 0.0))) + cone["position"]
    assert tip == pytest.approx([-0.00885, 0.0, 0.0], abs=1e-5)         # the tip at the pose


def test_zero_covariance_draws_only_the_arrow(scene):
    model, b = scene
    attach(model, "odometry", "/odom")(M.odometry("map"), S)
    b.sync()
    assert set(children(b, "odometry:/odom:0")) == {"shaft", "head"}
