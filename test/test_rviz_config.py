"""config/compare.rviz (rviz itself is not installable here): parsed with PyYAML
and checked for what the side-by-side comparison needs: the displays the viewer
shows, on the topics it shows them on, each with the options of our display table
(vuer_ros/displays.py) and the QoS we subscribe with (vuer_ros/view/kinds.py)."""

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from vuer_ros.displays import DISPLAY_TYPES
from vuer_ros.render.rviz_view import RVIZ_ORBIT_DEFAULTS
from vuer_ros.view.kinds import BY_DISPLAY

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


# display type -> the topic compare.rviz shows it on: the viewer's defaults, and for the
# types displays.auto shows, their common names
TOPICS = {"Marker": "/visualization_marker", "MarkerArray": "/visualization_marker_array",
          "PointCloud2": "/points", "LaserScan": "/scan", "Map": "/map", "Path": "/path",
          "Pose": "/pose", "PoseArray": "/particle_cloud", "PointStamped": "/clicked_point",
          "Polygon": "/footprint", "Odometry": "/odom"}


def test_it_has_grid_tf_robot_model_and_marker_displays_on_the_viewers_topics(config):
    d = displays(config)
    assert {"rviz_default_plugins/Grid", "rviz_default_plugins/TF", "rviz_default_plugins/RobotModel",
            "rviz_default_plugins/Marker", "rviz_default_plugins/MarkerArray",
            "rviz_default_plugins/Camera"} <= set(d)
    assert {f"rviz_default_plugins/{t}" for t in TOPICS} <= set(d)
    for kind, topic in TOPICS.items():
        assert d[f"rviz_default_plugins/{kind}"]["Topic"]["Value"] == topic, kind
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
    # everything the viewer draws is in rviz's own render under the overlay too (TF included:
    # the viewer draws its axes and arrows)
    shown = {d["Name"] for d in config["Visualization Manager"]["Displays"]} - {"Camera"}
    assert all(cam["Visibility"][name] for name in shown)


# rviz property names that our snake_case rule does not give (rviz's Path names its axes'
# sizes "Length" and "Radius"), and options of ours rviz has no property for
ALIASES = {("Path", "axes_length"): "length", ("Path", "axes_radius"): "radius"}
NOT_IN_RVIZ = {("PointCloud2", "max_points"), ("LaserScan", "max_points")}
# options whose default "" means "as rviz picks it" (from the data or the topic name)
PICKED_BY_RVIZ = {"color_transformer", "update_topic"}


def snake(name: str) -> str:
    """An rviz property name as our option names write it: "Size (m)" -> size (units
    dropped), "Filter (whitelist)" -> filter_whitelist, "Use rainbow" -> use_rainbow."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("(m)", "")).strip("_")


def rviz_value(value: Any) -> Any:
    """A property value as our options hold it: colours "r; g; b" -> [r, g, b], X/Y/Z maps
    -> [x, y, z], a property with children -> its own Value."""
    if isinstance(value, dict):
        if set(value) == {"X", "Y", "Z"}:
            return [float(value[k]) for k in "XYZ"]
        return rviz_value(value.get("Value"))
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?(\s*;\s*\d+(\.\d+)?){2}\s*", value):
        return [float(v) for v in value.split(";")]
    return value


def properties(display: dict[str, Any]) -> dict[str, Any]:
    """An rviz display's properties by our option names: nested ones by their path
    ("Covariance/Position/Color" -> covariance_position_color) and by their own name
    where that is unambiguous, the shallowest winning ("Shape/Alpha" -> alpha)."""
    by_path: dict[str, Any] = {}
    bare: dict[str, tuple[int, Any]] = {}

    def walk(props: dict[str, Any], prefix: str, depth: int) -> None:
        for key, value in props.items():
            if key == "Value" or not isinstance(key, str):
                continue
            name = snake(key)
            by_path[prefix + name] = value
            if depth and (name not in bare or bare[name][0] > depth):
                bare[name] = (depth, value)
            if isinstance(value, dict) and set(value) != {"X", "Y", "Z"}:
                walk(value, prefix + name + "_", depth + 1)
    walk(display, "", 0)
    out = {name: value for name, (_, value) in bare.items()}
    out.update(by_path)
    return out


@pytest.mark.parametrize("kind", sorted(DISPLAY_TYPES))
def test_each_rviz_display_has_our_display_tables_defaults(config, kind):
    dtype = DISPLAY_TYPES[kind]
    d = displays(config).get(f"rviz_default_plugins/{kind}")
    assert d is not None, f"compare.rviz has no {kind} display"
    props = properties(d)
    for option in dtype.options:
        if (kind, option.name) in NOT_IN_RVIZ:
            continue
        name = ALIASES.get((kind, option.name), option.name)
        assert name in props, f"{kind}: rviz has no property for option {option.name}"
        if option.name in PICKED_BY_RVIZ and option.default == "":
            continue
        got, want = rviz_value(props[name]), option.default
        if isinstance(want, float) or isinstance(want, list):
            # rviz writes floats as float32: 0.01 is 0.009999999776482582
            assert got == pytest.approx(want, rel=1e-6), (kind, option.name, got, want)
        else:
            assert got == want, (kind, option.name, got, want)
    kinds = BY_DISPLAY.get(kind)
    if kinds is not None and "Topic" in d:   # the QoS we subscribe with (not the depth)
        qos = d["Topic"]
        assert qos["Reliability Policy"] == ("Reliable" if kinds.qos.reliable else "Best Effort"), kind
        assert qos["Durability Policy"] == ("Transient Local" if kinds.qos.transient_local
                                            else "Volatile"), kind


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
