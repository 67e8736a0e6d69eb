"""Camera paths and several cameras through the real node: in sim time, a camera on a
keyframe path (``render.camera_path``) is, at each image's stamp, where the path file
says at that time from the logged start, and that pose (on /tf with the image) with the
image's camera_info puts a known box where the image shows it; two listed cameras
(``render.cameras.<name>.<key>``) of different sizes and fovs publish on their own
topics, each image matching its own camera_info and TF, both stamped with each tick's one
drain, and the one on an orbit keeps the orbited frame's origin at its image centre while
that frame drives. Pixel checks as in test_node_geometry.py (2 px)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pytest
from ros_helpers import (
    NodeUnderTest,
    PinholeCamera,
    box_points,
    centroid,
    colour_mask,
    hull_mask,
    marker,
    start_node,
    stop_node,
    tf,
)

from vuer_ros.render.camera import optical_look_at
from vuer_ros.render.camera_path import read_camera_path

CUBE, SPHERE = 1, 2
RED, GREEN = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0)
BOX_XYZ, BOX_SIZE = (0.5, 1.0, 0.3), (0.6, 0.6, 0.6)
ROVER = (-1.0, 0.5, 0.0)              # static, for the path's followed keyframe
TIMEOUT = 30.0
S = 1_000_000_000
PATH = """
keyframes:
  - {t: 0.0, eye: [3.0, -3.0, 2.5], target: [0.5, 1.0, 0.3]}
  - {t: 1.0, eye: [4.0, 1.0, 2.0], target: [0.5, 1.0, 0.2], fov: 60}
  - {t: 2.0, follow: rover, eye: [0.0, -3.5, 2.5], target: [1.5, 0.5, 0.3]}
  - {t: 3.0, eye: [-2.5, -1.0, 3.0], target: [0.5, 1.0, 0.3], fov: 40}
"""


class Feeds:
    """Per camera: its camera_info by stamp; the poses of optical frames on /tf by (frame, stamp)."""

    def __init__(self, node: NodeUnderTest, cameras: tuple[str, ...]) -> None:
        from sensor_msgs.msg import CameraInfo
        from tf2_msgs.msg import TFMessage
        self.client = node.client
        self.infos: dict[tuple[str, int], Any] = {}
        self.poses: dict[tuple[str, int], Any] = {}
        self._subs = [self.client.node.create_subscription(TFMessage, "/tf", self._on_tf, 100)]
        for name in cameras:
            topic = f"/vuer/{name}/camera_info" if name else "/vuer/camera_info"
            self._subs.append(self.client.node.create_subscription(
                CameraInfo, topic, lambda msg, n=name: self._on_info(n, msg), 10))

    @staticmethod
    def _stamp(header: Any) -> int:
        return header.stamp.sec * S + header.stamp.nanosec

    def _on_info(self, name: str, msg: Any) -> None:
        with self.client._lock:
            self.infos[(name, self._stamp(msg.header))] = msg
            self.client._lock.notify_all()

    def _on_tf(self, msg: Any) -> None:
        with self.client._lock:
            for t in msg.transforms:
                self.poses[(t.child_frame_id, self._stamp(t.header))] = t
            self.client._lock.notify_all()

    def camera(self, name: str, im: Any, optical: str) -> PinholeCamera | None:
        """The camera that took ``im``: its camera_info and its optical frame at the image's
        stamp on /tf, or on /tf_static (a camera fixed on TF)."""
        info = self.infos.get((name, im.stamp_ns))
        t = self.poses.get((optical, im.stamp_ns)) or self.client.static_tf.get(optical)
        if info is None or t is None:
            return None
        assert t.header.frame_id == "map" and info.header.frame_id == optical
        tr, q = t.transform.translation, t.transform.rotation
        return PinholeCamera(np.array(info.k).reshape(3, 3), np.array([tr.x, tr.y, tr.z]),
                             np.array([q.x, q.y, q.z, q.w]), info.width, info.height)

    def close(self) -> None:
        for sub in self._subs:
            self.client.node.destroy_subscription(sub)


def box_lands(im: Any, camera: PinholeCamera) -> float:
    """Distance (px) between the red box's centroid in ``im`` and where the camera puts it."""
    want = centroid(hull_mask(camera, [box_points(BOX_SIZE) + BOX_XYZ]))
    got = centroid(colour_mask(im.rgb, RED))
    return float(np.hypot(got[0] - want[0], got[1] - want[1]))


