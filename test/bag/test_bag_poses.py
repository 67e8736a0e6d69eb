"""The pose displays through render-bag: real bags (rosbags) of Path, PoseStamped, PoseArray,
PointStamped, PolygonStamped and Odometry, rendered by real Chromium, read back as a ROS
user reads the output bag. What each draws lands where the pinhole model from
/vuer/camera_info and the camera's /tf_static puts it (centroids within 2 px); a message in
a moving frame is drawn where the frame was at its stamp and stays there; Odometry keeps the
last N and skips poses within its tolerances; bad input is logged once per topic and cause
while the rest renders."""

from __future__ import annotations

import asyncio
import logging
import math

import numpy as np
import pytest
from bag_helpers import camera_from_output, image_array, read_bag
from pose_msgs import PoseMsgs, yaw
from pose_pixels import (
    arrow_parts,
    axes_parts,
    centroid,
    centroid_error,
    hue_mask,
    hull_mask,
    line_fit,
    sphere,
    tube,
)

from vuer_ros.bag import Renderer, RenderOptions, render_bag_async
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag
from vuer_ros.scene.transform import Transform

W, H, FOV, RATE = 400, 300, 50.0, 10.0
EYE, TARGET = (1.0, -2.0, 4.0), (0.0, 0.0, 0.0)
S = 1_000_000_000
STORE = typestore()
M = PoseMsgs(lambda name: STORE.types[name])
F = MessageFactory(STORE)
TYPES = {"/goal": "geometry_msgs/msg/PoseStamped", "/goal_axes": "geometry_msgs/msg/PoseStamped",
         "/particles": "geometry_msgs/msg/PoseArray", "/plan": "nav_msgs/msg/Path",
         "/wide_plan": "nav_msgs/msg/Path", "/clicked": "geometry_msgs/msg/PointStamped",
         "/footprint": "geometry_msgs/msg/PolygonStamped", "/odom": "nav_msgs/msg/Odometry",
         "/odom_cov": "nav_msgs/msg/Odometry"}
RED, GREEN, BLUE = (255, 25, 0), (25, 255, 0), (0, 0, 255)   # Pose/Odometry, Path/Polygon
AXIS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
MAGENTA = (204, 41, 204)                                      # PointStamped
POSE_ARROW = (1.0, 0.05, 0.3, 0.1)   # rviz's Pose defaults: shaft 1 x 0.05, head 0.3 x 0.1


def at(s: float) -> int:
    return T0_NS + round(s * 1e9)


def mover(s: float) -> tuple[float, float, float]:
    return (-1.0 + s, -0.8, 0.0)


def stamped_bag(path):
    """mover moves along +X at 1 m/s; a Pose and a PointStamped (history 3) in it are sent at
    0.05, 0.35 and 0.65 s stamped 0.05, 0.3 and 0.6 s; a polygon stands in the world."""
    msgs = [(at(i * 0.02), "/tf", F.tf_message(F.tf(at(i * 0.02), "world", "mover", mover(i * 0.02))))
            for i in range(51)]
    for sent, stamp in ((0.05, 0.05), (0.35, 0.3), (0.65, 0.6)):
        msgs.append((at(sent), "/goal", M.pose_stamped("mover", (0.0, 0.0, 0.2), yaw(0.5), ns=at(stamp))))
        msgs.append((at(sent), "/clicked", M.point_stamped("mover", (0.0, 0.8, 0.4), ns=at(stamp))))
    msgs.append((at(0.0), "/footprint", M.polygon("world", SQUARE, ns=at(0.0))))
    return write_bag(path, sorted(msgs, key=lambda m: m[0]), STORE, types=TYPES)


SQUARE = [(0.6, 0.4, 0.0), (1.4, 0.4, 0.0), (1.4, 1.2, 0.0), (0.6, 1.2, 0.0)]
PLAN = [(x, 0.6 * math.sin(2 * x), 0.0) for x in np.linspace(-1.5, 1.5, 16)]
WIDE = [(-1.5, -1.0, 0.0), (0.0, -1.2, 0.0), (1.5, -1.0, 0.0)]
PARTICLES = [((x, 1.2, 0.0), yaw(a)) for x, a in ((-1.2, 0.0), (-0.6, 1.0), (0.0, 2.0))]
AXES_POSE = Transform((-0.3, 0.3, 0.0), yaw(0.3))


