"""The real node's frames, end to end: changing ``fixed_frame`` at runtime (the
SetParameters service, as ``ros2 param set`` does) re-roots the scene and the
fixed camera with it; a ``fixed_frame`` that TF does not know is logged while
images keep flowing, and setting it back brings the scene back; and a render
camera riding a TF frame (``render.camera_frame``, a REP 103 body frame) sees
a marker where the pinhole model from /vuer/camera_info and the camera's TF
puts it, and follows that frame when it moves.

Pixel checks as in test_node_geometry.py: the centroid of a marker's colour in
/vuer/image within 2 px of the centroid of its predicted silhouette. Two nodes
(a fixed camera, a camera on TF), one per test class, never both at once; each
on its own private ROS_DOMAIN_ID, started by ros_helpers' ``start_node``.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pytest
from ros_helpers import (
    NodeUnderTest,
    PinholeCamera,
    RosClient,
    box_points,
    centroid,
    colour_mask,
    hull_mask,
    marker,
    set_param,
    start_node,
    stop_node,
    tf,
    transform_points,
)

CUBE, DELETEALL = 1, 3
RED, BLUE, GREEN = (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0), (0.0, 1.0, 0.0, 1.0)
TOLERANCE_PX = 2.0
TIMEOUT = 30.0
OPTICAL = "vuer_camera_optical"


@contextmanager
def running_node(tmp: Path, params: dict[str, Any] | None = None) -> Iterator[NodeUnderTest]:
    """start_node's viewer (the geometry camera, a uniform background, 10 Hz); on the
    way out it must exit 0 and leave no process behind."""
    n = start_node(tmp, params)
    try:
        yield n
    finally:
        stop_node(n)


# -- small helpers ---------------------------------------------------------------------------------
def q_axis(axis: Sequence[float], degrees: float) -> np.ndarray:
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    h = math.radians(degrees) / 2
    return np.array([*(a * math.sin(h)), math.cos(h)])


def q_mul(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Hamilton product a * b (xyzw): rotate by b, then by a."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz])


def q_matrix(q: Sequence[float]) -> np.ndarray:
    return transform_points(np.eye(3), (0, 0, 0), q).T   # columns: the rotated axes


def invert(xyz: Sequence[float], q: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(xyz, q) of the inverse transform."""
    q_inv = np.array([-q[0], -q[1], -q[2], q[3]], float)
    return -transform_points(np.asarray(xyz, float), (0, 0, 0), q_inv)[0], q_inv


def tf_pose(t: Any) -> tuple[np.ndarray, np.ndarray]:
    tr, r = t.transform.translation, t.transform.rotation
    return np.array([tr.x, tr.y, tr.z]), np.array([r.x, r.y, r.z, r.w])


def cube_centre_px(cam: PinholeCamera, xyz: Sequence[float], size: float) -> np.ndarray:
    """Centroid of the predicted silhouette of a cube (axis-aligned in its frame) at xyz."""
    return np.array(centroid(hull_mask(cam, [box_points((size,) * 3) + np.asarray(xyz, float)])))


def wait_at(client: RosClient, expected: dict[tuple[float, ...], np.ndarray], after: float,
            what: str, min_px: int = 40) -> Any:
    """An image received after ``after`` with each colour's centroid within TOLERANCE_PX
    of its prediction; the failure names where the colours were last seen."""
    last: dict[tuple[float, ...], Any] = {}

    def ok(im: Any) -> bool:
        good = True
        for colour, want in expected.items():
            m = colour_mask(im.rgb, colour)
            got = centroid(m) if m.sum() >= min_px else None
            last[colour] = (None if got is None else tuple(round(v, 2) for v in got), int(m.sum()))
            good = good and got is not None and math.hypot(*np.subtract(got, want)) <= TOLERANCE_PX
        return good
    try:
        im, _ = client.wait_image(ok, timeout=TIMEOUT, after=after, what=what)
    except AssertionError as e:
        seen = {c: (tuple(round(float(v), 2) for v in expected[c]), last.get(c)) for c in expected}
        raise AssertionError(f"{e}; colour: (predicted centroid, (last seen centroid, px)) = "
                             f"{seen}") from None
    return im


def wait_none_of(client: RosClient, colours: Sequence[tuple[float, ...]], after: float,
                 what: str) -> Any:
    im, _ = client.wait_image(lambda im: all(colour_mask(im.rgb, c).sum() < 3 for c in colours),
                              timeout=TIMEOUT, after=after, what=what)
    return im


