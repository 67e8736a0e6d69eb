"""Camera path files (vuer_ros/render/camera_path.py) without a browser: keyframes are
met exactly at their times, the smooth path is continuous in position and velocity
through them and at rest at both ends, times outside clamp, linear is straight, a
followed frame carries its keyframes, an orbit keeps its radius, height and period
and looks at the frame's origin; bad files are refused with the file, line and key."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from vuer_ros.render.camera_path import CameraPathError, read_camera_path

NO_TF = {}


def write(tmp_path: Path, text: str, name: str = "path.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def origins(frames: dict[str, tuple[float, float, float]]):
    asked: list[tuple[str, str]] = []

    def origin(frame: str, what: str):
        asked.append((frame, what))
        return np.array(frames[frame]) if frame in frames else None
    origin.asked = asked   # type: ignore[attr-defined]
    return origin


KEYFRAMES = """
keyframes:
  - {t: 0.0, eye: [4.0, 0.0, 2.0], target: [0.0, 0.0, 0.5], fov: 50}
  - {t: 2.0, eye: [0.0, 4.0, 2.0], target: [0.0, 0.0, 0.0]}
  - {t: 3.0, eye: [-4.0, 0.0, 3.0], fov: 30}
  - {t: 5.0, eye: [0.0, -4.0, 1.0], target: [1.0, 0.0, 0.0], fov: 40}
"""


def test_keyframes_are_met_at_their_times_and_the_ends_clamp(tmp_path):
    path = read_camera_path(write(tmp_path, KEYFRAMES))
    assert [k.t for k in path.keyframes] == [0.0, 2.0, 3.0, 5.0]
    assert path.interpolation == "smooth" and path.frames() == {}
    want = [((4, 0, 2), (0, 0, 0.5), 50.0), ((0, 4, 2), (0, 0, 0), 45.0),
            ((-4, 0, 3), (0, 0, 0), 30.0), ((0, -4, 1), (1, 0, 0), 40.0)]
    for k, (eye, target, fov) in zip(path.keyframes, want):
        v = path.view(k.t, origins({}), 45.0)     # 45: the camera's own fov, for keyframe 1
        assert np.allclose(v.eye, eye) and np.allclose(v.target, target) and v.fov == pytest.approx(fov)
    for t, k in ((-1.0, 0), (5.0, 3), (99.0, 3)):
        v = path.view(t, origins({}), 45.0)
        assert np.allclose(v.eye, want[k][0]) and v.fov == pytest.approx(want[k][2])


def test_the_smooth_path_is_continuous_in_velocity_and_at_rest_at_the_ends(tmp_path):
    path = read_camera_path(write(tmp_path, KEYFRAMES))

    def eye(t: float) -> np.ndarray:
        return path.view(t, origins({}), 45.0).eye

    h = 1e-5
    for t in (2.0, 3.0):    # interior keyframes: the same velocity on either side
        before = (eye(t) - eye(t - h)) / h
        after = (eye(t + h) - eye(t)) / h
        assert np.allclose(before, after, atol=1e-3), (t, before, after)
        assert np.linalg.norm(after) > 0.5             # and it does move through them
    for t in (0.0 + h, 5.0 - h):   # at rest where it starts and stops
        assert np.linalg.norm((eye(t + h) - eye(t - h)) / (2 * h)) < 1e-3
    # between keyframes it moves continuously (no jumps on a fine grid)
    ts = np.linspace(0.0, 5.0, 501)
    steps = np.linalg.norm(np.diff([eye(t) for t in ts], axis=0), axis=1)
    assert steps.max() < 0.1


def test_linear_interpolation_is_straight_between_keyframes(tmp_path):
    path = read_camera_path(write(tmp_path, KEYFRAMES + "interpolation: linear\n"))
    v = path.view(1.0, origins({}), 45.0)
    assert np.allclose(v.eye, [2.0, 2.0, 2.0]) and np.allclose(v.target, [0.0, 0.0, 0.25])
    assert v.fov == pytest.approx(47.5)
    assert np.allclose(path.view(4.5, origins({}), 45.0).eye, [-1.0, -3.0, 1.5])


def test_a_followed_frame_carries_its_keyframes(tmp_path):
    path = read_camera_path(write(tmp_path, """
keyframes:
  - {t: 0, eye: [1, 0, 1]}
  - {t: 1, follow: /rover, eye: [-2, 0, 1], target: [0, 0, 0.3]}
