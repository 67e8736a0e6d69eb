"""The real node on the robot's network: ``host`` is a non-loopback address of this
machine (0.0.0.0 where it has none). It makes its self-signed certificate under
``$ROS_HOME/vuer_ros/tls/``, logs the URL to open with a random token, the
certificate's fingerprint and a QR code; its own headless Chromium renders over wss
(a mesh from a mesh root included, fetched with the page's cookie), and a client
without the token gets 401 / close 1008, logged once per address.
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import time
from pathlib import Path

import pytest
from ros_helpers import box_points, centroid, colour_mask, hull_mask, marker, transform_points
from secure_helpers import https_get, network_address
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from vuer_ros.server.tls import load_identity

NODE_PARAMS = {"host": network_address() or "0.0.0.0"}
URL = r"vuer_ros viewer: open (https://(\S+?):(\d+)/\?token=([A-Za-z0-9._~-]+)) "
MESH_RESOURCE = 10
GREEN = (0.0, 1.0, 0.0, 1.0)
POSE_XYZ = (0.3, 0.2, 0.1)
POSE_Q = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))
SIZE = (0.3, 0.25, 0.2)


@pytest.fixture(scope="module")
def opened(node):
    """(url, host, port, token) from the node's log line."""
    m = node.viewer.wait_for_line(URL)
    return m.group(1), m.group(2), int(m.group(3)), m.group(4)


@pytest.fixture(scope="module")
def trusted(node) -> ssl.SSLContext:
    """A client context trusting the certificate the node made (and only it)."""
    tls = Path(node.env["ROS_HOME"]) / "vuer_ros" / "tls"
    return load_identity(tls / "cert.pem", tls / "key.pem").client_context()


def test_logs_the_url_token_fingerprint_and_qr_code(node, opened):
    url, host, port, token = opened
    if NODE_PARAMS["host"] != "0.0.0.0":
        assert host == NODE_PARAMS["host"]
    assert port == node.viewer.port and len(token) >= 22
    tls = Path(node.env["ROS_HOME"]) / "vuer_ros" / "tls"
    identity = load_identity(tls / "cert.pem", tls / "key.pem")
    assert identity.covers(host)
    log = node.viewer.log
    assert f"SHA-256 fingerprint {identity.fingerprint}" in log and str(tls / "cert.pem") in log
    qr = [line for line in node.viewer.lines if re.fullmatch(r"[\u2588\u2580\u2584 ]{20,}", line)]
    assert len(qr) >= 15, node.viewer.tail()


def test_headless_renderer_draws_a_mesh_over_wss(node):
    client = node.client
    client.wait_subscribers(client.marker_pub)
    cam = client.camera()
    published = time.monotonic()
    client.marker_pub.publish(marker("secure", 1, MESH_RESOURCE, xyz=POSE_XYZ, q=POSE_Q, scale=SIZE,
                                     rgba=GREEN, mesh_resource=f"file://{node.mesh_dir}/cube.stl"))
    expected = hull_mask(cam, [transform_points(box_points(SIZE), POSE_XYZ, POSE_Q)])
    image, _ = client.wait_image(lambda im: colour_mask(im.rgb, GREEN).sum() >= 0.6 * expected.sum(),
                              timeout=60.0, after=published, what="the green mesh (a /files/ URL)")
    mask = colour_mask(image.rgb, GREEN)
    (got_u, got_v), (want_u, want_v) = centroid(mask), centroid(expected)
    assert math.hypot(got_u - want_u, got_v - want_v) <= 2.0, ((got_u, got_v), (want_u, want_v))
    assert node.viewer.count(r"refused ") == 0, node.viewer.tail()


def test_every_request_needs_the_token(node, opened, trusted):
    url, host, port, token = opened
    status, headers, body = https_get(port, "/", trusted, host=host)
    assert status == 401 and b"<html" not in body.lower()
    assert https_get(port, "/client.js", trusted, host=host)[0] == 401
    status, headers, body = https_get(port, f"/?token={token}", trusted, host=host)
    assert status == 200 and b"client.js" in body
    cookie = headers["Set-Cookie"].split(";")[0]
    assert https_get(port, "/client.js", trusted, host=host, headers={"Cookie": cookie})[0] == 200

    async def websocket_close() -> tuple[int, str]:
        async with connect(f"wss://{host}:{port}/", ssl=trusted) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as e:
                assert e.rcvd is not None
                return e.rcvd.code, e.rcvd.reason
        raise AssertionError("the websocket without a token got a message")

    code, reason = asyncio.run(websocket_close())
    assert code == 1008 and reason.startswith("no token")
    node.viewer.wait_for_line(r"refused GET / from ")
    assert node.viewer.count(r"refused ") == 1, node.viewer.tail()   # once for this address
