"""Camera paths and several cameras through render-bag (real bags, real Chromium, the
command line as users run it): a camera on a keyframe path is, at every frame, where the
path file says at that bag time (its pose on the output bag's /tf), and that pose with
/vuer/camera_info puts a known box where the image shows it; an orbit keeps the orbited
frame's origin at the image centre while it turns and the frame drives; two cameras of
different sizes and fovs in one run each match their own CameraInfo and TF, on their own
topics, with a video and a PNG folder each; bad path and cameras files are refused with
one line naming the file, line and key, before anything is rendered."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from bag_helpers import image_array, read_bag, stamp_ns
from pixels import box_corners, hue_mask, measured_silhouette, predicted_silhouette

from vuer_ros.bag.cli import add_arguments, run
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag
from vuer_ros.render.camera import RenderCamera, optical_look_at
from vuer_ros.render.camera_path import read_camera_path

RATE, TICKS = 10.0, 20                      # 2 s of bag time
CUBE, CUBE_SIZE = (0.5, 3.5, 0.25), 0.5     # red, in world
BALL = 0.3                                  # green sphere at rover's origin
RED, GREEN = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
PREFIX = "vuer-ros render-bag: error: "
BASE = ["--fixed-frame", "world", "--rate", str(RATE), "-p", "grid=false",
        "-p", "displays.tf.enabled=false", "--quiet"]

TOUR = """
keyframes:
  - {t: 0.0, eye: [3.0, -2.0, 2.5], target: [0.5, 3.0, 0.2]}
  - {t: 0.8, eye: [4.0, 1.0, 2.0], target: [0.5, 3.5, 0.3], fov: 55}
  - {t: 1.4, follow: rover, eye: [-1.5, -1.0, 2.2], target: [0.7, 4.0, 0.0]}
  - {t: 2.0, eye: [-2.0, 0.0, 3.0], target: [0.5, 3.5, 0.25], fov: 40}