interpolation: linear
"""))
    assert path.frames() == {"rover": f"camera path {tmp_path / 'path.yaml'} (keyframes[1].follow)"}
    at = origins({"rover": (10.0, 5.0, 0.0)})
    v = path.view(1.0, at, 45.0)
    assert np.allclose(v.eye, [8.0, 5.0, 1.0]) and np.allclose(v.target, [10.0, 5.0, 0.3])
    # halfway: between the fixed keyframe and the one placed at the frame's latest pose
    assert np.allclose(path.view(0.5, at, 45.0).eye, [4.5, 2.5, 1.0])
    # only the keyframes in use are placed: before the first, the frame is not asked for
    at0 = origins({})
    assert np.allclose(path.view(0.0, at0, 45.0).eye, [1, 0, 1]) and at0.asked == []
    assert path.view(0.9, origins({}), 45.0) is None      # rover unknown: no view


def test_an_orbit_circles_the_frame_at_its_radius_and_height_looking_at_its_origin(tmp_path):
    path = read_camera_path(write(tmp_path, """
orbit: {frame: rover, radius: 3, height: 1.5, period: 8, angle: 90, fov: 60}
"""))
    assert path.frames() == {"rover": f"camera path {tmp_path / 'path.yaml'} (orbit.frame)"}
    centre = np.array([1.0, 2.0, 0.0])
    at = origins({"rover": tuple(centre)})
    for t, deg in ((0.0, 90.0), (2.0, 180.0), (4.0, 270.0), (8.0, 90.0), (9.0, 135.0)):
        v = path.view(t, at, 45.0)
        a = math.radians(deg)
        assert np.allclose(v.eye, centre + [3 * math.cos(a), 3 * math.sin(a), 1.5]), (t, v.eye)
        assert np.allclose(v.target, centre) and v.fov == 60.0
    clockwise = read_camera_path(write(tmp_path, "orbit: {radius: 2, period: -4}\n", "cw.yaml"))
    v = clockwise.view(1.0, origins({}), 45.0)          # about the fixed frame's origin
    assert np.allclose(v.eye, [0.0, -2.0, 0.0]) and v.fov == 45.0


@pytest.mark.parametrize("text,where", [
    ("keyframes: []\n", r":1: keyframes: expected a list of at least one keyframe"),
    ("orbit: {radius: 1, period: 2}\nkeyframes: [{t: 0, eye: [1, 0, 0]}]\n",
     r":1: keyframes/orbit: give either keyframes .* not both"),
    ("{}\n", r":1: keyframes/orbit: give either .* neither"),
    ("- 1\n", r": expected a map \(keyframes"),
    ("keyframes:\n  - {t: 0, eye: [1, 0, 0]}\n  - {t: 2, eye: [0, 1, 0]}\n  - {t: 1, eye: [0, 0, 1]}\n",
     r":4: keyframes\[2\]\.t: 1 is not after keyframes\[1\]\.t \(2\): keyframe times must increase"),
    ("keyframes:\n  - t: 0\n    eye: [1, 0]\n", r":3: keyframes\[0\]\.eye: expected \[x, y, z\]"),
    ("keyframes:\n  - {t: 0}\n", r":2: keyframes\[0\]: eye is missing"),
    ("keyframes:\n  - {eye: [1, 0, 0]}\n", r":2: keyframes\[0\]: t is missing"),
    ("keyframes:\n  - t: 0\n    eye: [1, 0, 0]\n    fov: 200\n",
     r":4: keyframes\[0\]\.fov: 200 is outside 1 \.\. 170 degrees"),
    ("keyframes:\n  - t: 0\n    eye: [1, 0, 0]\n    zoom: 2\n",
     r":4: keyframes\[0\]\.zoom: unknown key \(use t, eye, target, fov, follow\)"),
    ("keyframes:\n  - {t: 0, eye: [1, 1, 1], target: [1, 1, 1]}\n", r":2: keyframes\[0\]: eye .* coincide"),
    ("keyframes:\n  - {t: -1, eye: [1, 1, 1]}\n", r":2: keyframes\[0\]\.t: -1 is outside"),
    ("keyframes:\n  - {t: 0, eye: [1, 1, 1], follow: ''}\n", r":2: keyframes\[0\]\.follow: expected a TF frame"),
    ("keyframes: [{t: 0, eye: [1, 0, 0]}]\ninterpolation: cubic\n",
     r":2: interpolation: 'cubic' is not one of smooth, linear"),
    ("orbit:\n  frame: base_link\n  radius: -1\n  period: 10\n", r":3: orbit\.radius: -1 must be > 0 m"),
    ("orbit:\n  radius: 1\n  period: 0\n", r":3: orbit\.period: 0 is not a period"),
    ("orbit:\n  radius: 1\n", r":2: orbit: period is missing"),
    ("orbit: {radius: 1, period: 5}\ninterpolation: linear\n", r":2: interpolation: applies to keyframes"),
    ("keyframes: [\n", r":2: not valid YAML"),
])
def test_bad_files_are_refused_naming_the_file_line_and_key(tmp_path, text, where):
    path = write(tmp_path, text, "bad.yaml")
    with pytest.raises(CameraPathError, match=rf"^camera path {path}{where}"):
        read_camera_path(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CameraPathError, match=r"camera path .*nope\.yaml: cannot read it"):
        read_camera_path(tmp_path / "nope.yaml")
