"""The TF display through render-bag (real bags, real Chromium): each frame's axes land
where the output bag's CameraInfo and TF put them (2 px), a moving frame's axes move
with it, names and arrows are drawn when on, and turning an option off changes exactly
the pixels of what it draws (the renders are deterministic). A camera following a frame
(--target-frame) keeps it in view: its pose is on the output bag's /tf with each image,
and that pose and CameraInfo predict the pixels while the frame moves and turns."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tf_axes
from bag_helpers import camera_from_output, image_array, read_bag, stamp_ns
from pixels import hue_mask, silhouette_mask
from tf_axes import AXES

from vuer_ros.bag import FrameError, Renderer, RenderOptions, render_bag, render_bag_async
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag
from vuer_ros.render.camera import RenderCamera, quat_to_matrix

W, H, FOV, RATE = 480, 360, 50.0, 10.0
# looking north-east (65 degrees), away from every axis direction the frames take
EYE, TARGET = (-1.5, -2.9, 2.0), (0.1, 0.1, 0.15)
SCALE = 2.0                      # marker_scale: axes 0.4 m long, 0.04 m thick
TICKS = 10                       # 1 s at 10 Hz
POST = ((1.2, 0.9, 0.0), 30.0)   # world -> post, static: position, yaw (deg)
MAST = (0.0, -0.6, 0.3)          # rover -> mast, static
FOLLOW_EYE, FOLLOW_TARGET = (-1.2, -2.3, 1.6), (0.3, 0.1, 0.1)   # offsets from rover's origin
SHAFT, HEAD = tf_axes.ARROW_SHAFT, tf_axes.ARROW_HEAD


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def rover_pose(t_s: float) -> tuple[tuple[float, float, float], float]:
    """world -> rover at ``t_s``: it drives along +X and turns 45 degrees a second."""
    return (-1.0 + 0.6 * t_s, -0.5, 0.0), 45.0 * t_s


def tf_bag(path: Path) -> Path:
    store = typestore()
    m = MessageFactory(store)
    msgs = [(T0_NS, "/tf_static", m.tf_message(m.tf(T0_NS, "world", "post", POST[0], yaw(POST[1])),
                                               m.tf(T0_NS, "rover", "mast", MAST)))]
    for i in range(21):                          # 20 Hz for 1 s
        t = T0_NS + i * 50_000_000
        xyz, deg = rover_pose(i * 0.05)
        msgs.append((t, "/tf", m.tf_message(m.tf(t, "world", "rover", xyz, yaw(deg)))))
    return write_bag(path, msgs, store)


def poses(k: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every frame's (position, rotation matrix) in world at tick ``k``."""
    xyz, deg = rover_pose(k / RATE)
    rover = (np.array(xyz), quat_to_matrix(yaw(deg)))
    return {"world": (np.zeros(3), np.eye(3)),
            "post": (np.array(POST[0]), quat_to_matrix(yaw(POST[1]))),
            "rover": rover, "mast": (rover[0] + rover[1] @ np.array(MAST), rover[1])}


PARENTS = {"post": "world", "rover": "world", "mast": "rover"}


def axis_points(pose, axis: str) -> np.ndarray:
    return tf_axes.axis_points(pose, axis, SCALE)


def arrow_parts(child, parent) -> list[np.ndarray]:
    return tf_axes.arrow_parts(child, parent, SCALE)


def name_box(camera: RenderCamera, pose, name: str) -> np.ndarray:
    return tf_axes.name_box(camera, pose, name, SCALE)


def options(**tf) -> RenderOptions:
    params = {f"displays.tf.{k}": v for k, v in {"marker_scale": SCALE, **tf}.items()}
    return RenderOptions.create(params=params, fixed_frame="world", eye=EYE, target=TARGET,
                                width=W, height=H, fov=FOV, rate=RATE)


