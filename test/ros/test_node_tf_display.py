"""The TF display and a camera following a frame, through the real node: the axes of
every frame land where /vuer/camera_info and TF put them (2 px, centroid and tip), a
frame that moves and turns takes its axes along, names and parent arrows are drawn
(on here), and with ``render.target_frame`` set at run time (``ros2 param set``) the
camera follows the frame: its pose comes on /tf with each image, and that pose and
CameraInfo predict the pixels while the frame moves and turns."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pytest
import tf_axes
from pixels import hue_mask, silhouette_mask
from ros_helpers import TF_DISPLAY_ON, PinholeCamera, RosClient, set_param, tf

from vuer_ros.render.camera import quat_to_matrix

SCALE = 2.0
TIMEOUT = 60.0
NODE_PARAMS = {**TF_DISPLAY_ON, "displays.tf.show_names": True, "displays.tf.marker_scale": SCALE,
               # the frames here are published once: they must not fade while the test runs
               "displays.tf.frame_timeout": 1000.0,
               "render.width": 480, "render.height": 360, "render.fov": 50.0,
               # looking north-east (62 degrees), away from every axis direction used here
               "render.eye": [-1.5, -2.9, 2.0], "render.target": [0.1, 0.1, 0.15]}
POST = ((1.2, 0.9, 0.0), 30.0)
FOLLOW_EYE, FOLLOW_TARGET = [-1.2, -2.3, 1.6], [0.3, 0.1, 0.1]


def yaw(deg: float) -> tuple[float, float, float, float]:
    a = math.radians(deg) / 2
    return (0.0, 0.0, math.sin(a), math.cos(a))


def pose(xyz, deg: float) -> tuple[np.ndarray, np.ndarray]:
    return np.array(xyz, float), quat_to_matrix(yaw(deg))


def frames_at(rover) -> dict[str, Any]:
    return {"map": pose((0, 0, 0), 0.0), "post": pose(*POST), "rover": rover}


@pytest.fixture(scope="module")
def scene(node):
    client = node.client
    client.wait_subscribers(client.tf_static_pub)
    client.wait_subscribers(client.tf_pub)
    client.publish_tf(tf("map", "post", POST[0], yaw(POST[1])), static=True)
    return client


def put_rover(client: RosClient, xyz, deg: float) -> float:
    """Publish map -> rover; returns the time to look for images after."""
    t = time.monotonic()
    client.publish_tf(tf("map", "rover", xyz, yaw(deg), stamp=client.now()))
    return t


def wait_landing(client: RosClient, camera_for, frames, after: float, what: str) -> Any:
    """An image (received after ``after``) where every frame's axes land; the failure says
    how they missed in the last image."""
    last: list[str] = []

    def lands(im: Any) -> bool:
        camera = camera_for(im)
        if camera is None:
            return False
        last[:] = tf_axes.axes_errors(im.rgb, camera, frames, SCALE, skip=("map",))
        return not last
    try:
        im, _ = client.wait_image(lands, timeout=TIMEOUT, after=after, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last image: {last}") from None
    return im


def test_axes_land_where_camera_info_and_tf_put_them_and_move_with_their_frame(scene):
    camera = scene.camera()
    for xyz, deg in (((-1.0, -0.5, 0.0), 0.0), ((-0.4, -0.5, 0.0), 45.0)):   # moves and turns
        after = put_rover(scene, xyz, deg)
        wait_landing(scene, lambda im: camera, frames_at(pose(xyz, deg)), after,
                     f"rover's axes at {xyz}, turned {deg} degrees")


def test_names_and_arrows_are_drawn(scene):
    camera = scene.camera()
    rover = pose((-1.0, -0.5, 0.0), 0.0)
    after = put_rover(scene, rover[0], 0.0)
    frames = frames_at(rover)

    def drawn(im: Any) -> bool:
        for name in ("post", "rover"):
            if ((im.rgb.min(axis=2) > 180) & tf_axes.name_box(camera, frames[name], name, SCALE)).sum() < 15:
                return False
            shaft, head = tf_axes.arrow_parts(frames[name], frames["map"], SCALE)
            if (hue_mask(im.rgb, tf_axes.ARROW_SHAFT, tol=0.12)
                    & silhouette_mask(camera, [shaft], grow=1)).sum() < 3:
                return False
            if (hue_mask(im.rgb, tf_axes.ARROW_HEAD, tol=0.12)
                    & silhouette_mask(camera, [head], grow=1)).sum() < 3:
                return False
        return True
    scene.wait_image(drawn, timeout=TIMEOUT, after=after,
                     what="white names below post and rover, arrows from them to map")


class CameraPoses:
    """The render camera's pose on /tf (map -> vuer_camera_optical), by stamp."""

    def __init__(self, client: RosClient) -> None:
        from tf2_msgs.msg import TFMessage
        self.client = client
        self.poses: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._sub = client.node.create_subscription(TFMessage, "/tf", self._on_tf, 100)

    def _on_tf(self, msg: Any) -> None:
        for t in msg.transforms:
            if t.child_frame_id == "vuer_camera_optical":
                tr, q = t.transform.translation, t.transform.rotation
                stamp = t.header.stamp.sec * 1_000_000_000 + t.header.stamp.nanosec
                with self._lock:
                    self.poses[stamp] = (t.header.frame_id, np.array([tr.x, tr.y, tr.z]),
                                         np.array([q.x, q.y, q.z, q.w]))

    def camera(self, im: Any) -> PinholeCamera | None:
        with self._lock:
            found = self.poses.get(im.stamp_ns)
        info = self.client.camera_info
        if found is None or info is None:
            return None
        parent, position, q = found
        assert parent == "map", parent
        return PinholeCamera(np.array(info.k).reshape(3, 3), position, q, info.width, info.height)

    def close(self) -> None:
        self.client.node.destroy_subscription(self._sub)


def test_the_camera_follows_the_target_frame_and_its_tf_predicts_the_pixels(scene):
    poses = CameraPoses(scene)
    still = scene.camera()
    try:
        # following first: eye and target are then offsets, and the camera is never on
        # /tf_static again while it follows
        for name, value in (("render.target_frame", "rover"), ("render.eye", FOLLOW_EYE),
                            ("render.target", FOLLOW_TARGET)):
            assert set_param(scene, name, value).successful, name
        first_q = None
        for xyz, deg in (((-1.0, -0.5, 0.0), 0.0), ((-0.7, -0.5, 0.0), 20.0),
                         ((-0.4, -0.5, 0.0), 45.0)):
            after = put_rover(scene, xyz, deg)
            # the image that follows this pose: the camera is at the rover's origin + eye
            at = np.add(xyz, FOLLOW_EYE)

            def camera_for(im: Any, at: Any = at) -> PinholeCamera | None:
                camera = poses.camera(im)
                return camera if camera is not None and np.allclose(camera.position, at) else None
            im = wait_landing(scene, camera_for, frames_at(pose(xyz, deg)), after,
                              f"the camera following rover at {xyz}, turned {deg} degrees")
            R = camera_for(im).R
            first_q = R if first_q is None else first_q
            assert np.allclose(R, first_q)        # rover turns, the view does not
        # the still camera's /tf_static is what it was: the moving one is on /tf only
        assert np.allclose(scene.camera().position, still.position)
    finally:
        assert set_param(scene, "render.target_frame", "").successful
        poses.close()
