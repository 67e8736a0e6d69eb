"""Live playback: a recorded bag played into the real node at bag rate with /clock
(what `ros2 bag play --clock` does): with use_sim_time the images are stamped in
bag time and show the scene as it was at that time."""

from __future__ import annotations

import random
import time

import numpy as np
from rosbags.highlevel import AnyReader

from pixels import box_corners, colour_mask, measured_silhouette, predicted_silhouette
from ros_helpers import NO_TF_DISPLAY, RosClient, ViewerProcess, ros_env
from vuer_ros.bag.synthetic import CUBE_SIZE, T0_NS, mover_position, write_demo_bag
from vuer_ros.render.camera import RenderCamera, matrix_to_quat

DURATION = 4.0
W, H, FOV = 160, 120, 60.0


def test_bag_played_with_clock_renders_in_sim_time(tmp_path):
    from builtin_interfaces.msg import Time
    from rclpy.serialization import deserialize_message
    from rosgraph_msgs.msg import Clock
    from tf2_msgs.msg import TFMessage
    from visualization_msgs.msg import Marker

    bag = write_demo_bag(tmp_path / "demo.mcap", duration=DURATION, tf_rate=50.0, blob=False)
    types = {"/tf": TFMessage, "/tf_static": TFMessage, "/visualization_marker": Marker}
    with AnyReader([bag]) as reader:
        plays = [(t, c.topic, deserialize_message(raw, types[c.topic]))
                 for c, t, raw in reader.messages() if c.topic in types]
    assert plays and plays[0][0] == T0_NS

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
        clock = client.node.create_publisher(Clock, "/clock", 10)
        pubs = {"/tf": client.tf_pub, "/tf_static": client.tf_static_pub,
                "/visualization_marker": client.marker_pub}
        for pub in (clock, client.tf_pub, client.marker_pub):
            client.wait_subscribers(pub)
        # the renderer is up once an image comes (stamped 0: no /clock yet), so playing
        # starts when images can follow it
        client.wait_image(lambda im: True, timeout=90.0, after=0.0)
        # play at bag rate: /clock first, then the message, as `ros2 bag play --clock` does
        wall0 = time.monotonic()
        for t, topic, msg in plays:
            time.sleep(max(0.0, wall0 + (t - T0_NS) / 1e9 - time.monotonic()))
            clock.publish(Clock(clock=Time(sec=t // 10**9, nanosec=t % 10**9)))
            pubs[topic].publish(msg)
        last_t = plays[-1][0]
        # the clock rests at the last message: an image of that instant comes
        client.wait_image(lambda im: im.stamp_ns >= last_t, timeout=30.0, after=0.0)
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