def ready(n: NodeUnderTest) -> RosClient:
    c = n.client
    c.wait_subscribers(c.marker_pub)
    c.wait_subscribers(c.tf_pub)
    c.wait_subscribers(c.tf_static_pub)
    return c


# -- 1. fixed_frame changed at runtime, the fixed camera (render.eye/target) -----------------------
# map -> odom: translated and turned, so the re-rooted scene differs from a shifted one
ODOM_XYZ = (0.5, -0.3, 0.0)
ODOM_Q = tuple(q_axis((0, 0, 1), 40.0))
A_XYZ, A_SIZE = (0.2, 0.1, 0.0), 0.25    # a red cube in odom
B_XYZ, B_SIZE = (-0.5, 0.4, 0.0), 0.2    # a blue cube in map


def in_map(xyz_in_odom: Sequence[float]) -> np.ndarray:
    return transform_points(np.asarray(xyz_in_odom, float), ODOM_XYZ, ODOM_Q)[0]


def in_odom(xyz_in_map: Sequence[float]) -> np.ndarray:
    return transform_points(np.asarray(xyz_in_map, float), *invert(ODOM_XYZ, ODOM_Q))[0]


def publish_a_and_b(client: RosClient) -> None:
    client.marker_pub.publish(marker("ff_a", 1, CUBE, frame="odom", xyz=A_XYZ,
                                     scale=(A_SIZE,) * 3, rgba=RED))
    client.marker_pub.publish(marker("ff_b", 1, CUBE, frame="map", xyz=B_XYZ,
                                     scale=(B_SIZE,) * 3, rgba=BLUE))


def camera_in(client: RosClient, fixed: str) -> PinholeCamera:
    """The camera as the node publishes it, once its /tf_static hangs under ``fixed``."""
    client.wait_for(lambda: client.camera_info is not None and OPTICAL in client.static_tf and
                    client.static_tf[OPTICAL].header.frame_id == fixed, TIMEOUT,
                    f"the camera's /tf_static under '{fixed}'")
    return client.camera(fixed_frame=fixed)


@pytest.fixture(scope="class")
def fixed_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeUnderTest]:
    with running_node(tmp_path_factory.mktemp("viewer_fixed")) as n:   # map, fixed camera
        yield n


@pytest.fixture(scope="class")
def fixed_client(fixed_node: NodeUnderTest) -> RosClient:
    c = ready(fixed_node)
    c.publish_tf(tf("map", "odom", ODOM_XYZ, ODOM_Q), static=True)
    c.image_after(0.0, timeout=60.0)   # the renderer is up
    return c


