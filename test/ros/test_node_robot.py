"""The real node shows a robot from /robot_description (std_msgs/String, transient
local, published by this test as robot_state_publisher does) with its links
driven by TF: each link's visual lands in /vuer/image where the pinhole model
from /vuer/camera_info and the camera's /tf_static put it (centroid within
2 px). A mesh from an ament package (package://) is served; a mesh of an
unknown package is logged once and the rest of the robot still shows.
"""

from __future__ import annotations

import math

import pytest
from ros_helpers import (box_points, centroid, colour_mask, cylinder_points, ellipsoid_points, hull_mask, tf,
                         transform_points)

TOLERANCE_PX = 2.0
TIMEOUT = 45.0

RED, GREEN, BLUE, YELLOW = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 1.0, 0.0)
YAW = 0.4   # of base_link in map
Q_BASE = (0.0, 0.0, math.sin(YAW / 2), math.cos(YAW / 2))
# link origins in their parents, chosen so no two visuals overlap in the conftest camera
MAST, HEAD, TOOL = (-0.7, 0.1, 0.0), (0.1, 0.7, 0.2), (0.55, 0.35, 0.05)

URDF = """<?xml version="1.0"?>
<robot name="node_test_robot">
  <material name="red"><color rgba="1 0 0 1"/></material>
  <link name="base_link">
    <visual><origin xyz="0 0 0.1"/><geometry><box size="0.5 0.3 0.2"/></geometry>
      <material name="red"/></visual>
  </link>
  <link name="mast">
    <visual><origin xyz="0 0 0.3"/><geometry><cylinder radius="0.06" length="0.6"/></geometry>
      <material name="green"><color rgba="0 1 0 1"/></material></visual>
  </link>
  <link name="head">
    <visual><geometry><sphere radius="0.12"/></geometry>
      <material name="blue"><color rgba="0 0 1 1"/></material></visual>
    <visual><geometry><mesh filename="package://no_such_package_here/meshes/lamp.stl"/></geometry></visual>
  </link>
  <link name="tool">
    <visual><origin xyz="0 0 0" rpy="0 0 0.5"/>
      <geometry><mesh filename="package://vuer_test_meshes/meshes/cube.stl" scale="0.25 0.15 0.1"/></geometry>
      <material name="yellow"><color rgba="1 1 0 1"/></material></visual>
  </link>
  <joint name="a" type="fixed"><parent link="base_link"/><child link="mast"/></joint>
  <joint name="b" type="fixed"><parent link="mast"/><child link="head"/></joint>
  <joint name="c" type="fixed"><parent link="base_link"/><child link="tool"/></joint>
</robot>
"""


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    c.wait_subscribers(c.tf_pub)
    c.image_after(0.0, timeout=60.0)   # the renderer is up
    return c


@pytest.fixture(scope="module")
def published(node, client):
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
    pub = client.node.create_publisher(String, "/robot_description", latched)
    pub.publish(String(data=URDF))
    client.wait_subscribers(pub)
    client.publish_tf(tf("map", "base_link", (0.2, -0.3, 0.0), Q_BASE),
                      tf("base_link", "mast", MAST),
                      tf("mast", "head", HEAD),
                      tf("base_link", "tool", TOOL), static=True)
    yield pub
    client.node.destroy_publisher(pub)


def world(points, *chain):
    """Points of a link's visual -> fixed frame, through (xyz, q) steps from the link up."""
    for xyz, q in chain:
        points = transform_points(points, xyz, q)
    return points


IDENTITY_Q = (0.0, 0.0, 0.0, 1.0)
BASE = ((0.2, -0.3, 0.0), Q_BASE)
PARTS = {
    "base_link": (RED, world(box_points((0.5, 0.3, 0.2)), ((0, 0, 0.1), IDENTITY_Q), BASE)),
    "mast": (GREEN, world(cylinder_points((0.12, 0.12), 0.6), ((0, 0, 0.3), IDENTITY_Q), (MAST, IDENTITY_Q), BASE)),
    "head": (BLUE, world(ellipsoid_points((0.24, 0.24, 0.24)), (HEAD, IDENTITY_Q), (MAST, IDENTITY_Q), BASE)),
    "tool": (YELLOW, world(box_points((0.25, 0.15, 0.1)),
                           ((0, 0, 0), (0, 0, math.sin(0.25), math.cos(0.25))), (TOOL, IDENTITY_Q), BASE)),
}


@pytest.fixture(scope="module")
def frame(node, client, published):
    cam = client.camera()
    expected = {link: centroid(hull_mask(cam, [pts])) for link, (_, pts) in PARTS.items()}

    def all_in_place(im):
        for link, (colour, _) in PARTS.items():
            m = colour_mask(im.rgb, colour)
            if m.sum() < 30 or math.dist(centroid(m), expected[link]) > TOLERANCE_PX:
                return None
        return True
    try:
        im, _ = client.wait_image(all_in_place, timeout=TIMEOUT, after=0.0,
                                  what="every robot link at its predicted place")
    except AssertionError:
        im = client.latest()
        got = {link: centroid(colour_mask(im.rgb, c)) for link, (c, _) in PARTS.items()}
        raise AssertionError(f"links not in place: expected {expected}, got {got}; node log:\n"
                             f"{node.viewer.tail(30)}") from None
    return im, expected


@pytest.mark.parametrize("link", list(PARTS))
def test_each_link_lands_where_tf_and_its_origin_put_it(frame, link):
    im, expected = frame
    colour = PARTS[link][0]
    got = centroid(colour_mask(im.rgb, colour))
    assert math.dist(got, expected[link]) <= TOLERANCE_PX, (link, got, expected[link])


def test_a_mesh_of_an_unknown_package_is_logged_once_and_the_rest_shows(node, frame):
    line = ("robot 'node_test_robot' (/robot_description): mesh not shown "
            "(package://no_such_package_here/meshes/lamp.stl; link 'head'): package "
            "'no_such_package_here' is not in the ament index")
    node.viewer.wait_for_line(r"mesh not shown \(package://no_such_package_here", timeout=10)
    assert line in node.viewer.log
    assert node.viewer.count(r"no_such_package_here/meshes/lamp\.stl") == 1
    im, _ = frame
    assert colour_mask(im.rgb, BLUE).sum() > 30      # the head's other visual


def test_a_new_description_replaces_the_robot(node, client, published, frame):
    from std_msgs.msg import String
    published.publish(String(data=URDF.replace('rgba="0 1 0 1"', 'rgba="1 0 1 1"')))
    im, _ = client.wait_image(lambda im: colour_mask(im.rgb, GREEN).sum() < 3
                              and colour_mask(im.rgb, (1.0, 0.0, 1.0)).sum() > 30,
                              timeout=TIMEOUT, what="the mast turned magenta")
    assert colour_mask(im.rgb, RED).sum() > 30
