"""Listed render cameras (vuer_ros/cameras.py) and camera paths through the options, without
ROS or a browser: cameras from a parameter file's render.cameras map, from a cameras file
and from flags; what they inherit from render.*; their topics and optical frames; every
bad entry refused naming its key (and a file's line); the keys table in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from vuer_ros.cameras import markdown_table
from vuer_ros.config import ConfigError, viewer_params
from vuer_ros.params import CameraTopics
from vuer_ros.view.options import RenderOptions, ViewOptions

ROOT = Path(__file__).resolve().parents[1]
ORBIT = "orbit: {frame: rover, radius: 2, height: 1, period: 10}\n"


def options(tmp_path: Path, text: str) -> ViewOptions:
    path = tmp_path / "viewer.yaml"
    path.write_text(text)
    values, unknown = viewer_params(path)
    assert unknown == []
    return ViewOptions.from_params(values)


def test_a_parameter_file_lists_cameras_that_replace_the_nodes_own(tmp_path):
    (tmp_path / "orbit.yaml").write_text(ORBIT)
    o = options(tmp_path, f"""
/**:
  ros__parameters:
    render:
      width: 400
      fov: 50.0
      cameras:
        top: {{path: {tmp_path / 'orbit.yaml'}, height: 200}}
        front: {{width: 320, height: 240, fov: 70.0, camera_frame: /base_link}}
        side: {{target_frame: rover, eye: [0, -3, 1], optical_frame: side_cam}}
""")
    s = o.settings
    assert [c.name for c in s.camera_specs] == ["front", "side", "top"]      # by name
    front, side, top = s.camera_specs
    assert (front.width, front.height, front.fov, front.camera_frame) == (320, 240, 70.0, "base_link")
    assert front.optical_frame == "vuer_front_optical"
    assert front.topics == CameraTopics("vuer/front/image", "vuer/front/image/compressed",
                                        "vuer/front/camera_info", "vuer/front/depth")
    # what a camera leaves out comes from render.*: size, fov, clip range, eye, target
    assert (side.width, side.height, side.fov, side.near) == (400, 480, 50.0, 0.05)
    assert side.eye == (0.0, -3.0, 1.0) and side.target == (0.0, 0.0, 0.0)
    assert side.optical_frame == "side_cam" and side.camera_mount("map") is None
    assert top.path is not None and top.path.orbit.radius == 2.0 and top.height == 200
    assert top.camera_mount("map") is None and top.tf_frames() == top.path.frames()
    assert front.camera_mount("map")[0] == "base_link"
    # the node's own camera is still the render.* one, with today's topics
    assert s.camera.topics == CameraTopics.of("") and s.camera.topics.image == "vuer/image"


def test_a_cameras_file_with_paths_relative_to_it_and_flags(tmp_path):
    (tmp_path / "paths").mkdir()
    (tmp_path / "paths" / "orbit.yaml").write_text(ORBIT)
    cams = tmp_path / "cams.yaml"
    cams.write_text("wide: {width: 640, height: 360, fov: 90}\n"
                    "circling: {path: paths/orbit.yaml, width: 160, height: 120}\n")
    o = RenderOptions.create(cameras_file=str(cams), width=320, fov=40.0)
    wide, circling = sorted(o.settings.camera_specs, key=lambda c: c.name != "wide")
    assert (wide.width, wide.height, wide.fov) == (640, 360, 90.0)
    assert (circling.width, circling.height, circling.fov) == (160, 120, 40.0)
    assert circling.path.source == str(tmp_path / "paths" / "orbit.yaml")
    # -p sets a camera key as the parameter file does
    o = RenderOptions.create(params={"render.cameras.front.width": 200,
                                     "render.cameras.front.camera_frame": "cam"})
    (front,) = o.settings.camera_specs
    assert (front.name, front.width, front.camera_frame) == ("front", 200, "cam")


def test_camera_path_for_the_nodes_own_camera(tmp_path):
    path = tmp_path / "orbit.yaml"
    path.write_text(ORBIT)
    o = RenderOptions.create(params={"render.camera_frame": "cam"}, camera_path=str(path))
    s = o.settings
    assert s.camera_path is not None and s.camera_frame == ""     # the flag clears the frame
    assert s.camera.camera_mount("map") is None and s.camera.tf_frames() == {
        "rover": f"camera path {path} (orbit.frame)"}
    o = RenderOptions.create(params={"render.camera_path": str(path)}, eye=(1, 2, 3))
    assert o.settings.camera_path is None     # a flag placing the camera clears a configured path
    with pytest.raises(ConfigError, match="--camera-path.*not both"):
        RenderOptions.create(camera_path=str(path), camera_frame="cam")
    with pytest.raises(ConfigError, match="--camera-path places the single camera"):
        RenderOptions.create(camera_path=str(path), cameras_file=str(path))
    with pytest.raises(ConfigError, match="render.camera_frame 'cam' and render.camera_path"):
        RenderOptions.create(params={"render.camera_frame": "cam", "render.camera_path": str(path)})


@pytest.mark.parametrize("params,match", [
    ({"render.cameras.front.zoom": 2}, r"render\.cameras\.front\.zoom: a camera has no key 'zoom'"),
    ({"render.cameras.front.width": 10}, r"render\.cameras\.front\.width: 10 is outside its range 16 \.\. 4096"),
    ({"render.cameras.front.fov": "wide"}, r"render\.cameras\.front\.fov: expected a number"),
    ({"render.cameras.front.eye": [1, 2]}, r"render\.cameras\.front\.eye: expected 3 numbers"),
    ({"render.cameras.front.camera_frame": "a", "render.cameras.front.target_frame": "b"},
     r"render\.cameras\.front\.camera_frame 'a' and render\.cameras\.front\.target_frame 'b'"),
    ({"render.cameras.front.eye": [1, 1, 1], "render.cameras.front.target": [1, 1, 1]},
     r"render\.cameras\.front\.eye/render\.cameras\.front\.target: camera eye .* coincide"),
    ({"render.cameras.front-1.width": 100}, r"render\.cameras\.front-1: camera name 'front-1' must be"),
    ({"render.cameras.front": 1}, r"parameter render\.cameras\.front: write render\.cameras\.<name>\.<key>"),
    ({"render.cameras.a.optical_frame": "cam", "render.cameras.b.optical_frame": "cam"},
     r"cameras 'a' and 'b' have the same optical frame 'cam'"),
    ({"render.cameras.front.path": "/nonexistent/p.yaml"},
     r"render\.cameras\.front\.path: camera path /nonexistent/p\.yaml: cannot read it"),
])
def test_a_wrong_camera_entry_names_its_key(params, match):
    with pytest.raises(ConfigError, match=match):
        RenderOptions.create(params=params)


def test_a_cameras_file_error_names_the_file_line_and_key(tmp_path):
    cams = tmp_path / "cams.yaml"
    cams.write_text("front:\n  width: 320\n  fov: 400\n")
    with pytest.raises(ConfigError, match=rf"^cameras file {cams}:3: front\.fov: 400.0 is outside"):
        RenderOptions.create(cameras_file=str(cams))
    (tmp_path / "bad_path.yaml").write_text("orbit:\n  radius: 0\n  period: 3\n")
    cams.write_text("top:\n  path: bad_path.yaml\n")
    with pytest.raises(ConfigError, match=rf"^cameras file {cams}:2: top\.path: camera path "
                                          rf"{tmp_path / 'bad_path.yaml'}:2: orbit\.radius: 0 must be > 0"):
        RenderOptions.create(cameras_file=str(cams))
    cams.write_text("- front\n")
    with pytest.raises(ConfigError, match="expected a map of camera names"):
        RenderOptions.create(cameras_file=str(cams))
    cams.write_text("front: {width: 320}\n")
    with pytest.raises(ConfigError, match=rf"cameras file {cams}:1: front: camera 'front' is listed "
                                          r"twice \(also as render\.cameras\.front\)"):
        RenderOptions.create(params={"render.cameras.front.fov": 30.0}, cameras_file=str(cams))


def test_the_parameters_doc_shows_the_current_camera_keys():
    doc = (ROOT / "docs" / "parameters.md").read_text()
    assert markdown_table() in doc, ("docs/parameters.md's camera keys are out of date: run "
                                     "`python -m vuer_ros.cameras --write docs/parameters.md`")
