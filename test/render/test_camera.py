"""RenderCamera: CameraInfo, projection and the optical <-> three.js convention."""

import math

import numpy as np
import pytest

from vuer_ros.render.camera import RenderCamera, quat_to_matrix


def test_intrinsics_follow_three_projection():
    cam = RenderCamera(width=640, height=480, fov_y=90.0)
    info = cam.camera_info_fields()
    assert info["k"][0] == pytest.approx(240.0) and info["k"][4] == pytest.approx(240.0)
    assert (info["k"][2], info["k"][5]) == (319.5, 239.5)
    assert info["p"][3] == 0.0 and info["d"] == [0.0] * 5


def test_look_at_projects_target_to_principal_point():
    cam = RenderCamera.look_at([-3, 1, 2], [0, 0, 0.5], width=320, height=240, fov_y=50)
    u, v = cam.project(np.array([[0, 0, 0.5]]))[0]
    assert (u, v) == pytest.approx(cam.principal_point)


def test_world_left_is_image_left_and_up_is_image_up():
    cam = RenderCamera.look_at([-3, 0, 0], [0, 0, 0])  # looking along +X, ROS Y is left
    (ul, vl), (uu, vu) = cam.project(np.array([[0, 0.5, 0], [0, 0, 0.5]]))
    cx, cy = cam.principal_point
    assert ul < cx and vl == pytest.approx(cy)
    assert vu < cy and uu == pytest.approx(cx)


def test_three_camera_looks_down_minus_z_with_y_up():
    cam = RenderCamera.look_at([0, 0, 5], [3, 0, 5])
    R = quat_to_matrix(cam.three_quaternion())
    assert R @ [0, 0, -1] == pytest.approx([1, 0, 0])
    assert R @ [0, 1, 0] == pytest.approx([0, 0, 1])


@pytest.mark.parametrize("kw", [dict(width=0), dict(fov_y=180.0), dict(near=2.0, far=1.0)])
def test_bad_parameters_are_refused_with_the_value(kw):
    with pytest.raises(ValueError) as e:
        RenderCamera(**kw)
    assert str(next(iter(kw.values()))) in str(e.value)


def test_focal_length_matches_fov():
    cam = RenderCamera(height=480, fov_y=60)
    assert 2 * math.degrees(math.atan(240 / cam.focal_length)) == pytest.approx(60)