class TestFixedFrameAtRuntime:
    @pytest.fixture
    def client(self, fixed_client: RosClient) -> RosClient:
        return fixed_client

    def test_switching_map_to_odom_reroots_the_scene_and_the_camera(self, fixed_node, client):
        cam_map = camera_in(client, "map")
        assert np.allclose(cam_map.position, [1.0, -2.0, 4.0])
        t = time.monotonic()
        publish_a_and_b(client)
        before = {RED: cube_centre_px(cam_map, in_map(A_XYZ), A_SIZE),
                  BLUE: cube_centre_px(cam_map, B_XYZ, B_SIZE)}
        wait_at(client, before, t, "fixed frame map: the odom cube placed through map->odom, "
                                   "the map cube where it is")

        t = time.monotonic()
        res = set_param(client, "fixed_frame", "odom")
        assert res.successful, res.reason
        # the camera (render.eye/target) is now in odom: its /tf_static hangs under odom, same pose
        cam_odom = camera_in(client, "odom")
        assert np.allclose(cam_odom.position, cam_map.position)
        assert np.allclose(cam_odom.R, cam_map.R)
        assert np.allclose(cam_odom.K, cam_map.K)
        # as rviz, a fixed frame change clears the markers
        wait_none_of(client, (RED, BLUE), t, "the markers cleared by the fixed frame change")

        t = time.monotonic()
        publish_a_and_b(client)
        after = {RED: cube_centre_px(cam_odom, A_XYZ, A_SIZE),
                 # map hangs under odom by the inverse of map->odom
                 BLUE: cube_centre_px(cam_odom, in_odom(B_XYZ), B_SIZE)}
        for c in (RED, BLUE):   # the change must show in the image, or this proves nothing
            assert np.linalg.norm(after[c] - before[c]) > 15, (c, before[c], after[c])
        im = wait_at(client, after, t, "fixed frame odom: the odom cube where it is, the map "
                                       "cube placed through the inverse of map->odom")
        assert im.msg.header.frame_id == OPTICAL
        assert client.camera_info.header.frame_id == OPTICAL

    def test_unknown_fixed_frame_is_logged_images_keep_flowing_and_map_comes_back(
            self, fixed_node, client):
        viewer = fixed_node.viewer
        log_from = len(viewer.lines)
        # an empty fixed frame is refused
        res = set_param(client, "fixed_frame", "")
        assert not res.successful and "must not be empty" in res.reason, res.reason

        t = time.monotonic()
        res = set_param(client, "fixed_frame", "nowhere")
        assert res.successful, res.reason
        camera_in(client, "nowhere")
        # everything TF knows is cut off from 'nowhere': one clear line naming the tree
        line = viewer.wait_for_line(r"have no connection to the fixed frame 'nowhere'",
                                    TIMEOUT, start=log_from).string
        assert "'map'" in line and "'odom'" in line, line
        # the render goes on: the scene is empty (the markers went with the change)
        wait_none_of(client, (RED, BLUE), t, "an image of the empty scene under 'nowhere'")
        t = time.monotonic()
        client.marker_pub.publish(marker("ff_a", 1, CUBE, frame="odom", xyz=A_XYZ,
                                         scale=(A_SIZE,) * 3, rgba=RED))
        # the marker cannot be placed: after waiting for TF (5 s) it gives up, with one line
        viewer.wait_for_line(r"marker ns=ff_a id=1: no transform from 'odom' to fixed frame "
                             r"'nowhere'", TIMEOUT, start=log_from)
        # images keep coming meanwhile (waited for, not counted in a window), none with it
        client.wait_for(lambda: sum(im.received > t for im in list(client.images["/vuer/image"]))
                        >= 5, TIMEOUT, "5 images while the fixed frame was unknown")
        shown = [im for im in list(client.images["/vuer/image"]) if im.received > t]
        assert all(colour_mask(im.rgb, RED).sum() < 3 for im in shown), \
            "a marker with no transform to the fixed frame was drawn"
        assert viewer.proc.poll() is None

        # back to map: the camera, the TF tree and a re-sent marker are there again
        t = time.monotonic()
        res = set_param(client, "fixed_frame", "map")
        assert res.successful, res.reason
        cam = camera_in(client, "map")
        client.wait_for(lambda: client.counts["/vuer/image"] > 0 and
                        client.latest().received > t, TIMEOUT, "an image after the change")
        t = time.monotonic()
        publish_a_and_b(client)
        wait_at(client, {RED: cube_centre_px(cam, in_map(A_XYZ), A_SIZE),
                         BLUE: cube_centre_px(cam, B_XYZ, B_SIZE)}, t,
                "fixed frame map again: both cubes where they were at first")
        # nothing is cut off from map: no warning about the name 'nowhere' left behind
        assert viewer.count(r"have no connection to the fixed frame 'map'") == 0, viewer.tail()
        assert "Traceback" not in viewer.log, viewer.tail()
        client.marker_pub.publish(marker("", 0, CUBE, action=DELETEALL))


# -- 2. a render camera riding a TF frame (render.camera_frame) ------------------------------------
CAM_FRAME = "cam_link"
# REP 103 body frame -> optical: optical X = -Y, optical Y = -Z, optical Z = +X of cam_link
BODY_TO_OPTICAL_R = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
# two poses of cam_link in map: looking at the origin from the -X side, pitched down ...
POSE_1 = ((-2.5, 0.0, 1.2), tuple(q_axis((0, 1, 0), 25.0)))
# ... then moved right and up, turned left by 5 degrees and pitched down more
POSE_2 = ((-2.0, -1.0, 1.6), tuple(q_mul(q_axis((0, 0, 1), 5.0), q_axis((0, 1, 0), 30.0))))
G_XYZ, G_SIZE = (0.0, 0.3, 0.1), 0.3    # a green cube in map, in front of cam_link


@pytest.fixture(scope="class")
def cam_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeUnderTest]:
    with running_node(tmp_path_factory.mktemp("viewer_camframe"),
                      {"render.camera_frame": CAM_FRAME}) as n:
        yield n


