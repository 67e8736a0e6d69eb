"""rviz2's Orbit view as a RenderCamera: the defaults, the eye formula, and the
inverse that gives rviz's Distance/Yaw/Pitch for a camera placed by eye/target."""

import math

import numpy as np
import pytest

from vuer_ros.render.camera import quat_to_matrix
from vuer_ros.render.rviz_view import RVIZ_ORBIT_DEFAULTS, orbit_eye, orbit_from_eye, rviz_orbit_camera


def test_the_defaults_are_rviz2s_orbit_view():
    d = RVIZ_ORBIT_DEFAULTS
    assert (d.distance, d.focal_point, d.near) == (10.0, (0.0, 0.0, 0.0), 0.01)
    assert d.yaw == pytest.approx(0.785398, abs=1e-6) and d.pitch == pytest.approx(0.785398, abs=1e-6)
    assert d.fov == pytest.approx(0.785398, abs=1e-6)


def test_the_default_camera_sits_at_5_5_7071_looking_at_the_origin_z_up():
    cam = rviz_orbit_camera(width=800, height=600)
    assert cam.position == pytest.approx([5.0, 5.0, 10 * math.sqrt(0.5)], abs=1e-9)
    assert cam.fov_y == pytest.approx(45.0)
    assert (cam.width, cam.height, cam.near) == (800, 600, 0.01)
    # the focal point is on the optical axis: it projects to the principal point
    assert cam.project(np.zeros((1, 3)))[0] == pytest.approx(cam.principal_point, abs=1e-6)
    r = quat_to_matrix(cam.orientation)   # columns: optical x (right), y (down), z (forward)
    assert r[:, 0][2] == pytest.approx(0.0, abs=1e-9)     # no roll: image rows stay level
    assert r[:, 1][2] < 0                                  # image down is world down-ish
    # a point above the focal point appears above the image centre
    assert cam.project(np.array([[0.0, 0.0, 1.0]]))[0][1] < cam.principal_point[1]


@pytest.mark.parametrize("distance, yaw, pitch, focal", [
    (10.0, math.pi / 4, math.pi / 4, (0, 0, 0)),
    (3.5, -2.0, 0.3, (1.0, -2.0, 0.5)),
    (20.0, 3.0, -0.6, (0, 0, 0)),
])
def test_eye_formula_and_its_inverse(distance, yaw, pitch, focal):
    eye = orbit_eye(distance, yaw, pitch, focal)
    expected = np.array(focal) + distance * np.array(
        [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])
    assert eye == pytest.approx(expected)
    d, y, p = orbit_from_eye(eye, focal)
    assert (d, p) == pytest.approx((distance, pitch))
    assert math.remainder(y - yaw, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_out_of_range_values_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="distance"):
        rviz_orbit_camera(distance=0.0)
    with pytest.raises(ValueError, match="pitch"):
        rviz_orbit_camera(pitch=math.pi / 2)
    with pytest.raises(ValueError, match="fov"):
        rviz_orbit_camera(fov=0.0)