"""
ORBIT = "orbit: {frame: rover, radius: 2.5, height: 1.2, period: 4.0, angle: -90}\n"
CAMERAS = """
wide: {width: 320, height: 180, fov: 70.0, eye: [4.5, -4.5, 3.5], target: [0.0, 1.0, 0.2]}
orbit: {width: 160, height: 120, fov: 40.0, path: orbit.yaml}
"""


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def rover_xyz(t_s: float) -> np.ndarray:
    """world -> rover: it drives along +X (and turns, which an orbit ignores)."""
    return np.array([-1.0 + 0.6 * t_s, -0.5, 0.0])


def scene_bag(path: Path) -> Path:
    store = typestore()
    m = MessageFactory(store)
    msgs = [(T0_NS, "/visualization_marker", m.marker(T0_NS, "cube", 0, 1, "world", CUBE,
                                                      (CUBE_SIZE,) * 3, (*RED, 1.0))),
            (T0_NS, "/visualization_marker", m.marker(T0_NS, "ball", 0, 2, "rover", (0, 0, 0),
                                                      (BALL,) * 3, (*GREEN, 1.0)))]
    for i in range(41):                     # 20 Hz, on every tick of 10 Hz too
        t = T0_NS + i * 50_000_000
        msgs.append((t, "/tf", m.tf_message(m.tf(t, "world", "rover", rover_xyz(i * 0.05),
                                                 yaw(45.0 * i * 0.05)))))
    return write_bag(path, sorted(msgs, key=lambda x: x[0]), store)


def cli(argv, capsys) -> tuple[int, list[str], str]:
    parser = argparse.ArgumentParser(prog="vuer-ros render-bag")
    add_arguments(parser)
    code = run(parser.parse_args([str(a) for a in argv]))
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith(PREFIX)], err


def camera_at(out, camera: str, optical: str, index: int) -> tuple[RenderCamera, int]:
    """Camera ``index`` of a camera's frames as a ROS user finds it in the output bag:
    K and size from its camera_info, the pose of its optical frame from /tf at the image's
    stamp (a camera that moves) or from /tf_static (one fixed on TF)."""
    info = out[f"{camera}/camera_info"][index][1]
    stamp = stamp_ns(info.header.stamp)
    assert info.header.frame_id == optical
    found = [t for _, msg, _, _ in out.get("/tf", []) for t in msg.transforms
             if t.child_frame_id == optical and stamp_ns(t.header.stamp) == stamp]
    if not found:
        found = [t for _, msg, _, _ in out["/tf_static"] for t in msg.transforms
                 if t.child_frame_id == optical]
    (tf,) = found
    assert tf.header.frame_id == "world"
    fov = math.degrees(2 * math.atan((info.height / 2) / float(info.k[4])))
    tr, q = tf.transform.translation, tf.transform.rotation
    cam = RenderCamera(int(info.width), int(info.height), fov, 0.05, 100.0,
                       np.array([tr.x, tr.y, tr.z]), np.array([q.x, q.y, q.z, q.w]))
    np.testing.assert_allclose(cam.K.flatten(), np.asarray(info.k), atol=1e-9)
    return cam, stamp


def inside(camera: RenderCamera, corners: np.ndarray, margin: float = 2.0) -> bool:
    uv = camera.project(corners)
    return bool((uv[:, 0] > margin).all() and (uv[:, 0] < camera.width - 1 - margin).all()
                and (uv[:, 1] > margin).all() and (uv[:, 1] < camera.height - 1 - margin).all())


def assert_cube_where_predicted(rgb: np.ndarray, camera: RenderCamera, where: str) -> None:
    corners = box_corners(CUBE, [CUBE_SIZE] * 3)
    area, want, _ = predicted_silhouette(camera, corners)
    got_area, got, _ = measured_silhouette(hue_mask(rgb, RED))
    assert np.linalg.norm(got - want) < 2.0, (where, got, want)
    assert abs(got_area - area) < 0.15 * area + 20, (where, got_area, area)


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cameras")
    bag = scene_bag(root / "scene.mcap")
    (root / "tour.yaml").write_text(TOUR)
    (root / "orbit.yaml").write_text(ORBIT)
    (root / "cams.yaml").write_text(CAMERAS)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    tour = root / "tour.mcap"
    code = run(parser.parse_args([str(bag), "-o", str(tour), "--camera-path", str(root / "tour.yaml"),
                                  "--size", "240x180", *BASE]))
    assert code == 0
    many = root / "many.mcap"
    code = run(parser.parse_args([str(bag), "-o", str(many), "--video", str(root / "run.mp4"),
                                  "--frames", str(root / "png"), "--cameras",
                                  str(root / "cams.yaml"), *BASE]))
    assert code == 0
    return {"root": root, "bag": bag, "tour": read_bag(tour), "many": read_bag(many)}


def test_a_keyframe_path_puts_the_camera_where_the_file_says_and_the_box_where_tf_says(renders):
    out = renders["tour"]
    path = read_camera_path(renders["root"] / "tour.yaml")
    images = out["/vuer/image"]
    assert len(images) == TICKS and len(out["/vuer/camera_info"]) == TICKS
    checked, positions = 0, []
    for k, (_, msg, _, _) in enumerate(images):
        camera, stamp = camera_at(out, "/vuer", "vuer_camera_optical", k)
        assert stamp == stamp_ns(msg.header.stamp) == T0_NS + k * 100_000_000
        t_s = (stamp - T0_NS) / 1e9      # path time: bag time from the bag's first message
        view = path.view(t_s, lambda frame, what, t_s=t_s: rover_xyz(t_s), 45.0)
        assert np.allclose(camera.position, view.eye, atol=1e-6), (k, camera.position, view.eye)
        assert abs(abs(np.dot(camera.orientation, optical_look_at(view.eye, view.target))) - 1) < 1e-9
        assert camera.fov_y == pytest.approx(view.fov, abs=1e-6)
        positions.append(camera.position)
        if inside(camera, box_corners(CUBE, [CUBE_SIZE] * 3)):
            assert_cube_where_predicted(image_array(msg), camera, f"tour frame {k}")
            checked += 1
    assert checked >= 12, checked
    assert np.linalg.norm(np.diff(positions, axis=0), axis=1).min() > 0.0   # it never stood still
    fovs = {round(float(m.k[4]), 3) for _, m, _, _ in out["/vuer/camera_info"]}
    assert len(fovs) > 5                                                     # fov interpolated too


def test_an_orbit_keeps_its_frames_origin_at_the_image_centre(renders):
    out = renders["many"]
    angles = []
    for k in range(TICKS):
        camera, stamp = camera_at(out, "/vuer/orbit", "vuer_orbit_optical", k)
        t_s = (stamp - T0_NS) / 1e9
        rover = rover_xyz(t_s)
        a = math.radians(-90.0) + 2 * math.pi * t_s / 4.0
        assert np.allclose(camera.position, rover + [2.5 * math.cos(a), 2.5 * math.sin(a), 1.2],
                           atol=1e-6), k
        rgb = image_array(out["/vuer/orbit/image"][k][1])
        _, centre, _ = measured_silhouette(hue_mask(rgb, GREEN))
        assert np.linalg.norm(centre - [79.5, 59.5]) < 1.0, (k, centre)
        angles.append(math.atan2(*(camera.position - rover)[1::-1]))
    turned = np.degrees(np.unwrap(angles)[-1] - angles[0])
    assert turned == pytest.approx(360.0 * 1.9 / 4.0, abs=1e-3)          # it really went round


def test_two_cameras_each_match_their_own_camera_info_on_their_own_topics(renders):
    out, root = renders["many"], renders["root"]
    mine = {t for t in out if t.startswith("/vuer")}
    assert mine == {f"/vuer/{c}/{t}" for c in ("wide", "orbit")
                    for t in ("image", "image/compressed", "camera_info")}
    for camera, optical, (w, h, fov) in (("wide", "vuer_wide_optical", (320, 180, 70.0)),
                                         ("orbit", "vuer_orbit_optical", (160, 120, 40.0))):
        stamps = []
        for k, (_, msg, _, _) in enumerate(out[f"/vuer/{camera}/image"]):
            cam, stamp = camera_at(out, f"/vuer/{camera}", optical, k)
            assert (msg.width, msg.height, cam.width, cam.height) == (w, h, w, h)
            assert msg.header.frame_id == optical and stamp == stamp_ns(msg.header.stamp)
            assert cam.K[1, 1] == pytest.approx((h / 2) / math.tan(math.radians(fov) / 2))
            stamps.append(stamp)
            if inside(cam, box_corners(CUBE, [CUBE_SIZE] * 3)):
                assert_cube_where_predicted(image_array(msg), cam, f"{camera} frame {k}")
        assert stamps == [T0_NS + k * 100_000_000 for k in range(TICKS)], camera
    # the fixed camera on /tf_static once (one message of the render's), the orbit on /tf
    static = [[t.child_frame_id for t in msg.transforms] for _, msg, _, _ in out["/tf_static"]]
    assert static == [["vuer_wide_optical"]]
    moving = [t for _, msg, _, _ in out["/tf"] for t in msg.transforms
              if t.child_frame_id == "vuer_orbit_optical"]
    assert len(moving) == TICKS
    # a video and a PNG folder per camera, each at its camera's size
    import av
    for camera, (w, h) in (("wide", (320, 180)), ("orbit", (160, 120))):
        with av.open(str(root / f"run_{camera}.mp4")) as video:
            frames = list(video.decode(video=0))
        assert len(frames) == TICKS and (frames[0].width, frames[0].height) == (w, h)
        folder = root / "png" / camera
        with open(folder / "timestamps.csv") as f:
            rows = list(csv.DictReader(f))
        assert [int(r["stamp_ns"]) for r in rows] == [T0_NS + k * 100_000_000 for k in range(TICKS)]
        png = cv2.imread(str(folder / rows[3]["file"]), cv2.IMREAD_COLOR)
        want = image_array(out[f"/vuer/{camera}/image"][3][1])
        assert np.array_equal(cv2.cvtColor(png, cv2.COLOR_BGR2RGB), want)
    assert not (root / "run.mp4").exists() and not (root / "png" / "frame_000000.png").exists()


# -- refused before anything renders -------------------------------------------------------------
def test_a_bad_path_file_is_refused_with_its_file_line_and_key(tmp_path, capsys):
    bag = scene_bag(tmp_path / "scene.mcap")
    bad = tmp_path / "bad.yaml"
    bad.write_text("keyframes:\n  - {t: 1, eye: [1, 0, 1]}\n  - {t: 0.5, eye: [2, 0, 1]}\n")
    code, errors, err = cli([bag, "-o", tmp_path / "o.mcap", "--camera-path", bad, *BASE], capsys)
    assert code == 2 and errors == [
        f"{PREFIX}render.camera_path: camera path {bad}:3: keyframes[1].t: 0.5 is not after "
        "keyframes[0].t (1): keyframe times must increase"], err
    cams = tmp_path / "cams.yaml"
    cams.write_text("front:\n  width: 320\n  zoom: 2\n")
    code, errors, err = cli([bag, "-o", tmp_path / "o.mcap", "--cameras", cams, *BASE], capsys)
    assert code == 2 and len(errors) == 1 and f"cameras file {cams}:3: front.zoom: a camera has " \
        "no key 'zoom'" in errors[0], err
    code, errors, err = cli([bag, "--video", tmp_path / "o.mp4", "--camera-path", bad,
                             "--camera-frame", "rover", *BASE], capsys)
    assert code == 2 and "not both" in errors[0], err
    assert not (tmp_path / "o.mcap").exists() and not (tmp_path / "o.mp4").exists()


def test_a_path_through_a_frame_the_bag_lacks_is_named(tmp_path, capsys):
    bag = scene_bag(tmp_path / "scene.mcap")
    path = tmp_path / "p.yaml"
    path.write_text("keyframes:\n  - {t: 0, eye: [1, 0, 1]}\n  - {t: 1, follow: nowhere, eye: [2, 0, 1]}\n")
    code, errors, err = cli([bag, "-o", tmp_path / "o.mcap", "--camera-path", path, *BASE], capsys)
    assert code == 2 and len(errors) == 1, err
    assert errors[0].startswith(f"{PREFIX}camera path {path} (keyframes[1].follow): frame "
                                "'nowhere' never appears in the bag's TF (frames: world, rover)")
    cams = tmp_path / "cams.yaml"
    cams.write_text("front: {camera_frame: cam_link}\n")
    code, errors, err = cli([bag, "-o", tmp_path / "o.mcap", "--cameras", cams, *BASE], capsys)
    assert code == 2 and "render.cameras.front.camera_frame: frame 'cam_link' never appears" \
        in errors[0], err
