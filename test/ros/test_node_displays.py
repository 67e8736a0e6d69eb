"""Choosing what to show, live: with displays.auto (the default) a topic of a supported
type that appears in the ROS graph after the node started is shown, where the pinhole
model from /vuer/camera_info and TF puts it; a topic listed as a display with
``enabled: false`` never is; a display entry the node cannot use stops it with one line
naming the key."""

from __future__ import annotations

import math
import random
import time

import numpy as np
from ros_helpers import (
    ViewerProcess,
    box_points,
    centroid,
    colour_mask,
    hull_mask,
    marker,
    ros_env,
)

NODE_PARAMS = {"displays.quiet.type": "Marker", "displays.quiet.topic": "/quiet_markers",
               "displays.quiet.enabled": False,
               "displays.lossy.type": "Marker", "displays.lossy.topic": "/lossy_markers"}
CUBE = 1
ORANGE, CYAN, MAGENTA = (1.0, 0.5, 0.0, 1.0), (0.0, 1.0, 1.0, 1.0), (1.0, 0.0, 1.0, 1.0)
TIMEOUT = 30.0


def test_a_topic_that_appears_later_is_shown_and_a_disabled_one_never(node):
    from visualization_msgs.msg import Marker, MarkerArray
    client = node.client
    cam = client.camera()
    late = client.node.create_publisher(MarkerArray, "/late/markers", 10)
    quiet = client.node.create_publisher(Marker, "/quiet_markers", 10)
    xyz, size = (0.3, -0.2, 0.1), 0.3
    expected = centroid(hull_mask(cam, [box_points((size,) * 3) + np.asarray(xyz)]))
    t = time.monotonic()

    def shown(im):
        # published again and again: the first ones go out before the node subscribes
        late.publish(MarkerArray(markers=[marker("late", 1, CUBE, xyz=xyz, scale=(size,) * 3,
                                                 rgba=ORANGE)]))
        quiet.publish(marker("quiet", 1, CUBE, xyz=(-0.4, 0.3, 0.0), scale=(0.3,) * 3, rgba=CYAN))
        m = colour_mask(im.rgb, ORANGE)
        return m.sum() > 40 and math.hypot(*np.subtract(centroid(m), expected)) <= 2.0

    client.wait_image(shown, timeout=TIMEOUT, after=t,
                      what="the MarkerArray of /late/markers, a topic that appeared after the start")
    node.viewer.wait_for_line(r"showing /late/markers \(visualization_msgs/msg/MarkerArray\)",
                              TIMEOUT)
    # the disabled display's topic was published all along: never drawn, never subscribed
    t = time.monotonic()
    client.wait_for(lambda: sum(im.received > t for im in list(client.images["/vuer/image"])) >= 5,
                    TIMEOUT, "five more images")
    assert all(colour_mask(im.rgb, CYAN).sum() < 3 for im in list(client.images["/vuer/image"]))
    assert node.viewer.count(r"showing /quiet_markers") == 0
    late.publish(MarkerArray(markers=[marker("late", 1, CUBE, action=3)]))


def test_a_configured_display_takes_a_best_effort_publisher_that_comes_later(node):
    """A Marker display subscribes reliable; a publisher that offers only best effort (a
    sensor driver's QoS) would never connect: the node subscribes again as it offers."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from visualization_msgs.msg import Marker
    client = node.client
    cam = client.camera()
    pub = client.node.create_publisher(
        Marker, "/lossy_markers", QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT))
    xyz, size = (-0.3, 0.3, 0.1), 0.3
    expected = centroid(hull_mask(cam, [box_points((size,) * 3) + np.asarray(xyz)]))
    t = time.monotonic()

    def shown(im):
        pub.publish(marker("lossy", 1, CUBE, xyz=xyz, scale=(size,) * 3, rgba=MAGENTA))
        m = colour_mask(im.rgb, MAGENTA)
        return m.sum() > 40 and math.hypot(*np.subtract(centroid(m), expected)) <= 2.0

    client.wait_image(shown, timeout=TIMEOUT, after=t, what="the best-effort publisher's marker")
    node.viewer.wait_for_line(r"/lossy_markers: subscribed again as its publishers offer "
                              r"\(best_effort, volatile\)", TIMEOUT)
    pub.publish(marker("lossy", 1, CUBE, action=3))


def test_a_display_the_node_cannot_use_stops_it_naming_the_key(tmp_path):
    viewer = ViewerProcess(ros_env(tmp_path / "log", random.randint(1, 101)), {
        "port": 0, "displays.lidar.type": "Marker", "displays.lidar.topic": "/x",
        "displays.lidar.colour": 3})
    try:
        viewer.wait_for_line(r"displays\.lidar\.colour: a Marker display has no option 'colour'",
                             TIMEOUT)
        assert viewer.proc.wait(TIMEOUT) != 0
    finally:
        viewer.stop()
