"""render.target_frame without ROS or a browser: the camera follows the frame's origin
(render.eye and render.target are offsets from it, as rviz's Orbit view with a Target
Frame) and keeps its orientation in the fixed frame however the frame turns; its pose
then goes out with each image on /tf (image_fields.py) instead of /tf_static; the
options and flags that select it; the player's TF display is on by default and leaves
the camera's own frames out."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scene"))
import scene_msgs as sm  # noqa: E402

from vuer_ros.config import ConfigError, viewer_params  # noqa: E402
from vuer_ros.render.camera import RenderCamera, quat_to_matrix  # noqa: E402
from vuer_ros.view.image_fields import image_fields  # noqa: E402
from vuer_ros.view.kinds import TF  # noqa: E402
from vuer_ros.view.options import RenderOptions, ViewOptions  # noqa: E402
from vuer_ros.view.player import ScenePlayer  # noqa: E402

S = 1_000_000_000
EYE, TARGET = [1.0, -3.0, 2.0], [0.0, 0.0, 0.5]


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def player(**params) -> ScenePlayer:
    values, _ = viewer_params(None, {"fixed_frame": "map", "render.eye": EYE,
                                     "render.target": TARGET, **params})
    p = ScenePlayer(ViewOptions.from_params(values))
    p.add_topic("/tf", TF)
    return p


def test_the_camera_follows_the_frames_origin_and_keeps_its_orientation():
    p = player(**{"render.target_frame": "/rover"})
    fixed = RenderCamera.look_at(EYE, TARGET, fov_y=45.0)
    assert p.camera() is None and p.camera() is None      # no TF yet: no images
    (problem,) = p.problems.active(("render-camera", "rover"))
    assert "render.target_frame 'rover'" in problem.message
    for k, (xyz, deg) in enumerate((((1.0, 2.0, 0.0), 0.0), ((3.0, -1.0, 0.2), 90.0),
                                    ((-2.0, 0.5, 0.0), 200.0))):
        p.feed("/tf", sm.tf_msg(sm.tf("map", "rover", xyz, yaw(deg), ns=(k + 1) * S)), (k + 1) * S)
        cam = p.camera()
        assert cam is not None
        assert np.allclose(cam.position, np.add(EYE, xyz))
        assert np.allclose(quat_to_matrix(cam.orientation), quat_to_matrix(fixed.orientation))
        # the point the camera looks at is the frame's origin plus render.target
        assert np.allclose(cam.project(np.add(TARGET, xyz)), [[319.5, 239.5]])
    assert not p.problems.active(("render-camera", "rover"))
    # its pose goes out with each image, as the fixed frame's child at the image's stamp
    assert p.settings.camera_mount("map") is None and p.camera_tf_parent() == "map"
    out = image_fields(np.zeros((480, 640, 3), np.uint8), None, cam, 7 * S, "vuer_camera_optical", 90,
                       camera_tf_parent=p.camera_tf_parent())
    tf = out["/tf"].values["transforms"][0].values
    assert tf["header"].values["frame_id"] == "map" and tf["child_frame_id"] == "vuer_camera_optical"
    assert tf["header"].values["stamp"].values == {"sec": 7, "nanosec": 0}
    t = tf["transform"].values
    assert [t["translation"].values[a] for a in "xyz"] == pytest.approx(cam.position)
    assert [t["rotation"].values[a] for a in "xyzw"] == pytest.approx(cam.orientation)


def test_a_still_camera_stays_on_tf_static():
    p = player()
    assert p.camera_tf_parent() is None
    cam = p.camera()
    assert "/tf" not in image_fields(np.zeros((480, 640, 3), np.uint8), None, cam, S, "o", 90)
    p = player(**{"render.target_frame": "map"})      # the fixed frame itself: still, but on /tf
    assert np.allclose(p.camera().position, EYE) and p.camera_tf_parent() == "map"


def test_target_frame_and_camera_frame_exclude_each_other():
    with pytest.raises(ConfigError, match="render.camera_frame 'cam' and render.target_frame 'rover'"):
        player(**{"render.camera_frame": "cam", "render.target_frame": "rover"})
    with pytest.raises(ConfigError, match="--target-frame"):
        RenderOptions.create(camera_frame="cam", target_frame="rover")
    # a flag for one clears the other set in the parameters
    o = RenderOptions.create(params={"render.camera_frame": "cam"}, target_frame="rover")
    assert (o.settings.camera_frame, o.settings.target_frame) == ("", "rover")
    o = RenderOptions.create(params={"render.target_frame": "rover"}, camera_frame="cam")
    assert (o.settings.camera_frame, o.settings.target_frame) == ("cam", "")
    assert o.settings.camera_parent("map") == "cam"


def test_the_tf_display_is_on_by_default_and_leaves_out_the_cameras_frames():
    p = player(**{"render.camera_frame": "cam_link"})
    assert p.tf_display is not None
    assert p.tf_display.hidden == {"vuer_camera_optical", "cam_link"}
    assert player(**{"displays.tf.enabled": False}).tf_display is None
    shown = player(**{"displays.tf.show_names": True, "displays.tf.marker_scale": 2.0})
    assert shown.tf_display is not None
    assert (shown.tf_display.show_names, shown.tf_display.scale) == (True, 2.0)
