"""Live playback: a recorded bag played into the real node at bag rate with /clock
(what `ros2 bag play --clock` does): with use_sim_time the images are stamped in
bag time and show the scene as it was at that time."""

from __future__ import annotations

import random

import numpy as np

from pixels import box_corners, colour_mask, measured_silhouette, predicted_silhouette
from ros_helpers import NO_TF_DISPLAY, RosClient, ViewerProcess, play_bag, ros_env
from vuer_ros.bag.synthetic import CUBE_SIZE, T0_NS, mover_position, write_demo_bag
from vuer_ros.render.camera import RenderCamera, matrix_to_quat

DURATION = 4.0
W, H, FOV = 160, 120, 60.0


def test_bag_played_with_clock_renders_in_sim_time(tmp_path):
    bag = write_demo_bag(tmp_path / "demo.mcap", duration=DURATION, tf_rate=50.0, blob=False)
    domain = random.randint(1, 101)
    viewer = ViewerProcess(ros_env(tmp_path / "log", domain), {
        "port": 0, "use_sim_time": True, "fixed_frame": "world", "render.width": W,
        "render.height": H, "render.fov": FOV, "render.rate": 10.0,
        "render.eye": [0.0, -3.0, 1.2], "render.target": [0.0, 0.0, 0.15],
        **NO_TF_DISPLAY})
    client = None
    try:
        viewer.wait_started()
        client = RosClient(domain, keep=200)
        play_bag(client, bag)
        end_ns = T0_NS + round(DURATION * 1e9)
        images = [im for im in list(client.images["/vuer/image"]) if T0_NS <= im.stamp_ns <= end_ns]
        assert len(images) >= 10, f"{len(images)} images in bag time; log:\n{viewer.tail()}"
        stamps = [im.stamp_ns for im in images]
        assert stamps == sorted(set(stamps)), "stamps do not follow sim time forward"
        assert (stamps[-1] - stamps[0]) / 1e9 > DURATION / 2

        pinhole = client.camera(fixed_frame="world")
        camera = RenderCamera(W, H, FOV, 0.05, 100.0, pinhole.position, matrix_to_quat(pinhole.R))
        np.testing.assert_allclose(camera.K, pinhole.K, atol=1e-6)
        checked = 0
        for im in images:
            s = (im.stamp_ns - T0_NS) / 1e9
            if s < 0.3:  # the first TF may not have reached the node yet
                continue
            mask = colour_mask(im.rgb, (255, 0, 0), tol=120) & (im.rgb[..., 1] < 80)
            if mask.sum() < 20:
                continue
            got = measured_silhouette(mask)[1]
            now = predicted_silhouette(camera, box_corners(mover_position(s), CUBE_SIZE))[1]
            # TF arrives every 20 ms of bag time: the image shows the mover at most a
            # few TF periods before its stamp, never after it
            before = predicted_silhouette(camera, box_corners(mover_position(s - 0.08), CUBE_SIZE))[1]
            slack = np.linalg.norm(now - before) + 2.5
            assert np.linalg.norm(got - now) <= slack, (s, got, now, slack)
            checked += 1
        assert checked >= 5, f"cube seen in only {checked} images"
    finally:
        if client is not None:
            client.close()
        viewer.stop()