def one_frame(msgs):
    """Messages at the start, and one more a tick later, so the bag renders one frame."""
    return msgs + [(at(0.1), "/tf", F.tf_message(F.tf(at(0.1), "world", "end", (0, 0, 0))))]


def lines_bag(path):
    return write_bag(path, one_frame([
        (at(0.0), "/plan", M.path("world", [(p, yaw(0)) for p in PLAN], ns=at(0.0))),
        (at(0.0), "/wide_plan", M.path("world", [(p, yaw(0)) for p in WIDE], ns=at(0.0))),
        (at(0.0), "/particles", M.pose_array("world", PARTICLES, ns=at(0.0)))]), STORE, types=TYPES)


def axes_bag(path):
    t, q = AXES_POSE
    return write_bag(path, one_frame([(at(0.0), "/goal_axes", M.pose_stamped("world", t, q, ns=at(0.0)))]),
                     STORE, types=TYPES)


# Odometry, keep 3: A, B, then B' within 0.1 m of B (skipped), C, D, D' turned 0.05 rad
# (skipped), D'' turned 0.5 rad; sent at 0.05 s + 0.1 s * i
ODOM = [("A", (-0.5, -1.2, 0.0), 0.0), ("B", (-0.5, -0.6, 0.0), 0.0), ("B'", (-0.45, -0.6, 0.0), 0.0),
        ("C", (-0.5, 0.0, 0.0), 0.0), ("D", (-0.5, 0.6, 0.0), 0.0), ("D'", (-0.5, 0.6, 0.0), 0.05),
        ("D''", (-0.5, 0.6, 0.0), 0.5)]
COV_POSE = Transform((1.2, 0.9, 0.0), yaw(1.0))
COV_AXES = (0.3, 0.15, 0.5)   # position standard deviations along x', y' turned 0.5 rad in the header frame


def odometry_bag(path):
    msgs = [(at(0.05 + 0.1 * i), "/odom", M.odometry("world", xyz, yaw(a), ns=at(0.05 + 0.1 * i)))
            for i, (_, xyz, a) in enumerate(ODOM)]
    sx, sy, turn = COV_AXES
    r = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    cov = np.zeros((6, 6))
    cov[:2, :2] = r @ np.diag([sx ** 2, sy ** 2]) @ r.T
    t, q = COV_POSE
    msgs.append((at(0.0), "/odom_cov", M.odometry("world", t, q, ns=at(0.0), covariance=cov.flatten())))
    msgs.append((at(0.8), "/tf", F.tf_message(F.tf(at(0.8), "world", "end", (0, 0, 0)))))
    return write_bag(path, sorted(msgs, key=lambda m: m[0]), STORE, types=TYPES)


def bad_bag(path):
    nan_cov = np.zeros(36)
    nan_cov[0] = math.nan
    msgs = []
    for i in range(2):   # every bad message twice: logged once
        t = at(0.05 + 0.05 * i)
        msgs += [(t, "/goal", M.pose_stamped("world", (math.nan, 0.0, 0.0), ns=t)),
                 (t, "/plan", M.path("world", [], ns=t)),
                 (t, "/footprint", M.polygon("world", [(0.0, 0.0, 0.0)], ns=t)),
                 (t, "/odom", M.odometry("world", (0.0, 0.0, 0.0), (0.0, 0.0, 0.3, 0.3), ns=t)),
                 (t, "/odom_cov", M.odometry("world", covariance=nan_cov, ns=t)),
                 (t, "/particles", M.pose_array("world", [((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))], ns=t)),
                 (t, "/clicked", M.point_stamped("", (0.0, 0.0, 0.0), ns=t))]
    # and good ones after: they render
    msgs.append((at(0.2), "/goal", M.pose_stamped("world", (-1.0, 0.0, 0.0), ns=at(0.2))))
    msgs.append((at(0.4), "/tf", F.tf_message(F.tf(at(0.4), "world", "end", (0, 0, 0)))))
    return write_bag(path, msgs, STORE, types=TYPES)


