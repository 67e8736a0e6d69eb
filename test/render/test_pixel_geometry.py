"""A red box of known size at a known place appears where the pinhole model of
the render camera puts it: the real server, the real client, real Chromium."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.schemas import Box, CameraView, DefaultScene, Plane
from vuer_ros.server import VuerServer

from pixels import box_corners, colour_mask, measured_silhouette, predicted_silhouette

RED = (255, 0, 0)
BOX_CENTER, BOX_SIZE = (0.4, -0.3, 0.35), (0.3, 0.5, 0.2)
CAMERA = RenderCamera.look_at([-1.6, -1.1, 1.3], [0.2, -0.1, 0.3], width=640, height=480, fov_y=55.0,
                              near=0.05, far=50.0)


def scene(*extra):
    return DefaultScene(
        Box(key="red-box", args=list(BOX_SIZE), position=list(BOX_CENTER),
            materialType="basic", material={"color": "#ff0000"}),
        *extra, grid=False)


@pytest.fixture(scope="module")
def rendered():
    """Grabs taken once for the module: one Chromium start for all checks."""
    async def main():
        async with VuerServer(port=0) as server:
            assert server.static.bundle_ready, "client bundle not built: run scripts/setup.sh"
            # the CameraView sits at the render camera's pose, in three.js convention
            wire = CAMERA.to_wire()
            server.set @ scene(CameraView(key="side-cam", fov=CAMERA.fov_y, width=320, height=240,
                                          near=CAMERA.near, far=CAMERA.far, position=wire["position"],
                                          quaternion=wire["quaternion"], showFrustum=False))
            async with HeadlessBrowser(server, 640, 480) as browser:
                sess = browser.session
                out = {
                    "rgb": await sess.grab(format="rgb", width=640, height=480, camera=CAMERA),
                    "jpeg": await sess.grab(format="jpeg", width=640, height=480, camera=CAMERA),
                    "png": await sess.grab(format="png", width=640, height=480, camera=CAMERA),
                    "view": await sess.grab(format="rgb", key="side-cam"),
                    "odd": await sess.grab(format="rgb", width=333, height=217, camera=CAMERA),
                }
                wall = Plane(key="wall", args=[20, 20], position=[3.0, 0, 0], quaternion=[0, 0.7071068, 0, 0.7071068],
                             materialType="basic", material={"color": "#00ff00", "side": 2})
                server.upsert @ wall
                eye = RenderCamera.look_at([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], width=200, height=150, fov_y=40.0)
                out["depth"] = await sess.grab(format="rgb", camera=eye, width=200, height=150, depth=True)
                return out
    return asyncio.run(asyncio.wait_for(main(), 90))


def check_red_box(rgb, camera, centroid_px=2.0, size_rel=0.05):
    area, centroid, extent = predicted_silhouette(camera, box_corners(BOX_CENTER, BOX_SIZE))
    got_area, got_centroid, got_extent = measured_silhouette(colour_mask(rgb, RED))
    assert np.linalg.norm(got_centroid - centroid) <= centroid_px, (got_centroid, centroid)
    assert got_extent == pytest.approx(extent, rel=size_rel, abs=1.5)
    assert got_area == pytest.approx(area, rel=size_rel)


@pytest.mark.parametrize("fmt", ["rgb", "png", "jpeg"])
def test_red_box_lands_where_the_pinhole_model_puts_it(rendered, fmt):
    frame = rendered[fmt]
    assert frame.rgb.shape == (480, 640, 3)
    check_red_box(frame.rgb, CAMERA)


def test_exact_odd_size_scales_the_image_with_the_intrinsics(rendered):
    frame = rendered["odd"]
    assert frame.rgb.shape == (217, 333, 3)
    odd = RenderCamera(333, 217, CAMERA.fov_y, CAMERA.near, CAMERA.far, CAMERA.position, CAMERA.orientation)
    check_red_box(frame.rgb, odd)


def test_camera_view_renders_from_its_own_pose_and_size(rendered):
    frame = rendered["view"]
    assert frame.rgb.shape == (240, 320, 3)
    small = RenderCamera(320, 240, CAMERA.fov_y, CAMERA.near, CAMERA.far, CAMERA.position, CAMERA.orientation)
    check_red_box(frame.rgb, small)


def test_depth_is_metres_along_the_optical_axis(rendered):
    depth = rendered["depth"].depth
    assert depth.shape == (150, 200) and depth.dtype == np.float32
    # a wall 3 m ahead: z-depth is 3 m everywhere on it (not the ray length)
    assert depth[75, 100] == pytest.approx(3.0, rel=0.01)
    assert depth[10, 10] == pytest.approx(3.0, rel=0.01)
    assert np.nanmax(np.abs(depth[np.isfinite(depth)] - 3.0)) < 0.03
