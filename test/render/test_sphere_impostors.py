"""Batched spheres small on screen are drawn as impostors (web/src/impostors.js): one
point each, the view ray of every pixel cast at the true ellipsoid. Checked against
the same ray cast done here: the silhouette of a rotated, squashed sphere, its depth
in the depth image, and its shading against the same sphere drawn as a mesh."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_to_matrix
from vuer_ros.schemas import DefaultScene, Sphere
from vuer_ros.server import VuerServer

from pixels import colour_mask, measured_silhouette

W, H = 640, 480
CAMERA = RenderCamera.look_at([0.0, -12.0, 1.0], [0.0, 0.0, 1.0], width=W, height=H, fov_y=55.0,
                              near=0.05, far=100.0)
# a 0.5 m ball squashed to 1 x 0.6 x 0.35 and turned: about 40 x 20 px, off the image
# centre, so its image is not a circle nor centred on its projected centre
ELLIPSOID_AT, ELLIPSOID_SCALE = np.array([2.5, 0.0, 2.2]), np.array([1.0, 0.6, 0.35])
ELLIPSOID_Q = np.array([0.2, 0.3, 0.1, 0.93]) / np.linalg.norm([0.2, 0.3, 0.1, 0.93])
# the same lit ball near (drawn as a mesh) and far (an impostor), on the camera axis
NEAR_AT, FAR_AT = np.array([0.0, -9.0, 1.0]), np.array([0.0, 12.0, 1.0])


def ray_cast(axes: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of pixels whose centre ray meets the ellipsoid {centre + axes @ u, |u| <= 1}
    and the hit's depth along the optical axis (inf elsewhere)."""
    R = quat_to_matrix(CAMERA.orientation)
    eye = np.asarray(CAMERA.position, float)
    f = CAMERA.focal_length
    cx, cy = CAMERA.principal_point
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    rays = np.stack([(u - cx) / f, (v - cy) / f, np.ones_like(u, float)], -1) @ R.T   # world, depth 1
    inv = np.linalg.inv(axes)
    o = inv @ (eye - centre)
    k = rays @ inv.T
    a, b, c = (k * k).sum(-1), k @ o, o @ o - 1.0
    disc = b * b - a * c
    hit = disc >= 0
    t = np.where(hit, (-b - np.sqrt(np.where(hit, disc, 0))) / a, np.inf)
    return hit, t   # rays have unit depth: t is the depth


def ball(key, at, colour, **kw):
    return Sphere(key=key, args=[0.5, 16, 12], position=list(map(float, at)), material={"color": colour}, **kw)


def render_all():
    async def main():
        async with VuerServer(port=0) as server:
            out = {}
            async with HeadlessBrowser(server, W, H) as browser:
                sess = browser.session
                server.set @ DefaultScene(ball("squashed", ELLIPSOID_AT, "#ff0000", materialType="basic",
                                               scale=list(ELLIPSOID_SCALE), quaternion=list(ELLIPSOID_Q)),
                                          grid=False)
                out["squashed"] = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA, depth=True)
                for name, at in (("near", NEAR_AT), ("far", FAR_AT)):
                    server.set @ DefaultScene(ball(name, at, "#40c040", materialType="lambert"), grid=False)
                    out[name] = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)
            return out
    return asyncio.run(asyncio.wait_for(main(), 60))


def squashed_axes() -> np.ndarray:
    return quat_to_matrix(ELLIPSOID_Q) @ np.diag(0.5 * ELLIPSOID_SCALE)


def test_a_small_squashed_sphere_covers_the_pixels_its_ellipsoid_covers(rendered):
    want, _ = ray_cast(squashed_axes(), ELLIPSOID_AT)
    got = colour_mask(rendered["squashed"].rgb, (255, 0, 0))
    assert 20 < np.ptp(np.nonzero(want)[1]) <= 52, "small enough on screen to be an impostor"
    wrong = int((want ^ got).sum())
    assert wrong <= 6, (wrong, int(want.sum()))   # only pixel centres a hair from the outline
    for shift in ((0, 1), (1, 0)):
        assert wrong * 3 < int((np.roll(want, shift, axis=(0, 1)) ^ got).sum())


def test_its_depth_is_the_ellipsoid_surface(rendered):
    want, depth = ray_cast(squashed_axes(), ELLIPSOID_AT)
    got = rendered["squashed"].depth
    inner = want & np.roll(want, 1, 0) & np.roll(want, -1, 0) & np.roll(want, 1, 1) & np.roll(want, -1, 1)
    assert got is not None and inner.sum() > 200
    np.testing.assert_allclose(got[inner], depth[inner], rtol=2e-4)
    assert np.isinf(got[~want & ~np.roll(want, 1, 0) & ~np.roll(want, -1, 0)]).all()


def test_an_impostor_is_shaded_as_the_same_sphere_drawn_as_a_mesh(rendered):
    """Seen on the camera axis the two balls show the same normals, so their lit
    colours spread alike; wrong normals (in the wrong frame) would shift them."""
    stats = {}
    for name in ("near", "far"):
        rgb = rendered[name].rgb.astype(float)
        mask = np.abs(rgb - 48).max(-1) > 6   # the ball, not the background (48, 48, 48)
        area, centroid, _ = measured_silhouette(mask)
        (u, v), = CAMERA.project(np.array([NEAR_AT if name == "near" else FAR_AT]))
        assert np.linalg.norm(centroid - (u, v)) < 0.5
        # the ball's mean colour in a 3 x 3 grid over its disc
        yy, xx = np.nonzero(mask)
        radius = np.sqrt(area / np.pi)
        cell = np.clip(np.floor((np.stack([xx - u, yy - v]) / radius + 1) * 1.5), 0, 2).astype(int)
        stats[name] = np.array([[rgb[yy, xx][(cell[0] == i) & (cell[1] == j)].mean(axis=0) for i in range(3)]
                                for j in range(3)])
    assert np.abs(stats["near"] - stats["far"]).max() <= 6, stats
    assert stats["far"][0, 1, 1] - stats["far"][2, 1, 1] > 20, "lit from above: the top is brighter"


@pytest.fixture(scope="module")
def rendered():
    return render_all()