@pytest.fixture(scope="class")
def cam_client(cam_node: NodeUnderTest) -> RosClient:
    return ready(cam_node)


class TestCameraOnATfFrame:
    @pytest.fixture
    def client(self, cam_client: RosClient) -> RosClient:
        return cam_client

    def camera(self, client: RosClient, cam_link: tuple) -> PinholeCamera:
        """K from camera_info; the optical frame's pose in map = map->cam_link (what we
        publish) composed with cam_link->optical (what the node publishes)."""
        client.wait_for(lambda: client.camera_info is not None and OPTICAL in client.static_tf,
                        TIMEOUT, "camera_info and the camera's /tf_static")
        mount = client.static_tf[OPTICAL]
        assert mount.header.frame_id == CAM_FRAME
        t_opt, q_opt = tf_pose(mount)
        xyz, q = np.asarray(cam_link[0], float), np.asarray(cam_link[1], float)
        position = transform_points(t_opt, xyz, q)[0]
        return PinholeCamera(np.array(client.camera_info.k).reshape(3, 3), position,
                             q_mul(q, q_opt), client.camera_info.width, client.camera_info.height)

    def test_no_images_until_the_camera_frame_is_on_tf(self, cam_node, client):
        # runs first in this class: nobody has published cam_link yet
        viewer = cam_node.viewer
        viewer.wait_for_line(r"render camera: no transform from render.camera_frame "
                             r"'cam_link' to fixed frame 'map'", TIMEOUT)
        time.sleep(1.0)
        assert client.counts["/vuer/image"] == 0, "images without a camera pose"
        # the optical frame hangs under cam_link, turned as documented for a body frame
        client.wait_for(lambda: OPTICAL in client.static_tf, TIMEOUT, "the camera's /tf_static")
        mount = client.static_tf[OPTICAL]
        assert mount.header.frame_id == CAM_FRAME
        t_opt, q_opt = tf_pose(mount)
        assert np.allclose(t_opt, 0.0)
        assert np.allclose(q_matrix(q_opt), BODY_TO_OPTICAL_R, atol=1e-6), q_matrix(q_opt)
        # cam_link appears: images come
        t = time.monotonic()
        client.publish_tf(tf("map", CAM_FRAME, *POSE_1, stamp=client.now()))
        im = client.image_after(t, timeout=60.0)
        assert im.msg.header.frame_id == OPTICAL

    def test_marker_in_front_lands_on_the_pinhole_model_and_follows_the_frame(self, client):
        t = time.monotonic()
        client.publish_tf(tf("map", CAM_FRAME, *POSE_1, stamp=client.now()))
        client.marker_pub.publish(marker("cf", 1, CUBE, xyz=G_XYZ, scale=(G_SIZE,) * 3, rgba=GREEN))
        cam1 = self.camera(client, POSE_1)
        # in front of the camera, near the middle of the image
        assert 2.0 < cam1.depth_of(G_XYZ) < 4.0
        want1 = cube_centre_px(cam1, G_XYZ, G_SIZE)
        assert 100 < want1[0] < 300 and 75 < want1[1] < 225, want1
        im = wait_at(client, {GREEN: want1}, t, "the cube seen from cam_link at its first pose")
        assert im.msg.header.frame_id == OPTICAL
        info = client.camera_info
        assert info.header.frame_id == OPTICAL and (info.width, info.height) == (400, 300)

        # move cam_link: the camera follows its latest TF
        t = time.monotonic()
        client.publish_tf(tf("map", CAM_FRAME, *POSE_2, stamp=client.now()))
        cam2 = self.camera(client, POSE_2)
        want2 = cube_centre_px(cam2, G_XYZ, G_SIZE)
        assert 0 < want2[0] < 400 and 0 < want2[1] < 300, want2
        assert np.linalg.norm(want2 - want1) > 30, (want1, want2)
        wait_at(client, {GREEN: want2}, t, "the cube seen from cam_link after it moved")
        # and back: it follows again (the second pose was not a one-off)
        t = time.monotonic()
        client.publish_tf(tf("map", CAM_FRAME, *POSE_1, stamp=client.now()))
        wait_at(client, {GREEN: want1}, t, "the cube seen from cam_link back at its first pose")
        client.marker_pub.publish(marker("", 0, CUBE, action=DELETEALL))
