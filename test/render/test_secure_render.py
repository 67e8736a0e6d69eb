"""Rendering through the server off loopback: real Chromium over https/wss, trusting
the server's self-signed certificate by its key only (SPKI hash, no blanket ignore),
with the access token in its page URL and the cookie carrying it to the client bundle,
a mounted mesh and a blob. The grab must show each where the pinhole model puts it,
and the server must have refused nothing.

Bound to a non-loopback address of this machine (0.0.0.0 where it has none), both
through VuerServer + HeadlessBrowser and through the Vuer-compatible app; and on
loopback with a configured token (plain http, the cookie without Secure)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging

import numpy as np
import pytest
from meshes import binary_stl, cuboid, stl_bytes
from pixels import box_corners, colour_mask, measured_silhouette, predicted_silhouette
from secure_helpers import network_address

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.render.vuer_app import Vuer
from vuer_ros.schemas import Box, DefaultScene, Stl
from vuer_ros.server import VuerServer

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
BOX_CENTER, BOX_SIZE = (0.4, -0.3, 0.35), (0.3, 0.5, 0.2)
MOUNTED_AT, BLOB_AT = (-0.6, 0.6, 0.2), (0.6, 0.9, 0.2)   # unit cubes scaled to 0.3 m
CUBE = 0.3
CAMERA = RenderCamera.look_at([-1.6, -1.1, 1.6], [0.1, 0.1, 0.3], width=640, height=480, fov_y=65.0,
                              near=0.05, far=50.0)


class Owner:
    """Holds the blob while the scene shows it (a scene element, in the node)."""


def host() -> str:
    return network_address() or "0.0.0.0"


def scene(mesh_url: str, blob_url: str) -> DefaultScene:
    def cube(key: str, src: str, at: tuple[float, float, float], color: str) -> Stl:
        return Stl(key=key, src=src, position=list(at), scale=[CUBE] * 3,
                   materialType="basic", material={"color": color})
    return DefaultScene(
        Box(key="red-box", args=list(BOX_SIZE), position=list(BOX_CENTER),
            materialType="basic", material={"color": "#ff0000"}),
        cube("mounted-cube", mesh_url + "cube.stl", MOUNTED_AT, "#00ff00"),
        cube("blob-cube", blob_url, BLOB_AT, "#0000ff"),
        grid=False)


def check_where(rgb: np.ndarray, colour: tuple[int, int, int], center, size) -> None:
    area, centroid, _ = predicted_silhouette(CAMERA, box_corners(center, size))
    got_area, got_centroid, _ = measured_silhouette(colour_mask(rgb, colour))
    assert np.linalg.norm(got_centroid - centroid) <= 2.0, (colour, got_centroid, centroid)
    assert got_area == pytest.approx(area, rel=0.06), colour


def check_frame(rgb: np.ndarray) -> None:
    assert rgb.shape == (480, 640, 3)
    check_where(rgb, RED, BOX_CENTER, BOX_SIZE)
    check_where(rgb, GREEN, MOUNTED_AT, (CUBE,) * 3)   # /files/...: the cookie carried the token
    check_where(rgb, BLUE, BLOB_AT, (CUBE,) * 3)       # /blobs/...: the same


def no_refusals(caplog) -> None:
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused ")]
    assert not refused, refused


@pytest.mark.parametrize("network", [True, False], ids=["off-loopback-tls", "loopback-with-token"])
def test_headless_browser_renders_with_the_token(tmp_path, caplog, network):
    caplog.set_level(logging.INFO, logger="vuer_ros")
    binary_stl(tmp_path / "meshes" / "cube.stl")
    owner = Owner()
    server_args = dict(host=host(), tls_dir=tmp_path / "tls") if network else dict(token="loopback-token")

    async def main() -> np.ndarray:
        async with VuerServer(port=0, **server_args) as server:
            assert server.url.startswith("https://" if network else "http://") and server.token
            mesh_url = server.mount("meshes", tmp_path / "meshes")[len(server.url) - 1:]
            blob_url = server.static.blobs.hold(stl_bytes(*cuboid()), ".stl", owner)
            server.set @ scene(mesh_url, blob_url)
            async with HeadlessBrowser(server, 640, 480) as browser:
                command = browser._command()
                if network:
                    assert f"--ignore-certificate-errors-spki-list={server.tls.spki_sha256}" in command
                assert "--ignore-certificate-errors" not in command
                assert browser.url.startswith(server.url) and f"token={server.token}" in browser.url
                assert browser.session.path.endswith(f"?token={server.token}")   # wss, token in its URL
                frame = await browser.session.grab(format="rgb", width=640, height=480, camera=CAMERA)
                return frame.rgb

    check_frame(asyncio.run(asyncio.wait_for(main(), 120)))
    no_refusals(caplog)


def test_vuer_app_renders_headless_off_loopback(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vuer_ros")
    binary_stl(tmp_path / "meshes" / "cube.stl")
    owner = Owner()

    async def main() -> np.ndarray:
        app = Vuer(host(), 0, headless=True, tls_dir=tmp_path / "tls", token="app-token-123")
        async with app:
            assert app.open_url.endswith("/?token=app-token-123") and app.open_url.startswith("https://")
            mesh_url = app.mount("meshes", tmp_path / "meshes")[len(app.url) - 1:]
            app.set @ scene(mesh_url, app.static.blobs.hold(stl_bytes(*cuboid()), ".stl", owner))
            assert app.browser is not None
            frame = await app.browser.session.grab(format="rgb", width=640, height=480, camera=CAMERA)
            return frame.rgb

    check_frame(asyncio.run(asyncio.wait_for(main(), 120)))
    no_refusals(caplog)


def test_chromium_trusts_only_that_key(tmp_path):
    """With another key's hash in the flag, Chromium refuses the certificate
    (ERR_CERT_AUTHORITY_INVALID, -202) and never reaches the page: the flag is what
    trusts it, nothing blanket."""
    async def main() -> None:
        async with VuerServer(host(), 0, tls_dir=tmp_path / "tls") as server:
            server.tls = dataclasses.replace(server.tls, spki_sha256=base64.b64encode(bytes(32)).decode())
            browser = HeadlessBrowser(server, 640, 480, start_timeout=90, restart=False)
            starting = asyncio.ensure_future(browser.start())
            try:
                while True:   # until Chromium says why it did not load the page
                    log = browser.log_path
                    if log is not None and log.exists() and b"net_error -202" in log.read_bytes():
                        break
                    assert not starting.done(), starting.exception() or "the page connected"
                    await asyncio.sleep(0.1)
                assert not server.sessions
            finally:
                starting.cancel()
                await browser.stop()

    asyncio.run(asyncio.wait_for(main(), 120))
