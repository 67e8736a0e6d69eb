"""config/compare.rviz (rviz itself is not installable here): parsed with PyYAML
and checked for what the side-by-side comparison needs."""

import math
from pathlib import Path

import pytest
import yaml

from vuer_ros.render.rviz_view import RVIZ_ORBIT_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
RVIZ = ROOT / "config" / "compare.rviz"
VIEWER = ROOT / "config" / "viewer.yaml"


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(RVIZ.read_text())


def displays(config):
    return {d["Class"]: d for d in config["Visualization Manager"]["Displays"]}


def test_it_is_an_rviz2_config_with_panels_and_the_viewers_fixed_frame(config):
    assert {"Panels", "Visualization Manager", "Window Geometry"} <= set(config)
    assert any(p["Class"] == "rviz_common/Displays" for p in config["Panels"])
    fixed = yaml.safe_load(VIEWER.read_text())["/**"]["ros__parameters"]["fixed_frame"]
    assert config["Visualization Manager"]["Global Options"]["Fixed Frame"] == fixed


def test_it_has_grid_tf_robot_model_and_marker_displays_on_the_viewers_topics(config):
    d = displays(config)
    assert {"rviz_default_plugins/Grid", "rviz_default_plugins/TF", "rviz_default_plugins/RobotModel",
            "rviz_default_plugins/Marker", "rviz_default_plugins/MarkerArray",
            "rviz_default_plugins/Camera"} <= set(d)
    assert all(x["Enabled"] for x in d.values())
    robot = d["rviz_default_plugins/RobotModel"]
    assert robot["Description Source"] == "Topic"
    assert robot["Description Topic"]["Value"] == "/robot_description"
    # robot_state_publisher latches the description: a volatile subscriber started later gets none
    assert robot["Description Topic"]["Durability Policy"] == "Transient Local"
    assert d["rviz_default_plugins/Marker"]["Topic"]["Value"] == "/visualization_marker"
    assert d["rviz_default_plugins/MarkerArray"]["Topic"]["Value"] == "/visualization_marker_array"


def test_the_camera_display_overlays_the_vuer_image_on_rvizs_own_render(config):
    cam = displays(config)["rviz_default_plugins/Camera"]
    assert cam["Topic"]["Value"] == "/vuer/image"
    # rviz takes CameraInfo from the image topic's sibling: /vuer/image -> /vuer/camera_info
    assert cam["Topic"]["Value"].rsplit("/", 1)[0] + "/camera_info" == "/vuer/camera_info"
    assert cam["Image Rendering"] == "background and overlay"
    assert 0.0 < cam["Overlay Alpha"] < 1.0
    assert cam["Zoom Factor"] == 1
    assert cam["Visibility"]["RobotModel"] and cam["Visibility"]["Marker"]


def test_the_main_view_is_rvizs_default_orbit_view(config):
    view = config["Visualization Manager"]["Views"]["Current"]
    d = RVIZ_ORBIT_DEFAULTS
    assert view["Class"] == "rviz_default_plugins/Orbit"
    assert view["Distance"] == d.distance
    assert (view["Yaw"], view["Pitch"]) == pytest.approx((d.yaw, d.pitch), abs=1e-6)
    assert [view["Focal Point"][k] for k in "XYZ"] == list(d.focal_point)
    assert view["Target Frame"] == "<Fixed Frame>"
    assert view["Enable Stereo Rendering"]["Value"] is False   # no eye offset in the frustum
    assert view["Near Clip Distance"] == pytest.approx(d.near)
    assert math.isclose(d.fov, math.pi / 4)
