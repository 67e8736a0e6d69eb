"""vuer_ros.config: the viewer node's parameter file read without ROS, with the
node's defaults (its parameter table) and its checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vuer_ros.config import ConfigError, default_params, read_params_file, viewer_params
from vuer_ros.params import PARAMS

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    path = tmp_path / "viewer.yaml"
    path.write_text(text)
    return path


def test_defaults_are_the_node_table():
    params, unknown = viewer_params()
    assert params == {p.name: p.default for p in PARAMS} and unknown == []
    assert default_params()["marker_topics"] is not PARAMS[3].default  # a copy


def test_nested_and_flat_keys_and_node_patterns_in_file_order(tmp_path):
    path = write(tmp_path, """
/**:
  ros__parameters:
    fixed_frame: odom
    render:
      rate: 5          # an int where a double is declared: accepted, as the node does
      width: 320
      eye: [1, 2, 3]
other_node:
  ros__parameters:
    fixed_frame: ignored
/robot/vuer_viewer:
  ros__parameters:
    render.height: 200
    marker_topics: /markers   # one string for a string list
    use_sim_time: true
    no_such: 1
""")
    values, unknown = read_params_file(path)
    assert unknown == ["no_such"]
    params, _ = viewer_params(path)
    assert params["fixed_frame"] == "odom"
    assert params["render.rate"] == 5.0 and isinstance(params["render.rate"], float)
    assert (params["render.width"], params["render.height"]) == (320, 200)
    assert params["render.eye"] == [1.0, 2.0, 3.0]
    assert params["marker_topics"] == ["/markers"]
    assert params["render.fov"] == 45.0  # untouched default (rviz's view)


@pytest.mark.parametrize("text,match", [
    ("/**:\n  ros__parameters:\n    render.fov: 400.0\n", "render.fov.*range"),
    ("/**:\n  ros__parameters:\n    render.width: wide\n", "render.width.*integer"),
    ("/**:\n  ros__parameters:\n    render.eye: [1, 2]\n", "render.eye.*3 numbers"),
    ("/**:\n  ros__parameters:\n    grid: 1\n", "grid.*true or false"),
    ("/**:\n  fixed_frame: map\n", "ros__parameters"),
    ("- a list\n", "map of node names"),
])
def test_values_the_node_would_refuse(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        viewer_params(write(tmp_path, text))


def test_overrides_win_over_the_file(tmp_path):
    path = write(tmp_path, "/**:\n  ros__parameters:\n    render:\n      rate: 5.0\n")
    params, _ = viewer_params(path, {"render.rate": 20})
    assert params["render.rate"] == 20.0
    with pytest.raises(ConfigError, match="unknown parameter"):
        viewer_params(path, {"render.nope": 1})


def test_render_options_from_a_config(tmp_path):
    from vuer_ros.bag import RenderOptions

    path = write(tmp_path, """
/**:
  ros__parameters:
    fixed_frame: odom
    marker_array_topics: [/a, b]
    render: {camera_frame: camera_link, fov: 70.0, jpeg_quality: 75, depth: true}
""")
    o = RenderOptions.create(path)
    assert o.fixed_frame == "odom" and o.topics_from_config
    assert o.marker_array_topics == ("/a", "/b")
    s = o.settings
    assert (s.camera_frame, s.fov, s.jpeg_quality, s.depth) == ("camera_link", 70.0, 75, True)
    # flags win; --eye/--target replace the configured camera frame by a fixed camera
    o = RenderOptions.create(path, fov=40.0, eye=(1, 1, 1), target=(0, 0, 0))
    assert (o.settings.fov, o.settings.camera_frame, o.settings.eye) == (40.0, "", (1.0, 1.0, 1.0))


def test_repo_viewer_yaml_is_accepted():
    path = ROOT / "config" / "viewer.yaml"
    if not path.exists():
        pytest.skip("config/viewer.yaml not written yet")
    params, unknown = viewer_params(path)
    assert unknown == []
    assert params["fixed_frame"]


def test_bag_rendering_does_not_import_rclpy():
    code = ("import sys, vuer_ros.config, vuer_ros.bag, vuer_ros.bag.cli, vuer_ros.bag.synthetic; "
            "sys.exit('rclpy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