PARAMS = {
    "grid": False, "displays.tf.enabled": False,   # the frames' axes would mix with the colours
    "displays.clicked.type": "PointStamped", "displays.clicked.topic": "/clicked",
    "displays.clicked.history_length": 3,
    "displays.goal_axes.type": "Pose", "displays.goal_axes.topic": "/goal_axes",
    "displays.goal_axes.shape": "Axes",
    "displays.wide.type": "Path", "displays.wide.topic": "/wide_plan",
    "displays.wide.line_style": "Billboards", "displays.wide.line_width": 0.1,
    "displays.wide.color": [0, 0, 255],
    "displays.odom.type": "Odometry", "displays.odom.topic": "/odom", "displays.odom.keep": 3,
    "displays.odom_cov.type": "Odometry", "displays.odom_cov.topic": "/odom_cov",
    "displays.odom_cov.alpha": 0.0, "displays.odom_cov.covariance_position_alpha": 1.0,
    "displays.odom_cov.covariance_orientation": False,
}
BAGS = {"stamped": stamped_bag, "lines": lines_bag, "axes": axes_bag, "odometry": odometry_bag,
        "bad": bad_bag}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("bag-poses")
    options = RenderOptions.create(params=PARAMS, fixed_frame="world", eye=EYE, target=TARGET,
                                   width=W, height=H, fov=FOV, rate=RATE)
    logs = Records()
    scene_logger = logging.getLogger("vuer_ros.scene")

    async def main():
        out = {}
        async with Renderer(W, H) as renderer:
            for name, make in BAGS.items():
                bag = make(root / f"{name}.mcap")
                logs.lines.clear()
                scene_logger.addHandler(logs)
                try:
                    summary = await render_bag_async(bag, root / f"{name}-out.mcap", options=options,
                                                     renderer=renderer)
                finally:
                    scene_logger.removeHandler(logs)
                rendered = read_bag(root / f"{name}-out.mcap")
                frames = [(t - T0_NS, image_array(m)) for t, m, _, _ in rendered["/vuer/image"]]
                out[name] = (summary, frames, camera_from_output(rendered), list(logs.lines))
        return out

    return asyncio.run(asyncio.wait_for(main(), 300))


def test_a_pose_is_drawn_where_its_frame_was_at_its_stamp(renders):
    _, frames, camera, _ = renders["stamped"]
    assert len(frames) == 10
    assert hue_mask(frames[0][1], RED).sum() == 0                     # nothing sent yet
    for t_ns, rgb in frames[1:]:
        t = t_ns / S
        stamp = 0.6 if t >= 0.65 else 0.3 if t >= 0.35 else 0.05
        pose = Transform(mover(stamp)) @ Transform((0.0, 0.0, 0.2), yaw(0.5))
        err, ratio = centroid_error(hue_mask(rgb, RED), camera, arrow_parts(pose, *POSE_ARROW))
        assert err <= 2.0 and 0.6 <= ratio <= 1.5, (t, err, ratio)
    # between messages the frame moved on, the arrow did not
    assert np.array_equal(hue_mask(frames[4][1], RED), hue_mask(frames[6][1], RED))


def test_points_keep_their_history_each_where_its_stamp_put_it(renders):
    _, frames, camera, _ = renders["stamped"]
    for k, stamps in ((3, [0.05]), (5, [0.05, 0.3]), (9, [0.05, 0.3, 0.6])):
        spheres = [sphere(0.2, np.add(mover(s), (0.0, 0.8, 0.4))) for s in stamps]
        err, ratio = centroid_error(hue_mask(frames[k][1], MAGENTA), camera, spheres)
        assert err <= 2.0 and 0.7 <= ratio <= 1.3, (k, err, ratio)


def test_polygon_is_a_closed_one_pixel_line(renders):
    _, frames, camera, _ = renders["stamped"]
    far, covered = line_fit(hue_mask(frames[-1][1], GREEN), camera, SQUARE + SQUARE[:1])
    assert far <= 2.0 and covered >= 0.9, (far, covered)
    assert hue_mask(frames[-1][1], GREEN).sum() < 4 * 250    # about a pixel wide (~220 px long)


