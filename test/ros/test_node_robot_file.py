"""The real node with ``robot_description_file``: the URDF is read from the file at
start (no /robot_description publisher), meshes come from an ament package, and
the links follow TF."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from ros_helpers import box_points, centroid, colour_mask, hull_mask, tf, transform_points

URDF = """<?xml version="1.0"?>
<robot name="file_robot">
  <link name="base_link">
    <visual><origin xyz="0 0 0.1"/><geometry><box size="0.4 0.3 0.2"/></geometry>
      <material name="red"><color rgba="1 0 0 1"/></material></visual>
  </link>
  <link name="tool">
    <visual><geometry><mesh filename="package://vuer_test_meshes/meshes/cube.stl" scale="0.2 0.2 0.2"/></geometry>
      <material name="cyan"><color rgba="0 1 1 1"/></material></visual>
  </link>
  <joint name="j" type="fixed"><parent link="base_link"/><child link="tool"/></joint>
</robot>
"""
_DIR = Path(tempfile.mkdtemp(prefix="vuer_ros_urdf_"))
(_DIR / "robot.urdf").write_text(URDF)
NODE_PARAMS = {"robot_description_file": str(_DIR / "robot.urdf")}

PARTS = {"base_link": ((1.0, 0.0, 0.0), transform_points(box_points((0.4, 0.3, 0.2)), (0.3, 0.2, 0.1))),
         "tool": ((0.0, 1.0, 1.0), transform_points(box_points((0.2, 0.2, 0.2)), (-0.3, -0.5, 0.1)))}


def test_the_urdf_file_is_shown_with_its_links_on_tf(node):
    client = node.client
    client.wait_subscribers(client.tf_pub)
    client.publish_tf(tf("map", "base_link", (0.3, 0.2, 0.0)), tf("base_link", "tool", (-0.6, -0.7, 0.1)),
                      static=True)
    cam = client.camera()
    expected = {link: centroid(hull_mask(cam, [pts])) for link, (_, pts) in PARTS.items()}

    def in_place(im):
        return all(colour_mask(im.rgb, c).sum() > 30
                   and math.dist(centroid(colour_mask(im.rgb, c)), expected[link]) <= 2.0
                   for link, (c, _) in PARTS.items()) or None
    try:
        client.wait_image(in_place, timeout=45.0, after=0.0, what="the file's robot in place")
    except AssertionError:
        im = client.latest()
        got = {link: centroid(colour_mask(im.rgb, c)) for link, (c, _) in PARTS.items()} if im else None
        pytest.fail(f"expected {expected}, got {got}; node log:\n{node.viewer.tail(20)}")
    assert "not shown" not in node.viewer.log and "no robot model" not in node.viewer.log