RUNS = {"axes": dict(show_arrows=False),               # axes only: clean silhouettes
        "all": dict(show_names=True),
        "no_names": dict(),
        "no_arrows": dict(show_names=True, show_arrows=False),
        "no_axes": dict(show_names=True, show_axes=False),
        "no_post": dict(show_names=True, filter_blacklist="^post$")}


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tf-display")
    bag = tf_bag(root / "tf.mcap")

    async def main():
        out = {}
        async with Renderer(W, H) as renderer:
            for name, tf in RUNS.items():
                await render_bag_async(bag, root / f"{name}.mcap", options=options(**tf),
                                       renderer=renderer)
                out[name] = read_bag(root / f"{name}.mcap")
        return out

    out = asyncio.run(asyncio.wait_for(main(), 300))
    # the camera following rover, through the command line as users run it
    follow = root / "follow.mcap"
    proc = subprocess.run(
        [sys.executable, "-m", "vuer_ros.cli", "render-bag", str(bag), "-o", str(follow),
         "--fixed-frame", "world", "--target-frame", "rover", "--eye", *map(str, FOLLOW_EYE),
         "--target", *map(str, FOLLOW_TARGET), "--size", f"{W}x{H}", "--fov", str(FOV),
         "--rate", str(RATE), "-p", f"displays.tf.marker_scale={SCALE}",
         "-p", "displays.tf.show_arrows=false", "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out["follow"] = read_bag(follow)
    out["bag"] = bag
    return out


def images(out) -> list[np.ndarray]:
    return [image_array(msg) for _, msg, _, _ in out["/vuer/image"]]


def test_every_run_renders_every_tick(renders):
    for name in [*RUNS, "follow"]:
        stamps = [stamp_ns(msg.header.stamp) for _, msg, _, _ in renders[name]["/vuer/image"]]
        assert stamps == [T0_NS + k * 100_000_000 for k in range(TICKS)], name


def assert_axes_land(rgb: np.ndarray, camera: RenderCamera, frames: dict, where: str) -> None:
    errors = tf_axes.axes_errors(rgb, camera, frames, SCALE, skip=("world",))
    assert not errors, (where, errors)


def test_axes_land_where_camera_info_and_tf_put_them_and_move_with_their_frame(renders):
    out = renders["axes"]
    camera = camera_from_output(out, fixed="world")
    for k, rgb in enumerate(images(out)):
        assert_axes_land(rgb, camera, poses(k), f"tick {k}")


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_names_are_drawn_when_on_and_turning_them_off_removes_exactly_those_pixels(renders):
    camera = camera_from_output(renders["all"], fixed="world")
    for k, (on, off) in enumerate(zip(images(renders["all"]), images(renders["no_names"]))):
        boxes = {f: name_box(camera, pose, f) for f, pose in poses(k).items()}
        changed = diff(on, off)
        assert not (changed & ~np.logical_or.reduce(list(boxes.values()))).any(), k
        for frame in ("post", "rover", "mast"):
            white = (on.min(axis=2) > 180) & boxes[frame]
            assert white.sum() >= 15 and (changed & boxes[frame]).sum() >= 15, (k, frame)
        assert not ((off.min(axis=2) > 180) & np.logical_or.reduce(list(boxes.values()))).any()


def test_arrows_point_to_the_parent_and_turning_them_off_removes_exactly_those_pixels(renders):
    camera = camera_from_output(renders["all"], fixed="world")
    for k, (on, off) in enumerate(zip(images(renders["all"]), images(renders["no_arrows"]))):
        p = poses(k)
        arrows = {f: arrow_parts(p[f], p[parent]) for f, parent in PARENTS.items()}
        where = silhouette_mask(camera, [part for parts in arrows.values() for part in parts], grow=2)
        changed = diff(on, off)
        assert not (changed & ~where).any(), k
        for frame, (shaft, head) in arrows.items():
            assert (changed & silhouette_mask(camera, [shaft, head])).sum() >= 10, (k, frame)
        for frame in ("post", "rover"):       # the mast's shaft hides inside rover's Z axis
            shaft, head = arrows[frame]
            assert (hue_mask(on, SHAFT, tol=0.12) & silhouette_mask(camera, [shaft], grow=1)).sum() >= 3
            assert (hue_mask(on, HEAD, tol=0.12) & silhouette_mask(camera, [head], grow=1)).sum() >= 3
        assert not hue_mask(off, HEAD, tol=0.12).any()


def test_turning_the_axes_off_removes_exactly_their_pixels(renders):
    camera = camera_from_output(renders["all"], fixed="world")
    for k, (on, off) in enumerate(zip(images(renders["all"]), images(renders["no_axes"]))):
        parts = [axis_points(pose, axis) for pose in poses(k).values() for axis in AXES]
        changed = diff(on, off)
        assert not (changed & ~silhouette_mask(camera, parts, grow=2)).any(), k
        assert changed.sum() > 200
        for colour in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
            assert not hue_mask(off, colour).any(), (k, colour)


def test_a_blacklisted_frame_is_not_drawn_and_the_others_are(renders):
    camera = camera_from_output(renders["all"], fixed="world")
    for k, (on, off) in enumerate(zip(images(renders["all"]), images(renders["no_post"]))):
        p = poses(k)
        post = silhouette_mask(camera, [axis_points(p["post"], a) for a in AXES]
                               + arrow_parts(p["post"], p["world"]), grow=2) | name_box(camera, p["post"], "post")
        changed = diff(on, off)
        assert not (changed & ~post).any(), k
        assert (changed & silhouette_mask(camera, [axis_points(p["post"], "x")])).sum() > 20, k


def test_the_camera_following_a_frame_keeps_it_in_view_and_its_tf_predicts_the_pixels(renders):
    out = renders["follow"]
    # the camera is on /tf with each image, never on /tf_static
    assert not any(t.child_frame_id == "vuer_camera_optical"
                   for _, msg, _, _ in out["/tf_static"] for t in msg.transforms)
    poses_at = {}
    for _, msg, _, _ in out["/tf"]:
        for t in msg.transforms:
            if t.child_frame_id == "vuer_camera_optical":
                assert t.header.frame_id == "world"
                tr, q = t.transform.translation, t.transform.rotation
                poses_at[stamp_ns(t.header.stamp)] = (np.array([tr.x, tr.y, tr.z]),
                                                      np.array([q.x, q.y, q.z, q.w]))
    info = out["/vuer/camera_info"][0][1]
    fy = float(info.k[4])
    fov = math.degrees(2 * math.atan((info.height / 2) / fy))
    first = None
    for k, (_, msg, _, _) in enumerate(out["/vuer/image"]):
        position, q = poses_at[stamp_ns(msg.header.stamp)]
        camera = RenderCamera(W, H, fov, 0.05, 100.0, position, q)
        rover = poses(k)["rover"]
        # it follows rover's origin: there, and with the same orientation, in every image
        assert np.allclose(position, rover[0] + FOLLOW_EYE, atol=1e-9)
        if first is None:
            first = q
        assert np.allclose(quat_to_matrix(q), quat_to_matrix(first), atol=1e-9)
        assert_axes_land(image_array(msg), camera, poses(k), f"tick {k}")


def test_a_target_frame_the_bag_does_not_have_is_named(renders, tmp_path):
    with pytest.raises(FrameError, match="target frame 'nowhere' never appears.*--target-frame"):
        render_bag(renders["bag"], tmp_path / "x.mcap",
                   options=RenderOptions.create(fixed_frame="world", target_frame="nowhere"))
