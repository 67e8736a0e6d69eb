"""The pose displays through the real node: Path, PoseStamped, PoseArray, PointStamped,
PolygonStamped and Odometry published with rclpy on topics the node finds by itself
(displays.auto) or is configured for (displays.<name> with rviz's options). What each draws
lands in /vuer/image where the pinhole model from /vuer/camera_info and the camera's
/tf_static puts it (centroids within 2 px; 1-pixel lines within 2 px of their projection);
a message in a moving frame is drawn where the frame was at its stamp and stays there; bad
input is logged once with the topic and the key while everything else flows.

One node and one Chromium for the module (conftest ``node``); each test clears what it drew.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
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
from ros_helpers import marker, tf

from vuer_ros.ros.messages import message_class
from vuer_ros.scene.transform import Transform

NODE_PARAMS = {
    "displays.goal_axes.type": "Pose", "displays.goal_axes.topic": "/t/goal_axes",
    "displays.goal_axes.shape": "Axes",
    "displays.wide.type": "Path", "displays.wide.topic": "/t/wide_plan",
    "displays.wide.line_style": "Billboards", "displays.wide.line_width": 0.1,
    "displays.wide.color": [0, 0, 255],
    "displays.odom.type": "Odometry", "displays.odom.topic": "/t/odom", "displays.odom.keep": 3,
}
M = PoseMsgs(message_class)
RED, GREEN, BLUE, MAGENTA = (255, 25, 0), (25, 255, 0), (0, 0, 255), (204, 41, 204)
AXIS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
POSE_ARROW = (1.0, 0.05, 0.3, 0.1)          # rviz's Pose and Odometry defaults
FAR = (0.0, 0.0, -500.0)                     # beyond the far plane: clears a display
TIMEOUT = 30.0
TYPES = {"goal": "geometry_msgs/msg/PoseStamped", "goal_axes": "geometry_msgs/msg/PoseStamped",
         "particles": "geometry_msgs/msg/PoseArray", "plan": "nav_msgs/msg/Path",
         "wide_plan": "nav_msgs/msg/Path", "clicked": "geometry_msgs/msg/PointStamped",
         "footprint": "geometry_msgs/msg/PolygonStamped", "odom": "nav_msgs/msg/Odometry",
         "bad_goal": "geometry_msgs/msg/PoseStamped", "bad_plan": "nav_msgs/msg/Path",
         "bad_footprint": "geometry_msgs/msg/PolygonStamped", "bad_odom": "nav_msgs/msg/Odometry",
         "bad_particles": "geometry_msgs/msg/PoseArray"}


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    c.wait_subscribers(c.tf_pub)
    c.wait_subscribers(c.marker_pub)
    c.image_after(0.0, timeout=60.0)   # the renderer is up
    c.pubs = {name: c.node.create_publisher(message_class(t), f"/t/{name}", 10)
              for name, t in TYPES.items()}
    for pub in c.pubs.values():        # found in the graph and subscribed (displays.auto)
        c.wait_subscribers(pub)
    return c


@pytest.fixture(scope="module")
def cam(client):
    return client.camera()


def publish(client, name, msg):
    client.pubs[name].publish(msg)


def wait_fit(client, colour, check, what, after=None):
    """The first image whose ``colour`` mask passes ``check(mask)`` (returns (image, mask))."""
    def ok(im):
        mask = hue_mask(im.rgb, colour)
        return mask.sum() > 0 and check(mask) and mask
    return client.wait_image(ok, timeout=TIMEOUT, after=after, what=what)


def wait_shape(client, cam, colour, parts, what, after=None, ratio=(0.6, 1.5)):
    def check(mask):
        err, r = centroid_error(mask, cam, parts)
        return err <= 2.0 and ratio[0] <= r <= ratio[1]
    return wait_fit(client, colour, check, what, after)


def wait_line(client, cam, colour, points, what, segments=False, after=None):
    def check(mask):
        far, covered = line_fit(mask, cam, points, segments)
        return far <= 2.0 and covered >= 0.85
    return wait_fit(client, colour, check, what, after)


def wait_gone(client, colour, what, after=None):
    return client.wait_image(lambda im: hue_mask(im.rgb, colour).sum() < 3, timeout=TIMEOUT,
                             after=after, what=what)


def test_pose_arrow_lands_where_the_camera_model_puts_it(client, cam):
    pose = Transform((0.3, -0.5, 0.1), yaw(0.6))
    t = time.monotonic()
    publish(client, "goal", M.pose_stamped("map", pose.translation, pose.rotation))
    wait_shape(client, cam, RED, arrow_parts(pose, *POSE_ARROW), "the Pose arrow", t)
    t = time.monotonic()
    publish(client, "goal", M.pose_stamped("map", FAR))
    wait_gone(client, RED, "the Pose arrow moved away", t)


def test_a_pose_in_a_moving_frame_is_drawn_at_its_stamp_and_stays(client, cam):
    """rviz places a stamped message once; the frame moving later moves only what comes next.
    A frame_locked cube on the same frame shows when the frame has moved."""
    stamp = client.now()
    client.publish_tf(tf("map", "pose_mover", (-0.8, 0.0, 0.0), stamp=stamp))
    client.marker_pub.publish(marker("witness", 1, 1, frame="pose_mover", xyz=(0.0, 1.0, 0.0),
                                     scale=(0.2, 0.2, 0.2), rgba=(0, 1, 1, 1), frame_locked=True))
    local = Transform((0.0, 0.0, 0.2), yaw(-0.4))
    t = time.monotonic()
    publish(client, "goal", M.pose_stamped("pose_mover", local.translation, local.rotation,
                                           ns=stamp.sec * 1_000_000_000 + stamp.nanosec))
    first = Transform((-0.8, 0.0, 0.0)) @ local
    wait_shape(client, cam, RED, arrow_parts(first, *POSE_ARROW), "the pose at pose_mover's place", t)
    # the frame moves: the witness follows, the arrow stays where it was drawn
    stamp = client.now()
    t = time.monotonic()
    client.publish_tf(tf("map", "pose_mover", (0.4, -0.3, 0.0), stamp=stamp))
    cube = [np.array([[x, y, z] for x in (-0.1, 0.1) for y in (-0.1, 0.1) for z in (-0.1, 0.1)])
            + (0.4, 0.7, 0.0)]
    im, _ = wait_shape(client, cam, (0, 255, 255), cube, "the witness cube after pose_mover moved", t)
    err, _ = centroid_error(hue_mask(im.rgb, RED), cam, arrow_parts(first, *POSE_ARROW))
    assert err <= 2.0, f"the arrow followed the frame ({err:.1f} px off its first place)"
    # the next message is drawn where the frame is at its stamp
    t = time.monotonic()
    publish(client, "goal", M.pose_stamped("pose_mover", local.translation, local.rotation,
                                           ns=stamp.sec * 1_000_000_000 + stamp.nanosec))
    second = Transform((0.4, -0.3, 0.0)) @ local
    wait_shape(client, cam, RED, arrow_parts(second, *POSE_ARROW), "the next pose at the new place", t)
    t = time.monotonic()
    publish(client, "goal", M.pose_stamped("map", FAR))
    client.marker_pub.publish(marker("witness", 1, 1, action=2))
    wait_gone(client, RED, "the arrow moved away", t)


def test_pose_axes_are_red_green_blue(client, cam):
    pose = Transform((-0.3, 0.2, 0.0), yaw(0.3))
    t = time.monotonic()
    publish(client, "goal_axes", M.pose_stamped("map", pose.translation, pose.rotation))
    parts = axes_parts(pose, 1.0, 0.1)
    hulls = [hull_mask(cam, [p]) for p in parts]

    def all_axes(im):
        for i, colour in enumerate(AXIS):
            mask = hue_mask(im.rgb, colour)
            visible = hulls[i] & ~np.logical_or.reduce([h for j, h in enumerate(hulls) if j != i])
            if (mask & visible).sum() < 0.5 * visible.sum():
                return False
            if np.linalg.norm(centroid(mask & visible) - centroid(visible)) > 2.0:
                return False
            if (mask & ~hulls[i]).sum() > 0.05 * mask.sum():
                return False
        return True
    client.wait_image(all_axes, timeout=TIMEOUT, after=t, what="the three axes")
    t = time.monotonic()
    publish(client, "goal_axes", M.pose_stamped("map", FAR))
    wait_gone(client, (0, 255, 0), "the axes moved away", t)


PLAN = [(x, 0.6 * math.sin(2 * x), 0.0) for x in np.linspace(-1.2, 1.2, 12)]
WIDE = [(-1.2, -1.0, 0.0), (0.0, -1.2, 0.0), (1.2, -1.0, 0.0)]


def test_path_lines_are_one_pixel_and_billboards_metres_wide(client, cam):
    t = time.monotonic()
    publish(client, "plan", M.path("map", [(p, yaw(0)) for p in PLAN]))
    publish(client, "wide_plan", M.path("map", [(p, yaw(0)) for p in WIDE]))
    _, thin = wait_line(client, cam, GREEN, PLAN, "the path, 1 pixel wide", after=t)
    uv = cam.project(np.asarray(PLAN))
    assert thin.sum() <= 2.0 * np.linalg.norm(np.diff(uv, axis=0), axis=1).sum()
    wait_shape(client, cam, BLUE, [tube(0.1, WIDE[i], WIDE[i + 1]) for i in range(2)],
               "the billboard path, 0.1 m wide", after=t, ratio=(0.8, 1.25))
    t = time.monotonic()
    publish(client, "plan", M.path("map", []))          # empty: nothing drawn
    publish(client, "wide_plan", M.path("map", []))
    wait_gone(client, GREEN, "the path cleared", t)
    wait_gone(client, BLUE, "the billboard path cleared", t)


def test_pose_array_flat_arrows(client, cam):
    poses = [((x, 0.8, 0.0), yaw(a)) for x, a in ((-1.0, 0.0), (-0.4, 1.0), (0.2, 2.0))]
    segs = []
    for (x, y, z), q in poses:
        pose = Transform((x, y, z), q)
        o, tip, left, right = (pose.apply(p) for p in [(0, 0, 0), (0.3, 0, 0), (0.225, 0.06, 0),
                                                        (0.225, -0.06, 0)])
        segs += [o, tip, tip, left, tip, right]
    t = time.monotonic()
    publish(client, "particles", M.pose_array("map", poses))
    wait_line(client, cam, RED, segs, "the flat arrows", segments=True, after=t)
    t = time.monotonic()
    publish(client, "particles", M.pose_array("map", []))
    wait_gone(client, RED, "the arrows cleared", t)


def test_point_and_polygon(client, cam):
    square = [(0.4, 0.3, 0.0), (1.2, 0.3, 0.0), (1.2, 1.1, 0.0), (0.4, 1.1, 0.0)]
    t = time.monotonic()
    publish(client, "clicked", M.point_stamped("map", (-0.5, 0.5, 0.3)))
    publish(client, "footprint", M.polygon("map", square))
    wait_shape(client, cam, MAGENTA, [sphere(0.2, (-0.5, 0.5, 0.3))], "the point's sphere", t,
               ratio=(0.7, 1.3))
    wait_line(client, cam, GREEN, square + square[:1], "the polygon", after=t)
    t = time.monotonic()
    publish(client, "clicked", M.point_stamped("map", FAR))
    publish(client, "footprint", M.polygon("map", []))
    wait_gone(client, MAGENTA, "the point moved away", t)
    wait_gone(client, GREEN, "the polygon cleared", t)


def test_odometry_keeps_the_last_n_and_skips_poses_within_tolerance(client, cam):
    # keep 3: A, B, B' (within 0.1 m of B: skipped), C -> A B C; then D -> B C D
    trail = {"A": (-0.5, -1.2, 0.0), "B": (-0.5, -0.6, 0.0), "B'": (-0.45, -0.6, 0.0),
             "C": (-0.5, 0.0, 0.0), "D": (-0.5, 0.6, 0.0)}
    arrows = {k: arrow_parts(Transform(p), *POSE_ARROW) for k, p in trail.items()}
    t = time.monotonic()
    for name in ("A", "B", "B'", "C"):
        publish(client, "odom", M.odometry("map", trail[name]))
    wait_shape(client, cam, RED, arrows["A"] + arrows["B"] + arrows["C"], "A, B and C", t, (0.7, 1.3))
    t = time.monotonic()
    publish(client, "odom", M.odometry("map", trail["D"]))
    _, mask = wait_shape(client, cam, RED, arrows["B"] + arrows["C"] + arrows["D"], "B, C and D", t,
                          (0.7, 1.3))
    assert (mask & hull_mask(cam, arrows["A"])).sum() == 0
    t = time.monotonic()
    for i in range(3):
        publish(client, "odom", M.odometry("map", (0.0, 0.0, -500.0 - i)))
    wait_gone(client, RED, "the trail moved away", t)


def test_bad_input_is_logged_once_with_topic_and_key_and_the_rest_flows(node, client, cam):
    nan_cov = np.zeros(36)
    nan_cov[0] = math.nan
    bad = [("bad_goal", M.pose_stamped("map", (math.nan, 0.0, 0.0)), "/t/bad_goal: pose.position.x is nan"),
           ("bad_plan", M.path("map", []), "/t/bad_plan: the path has no poses"),
           ("bad_footprint", M.polygon("map", [(0.0, 0.0, 0.0)]), "/t/bad_footprint: the polygon has 1 point"),
           ("bad_odom", M.odometry("map", covariance=nan_cov), "/t/bad_odom: pose.covariance[0] is nan"),
           ("bad_particles", M.pose_array("map", [((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))]),
            "/t/bad_particles: poses[0].orientation is all zeros"),
           ("bad_goal", M.pose_stamped("", (0.0, 0.0, 0.0)), "/t/bad_goal: header.frame_id is empty")]
    for _ in range(3):
        for name, msg, _ in bad:
            publish(client, name, msg)
    for _, _, line in bad:
        node.viewer.wait_for_line(re.escape(line), timeout=TIMEOUT)
    # the rest flows: a good pose on the same topic is drawn
    pose = Transform((0.2, 0.3, 0.0))
    t = time.monotonic()
    publish(client, "bad_goal", M.pose_stamped("map", pose.translation))
    wait_shape(client, cam, RED, arrow_parts(pose, *POSE_ARROW), "a good pose after bad ones", t)
    for _, _, line in bad:
        assert node.viewer.count(re.escape(line)) == 1, line
    t = time.monotonic()
    publish(client, "bad_goal", M.pose_stamped("map", FAR))
    wait_gone(client, RED, "the good pose moved away", t)
