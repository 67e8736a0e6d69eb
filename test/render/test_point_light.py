"""A PointLight (the schema's defaults: white, decay 2, no range limit) lights a
Lambert floor as physics says: radiance I/pi * cos(angle) / d^2 at every pixel,
computed here by casting each pixel's ray at the floor. Its `distance` prop then
cuts the light off (three's window, (1 - (d/distance)^4)^2). Real server, client
and Chromium."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_to_matrix
from vuer_ros.schemas import Plane, PointLight, Scene
from vuer_ros.server import VuerServer

W, H = 160, 120
CAMERA = RenderCamera.look_at([0.0, -3.0, 2.5], [0.0, 0.0, 0.0], width=W, height=H, fov_y=50.0,
                              near=0.05, far=50.0)
BULB_AT = np.array([0.3, 0.2, 1.0])
INTENSITY = 0.8 * math.pi      # radiance 0.8 right below the bulb, 1 m above the floor
CUTOFF = 1.5                   # metres, for the `distance` check


def floor_points() -> np.ndarray:
    """Where each pixel centre's ray meets the floor z = 0 (H x W x 3)."""
    R = quat_to_matrix(CAMERA.orientation)
    f = CAMERA.focal_length
    cx, cy = CAMERA.principal_point
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    rays = np.stack([(u - cx) / f, (v - cy) / f, np.ones_like(u, float)], -1) @ R.T
    eye = np.asarray(CAMERA.position, float)
    t = -eye[2] / rays[..., 2]
    assert (t > 0).all(), "every pixel sees the floor"
    return eye + t[..., None] * rays


def expected_grey(distance: float | None) -> np.ndarray:
    """The sRGB byte a white Lambert floor shows under the bulb alone."""
    lit = BULB_AT - floor_points()
    d = np.linalg.norm(lit, axis=-1)
    radiance = INTENSITY / math.pi * (lit[..., 2] / d) / d**2
    if distance is not None:
        radiance *= np.clip(1 - (d / distance) ** 4, 0, 1) ** 2
    linear = np.clip(radiance, 0, 1)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return srgb * 255


@pytest.fixture(scope="module")
def grabs():
    async def main():
        async with VuerServer(port=0) as server:
            floor = Plane(key="floor", args=[20, 20], materialType="lambert", material={"color": "#ffffff"})
            server.set @ Scene(floor, PointLight(key="bulb", position=list(BULB_AT), intensity=INTENSITY))
            async with HeadlessBrowser(server, W, H) as browser:
                out = {"defaults": await browser.session.grab(format="rgb", width=W, height=H, camera=CAMERA)}
                server.upsert @ PointLight(key="bulb", position=list(BULB_AT), intensity=INTENSITY,
                                           distance=CUTOFF)
                out["cutoff"] = await browser.session.grab(format="rgb", width=W, height=H, camera=CAMERA)
                return out
    return asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("case,distance", [("defaults", None), ("cutoff", CUTOFF)])
def test_point_light_falls_off_as_the_schema_says(grabs, case, distance):
    rgb = grabs[case].rgb.astype(float)
    assert rgb.shape == (H, W, 3)
    assert np.ptp(rgb, axis=2).max() <= 1, "white light on a white floor is grey"
    want = expected_grey(distance)
    assert want.max() > 150 and want.min() < 60, "the view spans bright and dim floor"
    error = np.abs(rgb[..., 1] - want)
    assert error.mean() < 1.0 and np.percentile(error, 99.9) <= 3, (error.mean(), error.max())
