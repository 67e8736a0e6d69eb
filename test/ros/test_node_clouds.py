"""PointCloud2 and LaserScan through the real node: published over Fast DDS from an rclpy
client, drawn where the pinhole model from /vuer/camera_info and the camera's /tf_static
puts them (each flat square's centroid within 2 px, its width s * f / depth); placed at
the TF of the cloud's stamp (an old stamp lands where its frame was then, and a moving
frame moves the clouds stamped later); Intensity's rainbow at known points; a cloud on a
topic that appears after the start is shown (displays.auto); bad clouds and scans (a
50,000,000-point declaration among them) are each logged once with the topic and
skipped while good clouds keep coming.

One node for the module (conftest ``node``), with two configured displays with big
squares (sizes a test can measure) and one LaserScan display.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from cloud_helpers import CloudSpec, scan_rclpy, xyz_cloud
from ros_helpers import centroid, hull_mask, tf

NODE_PARAMS = {
    "displays.big.type": "PointCloud2", "displays.big.topic": "/test/cloud",
    "displays.big.size": 0.12,
    "displays.laser.type": "LaserScan", "displays.laser.topic": "/test/scan",
    "displays.laser.size": 0.1, "displays.laser.color_transformer": "FlatColor",
    "displays.laser.color": [0.0, 255.0, 0.0],
    "displays.dots.type": "PointCloud2", "displays.dots.topic": "/test/dots",
    "displays.dots.style": "Points", "displays.dots.size_pixels": 7.0,
    "displays.dots.color_transformer": "FlatColor", "displays.dots.color": [255.0, 0.0, 255.0],
}
TIMEOUT = 30.0
SIZE = 0.12
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def exact_mask(rgb: np.ndarray, colour, tol: int = 3) -> np.ndarray:
    """Pixels of exactly this colour (flat squares are unlit)."""
    return (np.abs(rgb.astype(int) - np.asarray(colour)) <= tol).all(axis=2)


@pytest.fixture(scope="module")
def client(node):
    from sensor_msgs.msg import LaserScan, PointCloud2
    c = node.client
    c.cloud_pub = c.node.create_publisher(PointCloud2, "/test/cloud", 10)
    c.dots_pub = c.node.create_publisher(PointCloud2, "/test/dots", 10)
    c.scan_pub = c.node.create_publisher(LaserScan, "/test/scan", 10)
    for pub in (c.cloud_pub, c.dots_pub, c.scan_pub, c.tf_pub, c.tf_static_pub):
        c.wait_subscribers(pub)
    c.image_after(0.0, timeout=60.0)
    return c


@pytest.fixture(scope="module")
def cam(client):
    return client.camera()


@pytest.fixture(autouse=True)
def clear_after(client):
    """Each test leaves the configured topics empty (an empty cloud replaces the last)."""
    yield
    empty = xyz_cloud(np.zeros((0, 3)), frame="map").rclpy()
    client.cloud_pub.publish(empty)
    client.dots_pub.publish(empty)
    client.scan_pub.publish(scan_rclpy(ranges=[], frame="map"))


def stamp_ns(msg_stamp) -> int:
    return msg_stamp.sec * 1_000_000_000 + msg_stamp.nanosec


def squares_land(client, cam, world: np.ndarray, colours, after: float, size: float = SIZE,
                 what: str = ""):
    """Wait for an image with a flat square of each point's colour where the camera puts it
    (centroid within 2 px; its width, checked after, within 1.5 px of size * f / depth)."""
    want = cam.project(world)
    depth = np.array([cam.depth_of(p) for p in world])
    side = size * cam.focal / depth

    def check(im):
        out = []
        for (u, v), s, colour in zip(want, side, colours):
            # this colour near where the point should be (points may share a colour)
            m = exact_mask(im.rgb, colour)
            r = int(s) + 6
            window = np.zeros_like(m)
            window[max(0, int(v) - r):int(v) + r + 1, max(0, int(u) - r):int(u) + r + 1] = True
            m &= window
            if m.sum() < 0.5 * s * s:
                return None
            got_u, got_v = centroid(m)
            if math.hypot(got_u - u, got_v - v) > 2.0:
                return None
            us = np.nonzero(m)[1]
            out.append((np.ptp(us) + 1, s))
        return out
    _, widths = client.wait_image(check, timeout=TIMEOUT, after=after, what=what or "the cloud's squares")
    for got, s in widths:
        assert abs(got - s) <= 1.5, (got, s)


def test_a_cloud_lands_where_the_pinhole_model_puts_it(client, cam):
    q = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))
    client.publish_tf(tf("map", "lidar_mount", (0.3, -0.2, 0.1), q, stamp=client.now()), static=True)
    local = np.array([(0.0, 0.0, 0.0), (0.6, 0.0, 0.3), (0.0, 0.6, 0.0)])
    t = time.monotonic()
    client.cloud_pub.publish(xyz_cloud(local, rgb=[RED, GREEN, BLUE], frame="lidar_mount").rclpy())
    R = np.array([[math.cos(math.radians(30)), -math.sin(math.radians(30)), 0],
                  [math.sin(math.radians(30)), math.cos(math.radians(30)), 0], [0, 0, 1]])
    world = local @ R.T + (0.3, -0.2, 0.1)
    squares_land(client, cam, world, [RED, GREEN, BLUE], t, what="RGB8 squares on lidar_mount")


def test_the_stamp_s_transform_places_a_cloud_and_a_moving_frame_moves_later_ones(client, cam):
    def pose_at(x: float, stamp):
        client.publish_tf(tf("map", "mover", (x, 0.5, 0.0), stamp=stamp))

    t0 = client.now()
    pose_at(-0.8, t0)
    time.sleep(0.05)
    t1 = client.now()
    pose_at(0.8, t1)
    time.sleep(0.05)
    pose_at(0.8, client.now())
    point = np.array([(0.0, 0.0, 0.2)])
    # stamped t0: where mover was then, though it has moved on since
    spec = xyz_cloud(point, rgb=[RED], frame="mover", stamp_ns=stamp_ns(t0))
    t = time.monotonic()
    client.cloud_pub.publish(spec.rclpy())
    squares_land(client, cam, point + (-0.8, 0.5, 0.0), [RED], t, what="the cloud at mover's place at its stamp")
    # the frame moves; a cloud stamped then follows it
    t2 = client.now()
    pose_at(0.2, t2)
    spec = xyz_cloud(point, rgb=[RED], frame="mover", stamp_ns=stamp_ns(t2))
    t = time.monotonic()
    client.cloud_pub.publish(spec.rclpy())
    squares_land(client, cam, point + (0.2, 0.5, 0.0), [RED], t, what="the next cloud where mover moved")


def test_intensity_colours_known_points_with_rviz_s_rainbow(client, cam):
    from vuer_ros.scene.cloud_colors import rainbow
    local = np.array([(-0.6, 0.0, 0.0), (-0.3, 0.0, 0.0), (0.0, 0.0, 0.0), (0.3, 0.0, 0.0), (0.6, 0.0, 0.0)])
    intensity = [0.0, 25.0, 50.0, 75.0, 100.0]
    want = [tuple(c) for c in np.rint(rainbow(1.0 - np.array(intensity) / 100.0) * 255).astype(int)]
    t = time.monotonic()
    client.cloud_pub.publish(xyz_cloud(local, intensity=intensity, frame="map").rclpy())
    squares_land(client, cam, local, want, t, what="intensity rainbow squares")


def test_points_style_draws_dots_of_their_pixel_size(client, cam):
    local = np.array([(0.5, 0.5, 0.5)])
    t = time.monotonic()
    client.dots_pub.publish(xyz_cloud(local, frame="map").rclpy())
    (u, v), = cam.project(local)

    def dot(im):
        m = exact_mask(im.rgb, (255, 0, 255))
        return m.sum() >= 20 and math.hypot(*(np.subtract(centroid(m), (u, v)))) <= 2.0 and m
    _, m = client.wait_image(dot, timeout=TIMEOUT, after=t, what="a 7-pixel dot")
    vs, us = np.nonzero(m)
    assert np.ptp(us) + 1 == 7 and np.ptp(vs) + 1 == 7
    assert abs(m.sum() - math.pi * 3.5 ** 2) <= 8


def test_a_laser_scan_lands_where_its_rays_point(client, cam):
    client.publish_tf(tf("map", "laser", (0.0, 0.0, 0.3), stamp=client.now()), static=True)
    ranges = [0.8, 1.0, 0.7]
    t = time.monotonic()
    client.scan_pub.publish(scan_rclpy(ranges=[0.8, math.nan, 1.0, 50.0, 0.7], angle_min=-1.0,
                                       angle_increment=0.5, range_max=30.0, frame="laser"))
    # rays 0, 2, 4: angles -1.0, 0.0, 1.0 (ray 3 is past range_max, ray 1 NaN)
    angles = np.array([-1.0, 0.0, 1.0])
    world = np.column_stack([np.multiply(ranges, np.cos(angles)), np.multiply(ranges, np.sin(angles)),
                             np.full(3, 0.3)])
    squares_land(client, cam, world, [GREEN] * 3, t, size=0.1, what="the scan's rays")


def test_a_cloud_topic_that_appears_later_is_shown_with_rviz_s_defaults(node, client, cam):
    from sensor_msgs.msg import PointCloud2
    # a 30 cm patch of 1 cm Flat Squares (the default style and size), all red
    g = np.linspace(-0.15, 0.15, 31)
    patch = np.array([(x, y, 0.0) for x in g for y in g]) + (-0.4, -0.4, 0.0)
    msg = xyz_cloud(patch, rgb=np.tile(RED, (len(patch), 1)), frame="map").rclpy()
    t = time.monotonic()
    pub = client.node.create_publisher(PointCloud2, "/late/points", 10)
    deadline = time.monotonic() + TIMEOUT
    while pub.get_subscription_count() == 0:   # the node looks at the graph every second
        assert time.monotonic() < deadline, "the node never subscribed to /late/points"
        time.sleep(0.1)
    node.viewer.wait_for_line(r"showing /late/points \(sensor_msgs/msg/PointCloud2\) as a PointCloud2 "
                              r"display", timeout=TIMEOUT)
    pub.publish(msg)
    corners = np.array([(x, y, 0.0) for x in (-0.555, -0.245) for y in (-0.555, -0.245)])
    expected = hull_mask(cam, [corners])
    want = centroid(expected)

    def patch_seen(im):
        m = exact_mask(im.rgb, RED)
        return m.sum() >= 0.6 * expected.sum() and math.hypot(*np.subtract(centroid(m), want)) <= 2.0
    client.wait_image(patch_seen, timeout=TIMEOUT, after=t, what="the late topic's patch")


def test_bad_clouds_and_scans_are_logged_once_and_good_ones_keep_coming(node, client, cam):
    log = node.viewer
    ok = xyz_cloud([(0.0, 0.0, 0.0)], frame="map")
    short = ok.rclpy(data=ok.data()[:-4])
    huge = xyz_cloud([(0.0, 0.0, 0.0)], rgb=[RED], frame="map").rclpy()
    huge.width, huge.height, huge.row_step = 50_000_000, 1, 800_000_000   # 16 bytes of data
    unknown = CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8)], 12,
                        {"x": [0.0], "y": [0.0], "z": [0.0]}, 1, frame="map",
                        extra_fields=[("rgb", 0, 11, 1)]).rclpy()
    bad_scan = scan_rclpy(ranges=[1.0, 2.0, -1.0], intensities=[1.0], frame="laser")
    cases = [(client.cloud_pub, short, r"/test/cloud: data has 8 bytes.*need 12"),
             (client.cloud_pub, huge, r"/test/cloud: a cloud of 50000000 x 1 = 50000000 points \(16 bytes "
                                      r"of data\) is over max_points 5000000"),
             (client.cloud_pub, unknown, r"/test/cloud: field 'rgb' has datatype 11"),
             (client.scan_pub, bad_scan, r"/test/scan: intensities has 1 entries for 3 ranges")]
    # the cloud subscription keeps only the newest cloud not taken yet (depth 1): each bad
    # one is published until the node says it saw it, then a few times more
    for pub, msg, pattern in cases:
        deadline = time.monotonic() + TIMEOUT
        while not log.count(pattern):
            assert time.monotonic() < deadline, f"never logged: {pattern}"
            pub.publish(msg)
            time.sleep(0.1)
        for _ in range(3):
            pub.publish(msg)
            time.sleep(0.05)
    # a good cloud after them, on the same topic, shows: they were all processed
    point = np.array([(-0.5, 0.6, 0.4)])
    t = time.monotonic()
    client.cloud_pub.publish(xyz_cloud(point, rgb=[BLUE], frame="map").rclpy())
    squares_land(client, cam, point, [BLUE], t, what="a good cloud after the bad ones")
    for _, _, pattern in cases:
        assert log.count(pattern) == 1, f"{pattern!r} logged {log.count(pattern)} times"