def fully_inside(camera: PinholeCamera, margin: float = 2.0) -> bool:
    uv = camera.project(box_points(BOX_SIZE) + BOX_XYZ)
    return bool((uv > margin).all() and (uv[:, 0] < camera.width - 1 - margin).all()
                and (uv[:, 1] < camera.height - 1 - margin).all())


def test_a_path_camera_in_sim_time_is_where_the_file_says_and_its_tf_predicts_the_pixels(tmp_path):
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock

    path_file = tmp_path / "tour.yaml"
    path_file.write_text(PATH)
    path = read_camera_path(path_file)
    node = start_node(tmp_path, {"use_sim_time": True, "render.camera_path": str(path_file),
                                 "render.width": 240, "render.height": 180, "render.fov": 45.0})
    feeds = Feeds(node, ("",))
    try:
        client = node.client
        clock = client.node.create_publisher(Clock, "/clock", 10)
        for pub in (clock, client.marker_pub, client.tf_static_pub):
            client.wait_subscribers(pub)
        t0 = 1000 * S

        def tick(t_ns: int) -> None:
            clock.publish(Clock(clock=Time(sec=t_ns // S, nanosec=t_ns % S)))

        def shot(t_ns: int) -> tuple[Any, PinholeCamera]:
            """The image stamped ``t_ns`` and its camera (camera_info and pose may come after it)."""
            im = client.wait_image(lambda im: im.stamp_ns == t_ns, timeout=TIMEOUT, after=0.0,
                                   what=f"an image stamped {t_ns}")[0]
            return im, client.wait_for(lambda: feeds.camera("", im, "vuer_camera_optical"),
                                       TIMEOUT, f"camera_info and the camera's /tf at {t_ns}")

        tick(t0)   # the path starts at the first tick with a clock: the clock rests here
        m = node.viewer.wait_for_line(r"camera path (.*) starts \(t = 0\) at ROS time ([\d.]+) s",
                                      timeout=90.0)
        assert m.group(1) == str(path_file) and round(float(m.group(2)) * S) == t0
        client.publish_tf(tf("map", "rover", ROVER), static=True)
        client.marker_pub.publish(marker("box", 0, CUBE, "map", BOX_XYZ, scale=BOX_SIZE, rgba=RED))
        # a clock step at a time until the box and rover are in (each stamp gets one image)
        t, step = t0, 0
        while True:
            t += 1_000_000
            tick(t)
            im, _ = shot(t)   # (also: our camera_info and /tf subscriptions are matched)
            if colour_mask(im.rgb, RED).sum() > 20 and "rover" in client.static_tf:
                break
            step += 1
            assert step < 200, "the box never showed"
        checked, fovs = 0, set()
        for t_s in (0.1, 0.5, 0.9, 1.3, 1.7, 2.0, 2.4, 2.8, 3.5):
            t = t0 + round(t_s * S)
            tick(t)
            im, camera = shot(t)
            view = path.view(t_s, lambda frame, what: np.array(ROVER), 45.0)
            assert np.allclose(camera.position, view.eye, atol=1e-6), (t_s, camera.position, view.eye)
            R = optical_look_at(view.eye, view.target)
            assert np.allclose(camera.R, PinholeCamera(camera.K, view.eye, R, 1, 1).R, atol=1e-6)
            assert camera.K[1, 1] == pytest.approx(90.0 / math.tan(math.radians(view.fov) / 2))
            fovs.add(round(view.fov, 3))
            if fully_inside(camera):
                assert box_lands(im, camera) <= 2.0, (t_s, box_lands(im, camera))
                checked += 1
        assert checked >= 6 and len(fovs) >= 4, (checked, fovs)
    finally:
        feeds.close()
        stop_node(node)


def test_two_listed_cameras_publish_their_own_topics_and_an_orbit_keeps_its_frame_centred(tmp_path):
    orbit_file = tmp_path / "orbit.yaml"
    orbit_file.write_text("orbit: {frame: rover, radius: 2.5, height: 1.2, period: 3.0}\n")
    cams = {"wide": {"width": 320, "height": 180, "fov": 70.0, "eye": [4.0, -4.0, 3.0],
                     "target": [0.0, 0.5, 0.2]},
            "orbit": {"width": 160, "height": 120, "fov": 40.0, "path": str(orbit_file)}}
    params = {f"render.cameras.{c}.{k}": v for c, keys in cams.items() for k, v in keys.items()}
    node = start_node(tmp_path, params, image_topics=("/vuer/wide/image", "/vuer/orbit/image"))
    feeds = Feeds(node, ("wide", "orbit"))
    stop = threading.Event()
    try:
        client = node.client
        assert "cameras orbit 160x120, wide 320x180" in node.viewer.log
        for pub in (client.marker_pub, client.tf_pub):
            client.wait_subscribers(pub)
        client.marker_pub.publish(marker("box", 0, CUBE, "map", BOX_XYZ, scale=BOX_SIZE, rgba=RED))
        client.marker_pub.publish(marker("ball", 0, SPHERE, "rover", (0, 0, 0), scale=(0.3,) * 3,
                                         rgba=GREEN, frame_locked=True))

        def drive() -> None:      # rover drives to and fro along x at 20 Hz
            k = 0
            while not stop.is_set():
                x = -1.5 + 0.8 * math.sin(k * 0.05)
                client.publish_tf(tf("map", "rover", (x, -0.5, 0.0), stamp=client.now()))
                k += 1
                time.sleep(0.05)
        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        after = time.monotonic()

        def orbit_centred(im: Any) -> Any:
            camera = feeds.camera("orbit", im, "vuer_orbit_optical")
            if camera is None or colour_mask(im.rgb, GREEN).sum() < 30:
                return None
            u, v = centroid(colour_mask(im.rgb, GREEN))
            return camera, (u, v)
        positions = []
        for _ in range(6):
            im, (camera, (u, v)) = client.wait_image(orbit_centred, timeout=TIMEOUT,
                                                     topic="/vuer/orbit/image", after=after,
                                                     what="the orbit camera seeing the ball")
            assert (im.msg.width, im.msg.height, camera.width, camera.height) == (160, 120, 160, 120)
            assert camera.K[1, 1] == pytest.approx(60.0 / math.tan(math.radians(20.0)))
            assert math.hypot(u - 79.5, v - 59.5) <= 1.0, (u, v)
            positions.append(camera.position)
            after = im.received
        spread = max(np.linalg.norm(p - positions[0]) for p in positions)
        assert spread > 1.0, positions        # it went round (and the rover drove)

        def wide_lands(im: Any) -> Any:
            camera = feeds.camera("wide", im, "vuer_wide_optical")
            if camera is None or not fully_inside(camera) or colour_mask(im.rgb, RED).sum() < 20:
                return None
            return camera
        im, camera = client.wait_image(wide_lands, timeout=TIMEOUT, topic="/vuer/wide/image",
                                       after=0.0, what="the wide camera seeing the box")
        assert (im.msg.width, im.msg.height) == (320, 180)
        assert camera.K[1, 1] == pytest.approx(90.0 / math.tan(math.radians(35.0)))
        assert box_lands(im, camera) <= 2.0
        # one drain per tick: both cameras' images of a tick carry its one stamp
        client.wait_for(lambda: len({i.stamp_ns for i in client.images["/vuer/wide/image"]}
                                    & {i.stamp_ns for i in client.images["/vuer/orbit/image"]}) >= 3,
                        TIMEOUT, "three ticks with an image of each camera")
        mine = {f"/vuer/{c}/{t}" for c in cams for t in ("image", "image/compressed",
                                                         "camera_info", "depth")}
        client.wait_for(lambda: mine <= {name for name, _ in client.node.get_topic_names_and_types()},
                        TIMEOUT, "each camera's four topics in the graph")
        assert all(client.node.count_publishers(t) == 1 for t in mine)
        assert client.node.count_publishers("/vuer/image") == 0       # the node's own camera is not
        assert client.node.count_publishers("/vuer/camera_info") == 0
        assert set(client.static_tf) >= {"vuer_wide_optical"}
        assert "vuer_orbit_optical" not in client.static_tf       # it moves: on /tf
    finally:
        stop.set()
        feeds.close()
        stop_node(node)
