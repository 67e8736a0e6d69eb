"""The player's cameras without ROS or a browser: a camera on a path is where its file says
at the time since the path's start (the first tick with a clock; again after ROS time
jumps back), its pose goes out with each image on /tf; listed cameras come out of one
tick together, each with its own lens and frame; cameras fixed on TF share one
/tf_static message; a path through a frame without TF gives no image, reported once."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scene"))
import scene_msgs as sm  # noqa: E402

from vuer_ros.config import viewer_params  # noqa: E402
from vuer_ros.render.camera import RenderCamera  # noqa: E402
from vuer_ros.render.camera_path import read_camera_path  # noqa: E402
from vuer_ros.view.image_fields import static_cameras_tf  # noqa: E402
from vuer_ros.view.kinds import TF  # noqa: E402
from vuer_ros.view.options import ViewOptions  # noqa: E402
from vuer_ros.view.player import ScenePlayer  # noqa: E402

S = 1_000_000_000
PATH = """
keyframes:
  - {t: 0, eye: [4, 0, 2], target: [0, 0, 0]}
  - {t: 2, eye: [0, 4, 2], fov: 60}
  - {t: 4, follow: rover, eye: [-2, 0, 1]}
"""


def player(**params) -> ScenePlayer:
    values, _ = viewer_params(None, {"fixed_frame": "map", **params})
    p = ScenePlayer(ViewOptions.from_params(values))
    p.add_topic("/tf", TF)
    return p


def same_pose(camera: RenderCamera, eye, target) -> bool:
    want = RenderCamera.look_at(eye, target, width=camera.width, height=camera.height,
                                fov_y=camera.fov_y)
    return bool(np.allclose(camera.position, want.position)
                and abs(abs(np.dot(camera.orientation, want.orientation)) - 1) < 1e-9)


def test_a_camera_on_a_path_is_where_the_file_says_at_the_path_time(tmp_path):
    file = tmp_path / "tour.yaml"
    file.write_text(PATH)
    path = read_camera_path(file)
    p = player(**{"render.camera_path": str(file), "render.width": 320, "render.height": 240})
    p.feed("/tf", sm.tf_msg(sm.tf("map", "rover", (5.0, 1.0, 0.0), ns=S)), S)
    t0 = 100 * S
    for t_s in (0.0, 0.7, 2.0, 3.1, 4.0, 9.0):
        events, ((spec, cam),) = p.tick(t0 + round(t_s * S))
        if t_s == 0.0:
            assert p.path_start_ns == t0       # the first tick with a clock
        assert spec.name == "" and spec.topics.image == "vuer/image"
        view = path.view(t_s, lambda f, w: np.array([5.0, 1.0, 0.0]) if f == "rover" else None, 45.0)
        assert same_pose(cam, view.eye, view.target), t_s
        assert cam.fov_y == pytest.approx(view.fov) and (cam.width, cam.height) == (320, 240)
        assert p.camera_tf_parent(spec) == "map"        # it moves: its pose with each image
    assert same_pose(cam, [3.0, 1.0, 1.0], [5.0, 1.0, 0.0]) and cam.fov_y == pytest.approx(45.0)
    # ROS time jumps back (a looped bag): the path starts again there
    p.tick(10 * S)
    assert p.resets == 1 and p.path_start_ns == 10 * S
    p.feed("/tf", sm.tf_msg(sm.tf("map", "rover", (5.0, 1.0, 0.0), ns=10 * S)), 10 * S)
    _, ((_, cam),) = p.tick(10 * S + S // 2)
    view = path.view(0.5, lambda f, w: np.array([5.0, 1.0, 0.0]), 45.0)
    assert same_pose(cam, view.eye, view.target)


def test_sim_time_before_a_clock_does_not_start_the_path(tmp_path):
    file = tmp_path / "tour.yaml"
    file.write_text(PATH)
    p = player(**{"render.camera_path": str(file)})
    _, ((_, cam),) = p.tick(0)
    assert p.path_start_ns is None and same_pose(cam, [4, 0, 2], [0, 0, 0])
    p.tick(50 * S)
    assert p.path_start_ns == 50 * S


def test_a_path_frame_without_tf_gives_no_image_reported_once(tmp_path):
    file = tmp_path / "orbit.yaml"
    file.write_text("orbit: {frame: rover, radius: 2, height: 1, period: 4}\n")
    p = player(**{"render.camera_path": str(file)})
    assert p.tick(S)[1][0][1] is None and p.tick(2 * S)[1][0][1] is None
    (problem,) = p.problems.active(("render-camera", "rover"))
    assert f"camera path {file} (orbit.frame) 'rover'" in problem.message
    p.feed("/tf", sm.tf_msg(sm.tf("map", "rover", (1.0, 2.0, 0.0), ns=3 * S)), 3 * S)
    _, ((_, cam),) = p.tick(3 * S)            # 2 s into the path: half a turn
    assert np.allclose(cam.position, [1.0 - 2.0, 2.0, 1.0])
    assert np.allclose(cam.project(np.array([1.0, 2.0, 0.0])), [[319.5, 239.5]])
    assert not p.problems.active(("render-camera", "rover"))


def test_listed_cameras_come_out_of_one_tick_each_with_its_own_lens_and_frame(tmp_path):
    file = tmp_path / "orbit.yaml"
    file.write_text("orbit: {radius: 3, height: 2, period: 8}\n")
    p = player(**{"render.cameras.front.width": 200, "render.cameras.front.height": 100,
                  "render.cameras.front.fov": 70.0, "render.cameras.front.camera_frame": "cam_link",
                  "render.cameras.overview.eye": [6.0, -6.0, 5.0],
                  "render.cameras.circling.path": str(file), "render.cameras.circling.fov": 30.0})
    p.feed("/tf", sm.tf_msg(sm.tf("map", "cam_link", (1.0, 0.0, 0.5), ns=S)), S)
    _, shots = p.tick(S)
    assert [spec.name for spec, _ in shots] == ["circling", "front", "overview"]
    (circling, c), (front, f), (overview, o) = shots
    assert (f.width, f.height, f.fov_y) == (200, 100, 70.0) and np.allclose(f.position, [1, 0, 0.5])
    assert (o.width, o.height, o.fov_y) == (640, 480, 45.0) and np.allclose(o.position, [6, -6, 5])
    assert c.fov_y == 30.0 and np.allclose(c.position, [3.0, 0.0, 2.0])
    assert [p.camera_tf_parent(s) for s, _ in shots] == ["map", None, None]
    # the TF display leaves out every camera's own frames; the scene ignores their optical frames
    assert p.tf_display.hidden == {"vuer_circling_optical", "vuer_front_optical", "cam_link",
                                   "vuer_overview_optical"}
    assert p.model.frames.ignored == {"vuer_circling_optical", "vuer_front_optical",
                                      "vuer_overview_optical"}
    # the cameras fixed on TF go out in one /tf_static message (a latched topic keeps one)
    tf = static_cameras_tf(S, p.settings.camera_specs, "map")
    got = {t.values["child_frame_id"]: t.values["header"].values["frame_id"]
           for t in tf.values["transforms"]}
    assert got == {"vuer_front_optical": "cam_link", "vuer_overview_optical": "map"}
    assert static_cameras_tf(S, [circling], "map") is None