def test_path_lines_and_billboards_and_flat_pose_arrows(renders):
    _, ((_, rgb),), camera, _ = renders["lines"]
    thin = hue_mask(rgb, GREEN)
    far, covered = line_fit(thin, camera, PLAN)
    assert far <= 2.0 and covered >= 0.9, (far, covered)
    uv = camera.project(np.asarray(PLAN))
    assert thin.sum() <= 2.0 * np.linalg.norm(np.diff(uv, axis=0), axis=1).sum()   # Lines: 1 pixel
    # Billboards 0.1 m wide: a ribbon as wide as a 0.1 m tube along the path
    wide = hue_mask(rgb, BLUE)
    err, ratio = centroid_error(wide, camera, [tube(0.1, WIDE[i], WIDE[i + 1]) for i in range(2)])
    assert err <= 2.0 and 0.8 <= ratio <= 1.25, (err, ratio)
    # flat arrows: three 1-pixel segments per pose, unlit red (the PoseArray default)
    segs = []
    for (x, y, z), q in PARTICLES:
        pose = Transform((x, y, z), q)
        o, tip, left, right = (pose.apply(p) for p in [(0, 0, 0), (0.3, 0, 0), (0.225, 0.06, 0),
                                                        (0.225, -0.06, 0)])
        segs += [o, tip, tip, left, tip, right]
    far, covered = line_fit(hue_mask(rgb, RED), camera, segs, segments=True)
    assert far <= 2.0 and covered >= 0.85, (far, covered)


def test_pose_axes_are_red_green_blue_cylinders(renders):
    _, ((_, rgb),), camera, _ = renders["axes"]
    parts = axes_parts(AXES_POSE, 1.0, 0.1)     # rviz's Pose defaults: length 1, "radius" 0.1
    for colour, part in zip(AXIS, parts):
        mask = hue_mask(rgb, colour)
        # each axis is partly hidden where the others cross it: compare against what is visible
        want = hull_mask(camera, [part]) & ~np.logical_or.reduce(
            [hull_mask(camera, [p]) for p in parts if p is not part])
        assert np.linalg.norm(centroid(mask & want) - centroid(want)) <= 2.0
        assert (mask & ~hull_mask(camera, [part])).sum() <= 0.05 * mask.sum()


def test_odometry_keeps_the_last_n_and_skips_poses_within_tolerance(renders):
    _, frames, camera, _ = renders["odometry"]
    arrows = {name: arrow_parts(Transform(xyz, yaw(a)), *POSE_ARROW) for name, xyz, a in ODOM}
    # tick k sees the messages sent at 0.05 + 0.1 i for i < k
    for k, shown, gone in ((4, "A B C", "B'"), (5, "B C D", "A"), (7, "C D D''", "B")):
        mask = hue_mask(frames[k][1], RED)
        parts = [p for name in shown.split() for p in arrows[name]]
        err, ratio = centroid_error(mask, camera, parts)
        assert err <= 2.0 and 0.7 <= ratio <= 1.3, (k, err, ratio)
        if gone != "B'":    # B' overlaps B; its absence shows as A still being there at tick 4
            assert (mask & hull_mask(camera, arrows[gone])).sum() == 0, (k, gone)


def test_odometry_position_covariance_is_an_ellipse_in_the_header_axes(renders):
    _, frames, camera, _ = renders["odometry"]
    sx, sy, turn = COV_AXES
    a = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    local = np.stack([sx * np.cos(a), sy * np.sin(a), np.zeros_like(a)], 1)
    r = np.array([[math.cos(turn), -math.sin(turn), 0], [math.sin(turn), math.cos(turn), 0], [0, 0, 1]])
    ellipse = local @ r.T + COV_POSE.translation   # the pose's own yaw (1 rad) does not turn it
    mask = hue_mask(frames[-1][1], (204, 51, 204))
    want = hull_mask(camera, [ellipse])
    assert np.linalg.norm(centroid(mask) - centroid(want)) <= 2.0
    iou = (mask & want).sum() / (mask | want).sum()
    assert iou >= 0.85, iou


def test_bad_input_is_logged_once_per_topic_and_the_rest_renders(renders):
    _, frames, camera, lines = renders["bad"]
    expected = {
        "/goal": "pose.position.x is nan",
        "/plan": "the path has no poses",
        "/footprint": "the polygon has 1 point",
        "/odom": "pose.pose.orientation (0, 0, 0.3, 0.3) has squares summing to 0.18",
        "/odom_cov": "pose.covariance[0] is nan",
        "/particles": "poses[0].orientation is all zeros",
        "/clicked": "header.frame_id is empty",
    }
    for topic, text in expected.items():
        mine = [line for line in lines if line.startswith(topic + ":")]
        assert len(mine) == 1 and text in mine[0], (topic, mine)
    # the good pose sent after the bad ones is drawn
    pose = Transform((-1.0, 0.0, 0.0))
    err, _ = centroid_error(hue_mask(frames[-1][1], RED), camera, arrow_parts(pose, *POSE_ARROW))
    assert err <= 2.0
