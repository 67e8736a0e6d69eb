"""The server off loopback, through real TLS clients: ``http.client`` over ``ssl``
for files, the ``websockets`` client for the scene channel, each with a context that
trusts exactly the certificate the server made (or was given).

Off loopback the handshake is TLS, and every route needs the token: the page, the
client bundle's files, /files mounts, /blobs and the websocket. A missing or wrong
token gets 401 (HTTP) or a close with 1008 and a reason (websocket), before anything
of the scene is sent, logged once per client address. Path escapes are still refused
over TLS. On loopback nothing changes unless a token or certificate is given.
"""

from __future__ import annotations

import asyncio
import ssl

import pytest
from secure_helpers import aget, network_address
from server_helpers import FakeBrowser
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidMessage

from vuer_ros.schemas import Box, DefaultScene
from vuer_ros.server import VuerServer
from vuer_ros.server.tls import self_signed_identity

SECRET_KEY = "secret-gripper-box"


class Owner:
    """What holds a blob (a scene element, in the server)."""


@pytest.fixture
def tree(tmp_path, client_dir):
    """The stand-in client bundle, a mount root with a mesh, a secret beside them, and
    a folder for the server's certificate."""
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    (meshes / "arm.stl").write_bytes(b"solid arm\nendsolid arm\n")
    (tmp_path / "secret.txt").write_text("top secret")
    return {"client": client_dir, "meshes": meshes, "tls": tmp_path / "tls"}


def network_server(tree, host: str = "0.0.0.0", **kw) -> VuerServer:
    return VuerServer(host, 0, client_dir=tree["client"], mounts={"meshes": tree["meshes"]},
                      tls_dir=tree["tls"], **kw)


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused ")]


def routes(server: VuerServer, owner: object) -> dict[str, str]:
    blob = server.static.blobs.hold(b"solid blob\nendsolid blob\n", ".stl", owner)
    return {"page": "/", "bundle file": "/assets/main.js", "mount": "/files/meshes/arm.stl", "blob": blob}


async def test_off_loopback_tls_and_the_token_on_every_route(tree, caplog):
    async with network_server(tree) as server:
        assert server.uses_tls and server.url.startswith("https://127.0.0.1:")
        assert server.token and server.open_url.endswith(f"/?token={server.token}")
        trusted = server.tls.client_context()
        # a client that does not trust the certificate fails the handshake: it is real TLS
        with pytest.raises(ssl.SSLCertVerificationError):
            await aget(server.port, "/", ssl.create_default_context())
        owner = Owner()
        for what, path in routes(server, owner).items():
            status, headers, body = await aget(server.port, path, trusted)
            assert status == 401, what
            assert headers["WWW-Authenticate"] == 'Bearer realm="vuer_ros"'
            assert b"token" in body and b"solid" not in body and b"test client" not in body, (what, body)
            assert headers.get("Set-Cookie") is None
            status, _, body = await aget(server.port, f"{path}?token=wrong-token-0", trusted)
            assert status == 401 and b"wrong token" in body, what
            status, headers, body = await aget(server.port, f"{path}?token={server.token}", trusted)
            assert status == 200, what
            assert body.startswith(b"solid") or b"test client" in body or body == b"console.log('hi')"
            cookie = headers["Set-Cookie"]
            name = f"vuer_ros_token_{server.port}"
            assert cookie == f"{name}={server.token}; Path=/; HttpOnly; SameSite=Strict; Secure"
            # what the page's own files and meshes carry: the cookie, or a bearer header
            status, _, _ = await aget(server.port, path, trusted, headers={"Cookie": f"{name}={server.token}"})
            assert status == 200, what
            status, _, _ = await aget(server.port, path, trusted, headers={"Cookie": f"{name}=old-token-x"})
            assert status == 401, what
            status, _, _ = await aget(server.port, path, trusted,
                                      headers={"Authorization": f"Bearer {server.token}"})
            assert status == 200, what
        # many refusals from one address: one log line, without the token tried
        lines = refusals(caplog)
        assert len(lines) == 1 and "127.0.0.1" in lines[0] and "no token" in lines[0], lines
        assert "wrong-token-0" not in caplog.text


async def test_websocket_needs_the_token_and_gets_no_scene_before(tree, caplog):
    async with network_server(tree) as server:
        server.set @ DefaultScene(Box(key=SECRET_KEY))
        trusted = server.tls.client_context()
        cookie_name = f"vuer_ros_token_{server.port}"
        refused = {
            "no token": (server.ws_url, {}),
            "wrong token": (server.ws_url + "?token=wrong-token-1", {}),
            "wrong token (an old cookie?)": (server.ws_url, {"Cookie": f"{cookie_name}=old-token-x"}),
            "token cookie sent by another site's page": (
                server.ws_url, {"Cookie": f"{cookie_name}={server.token}", "Origin": "https://evil.example"}),
        }
        for reason, (url, headers) in refused.items():
            async with connect(url, ssl=trusted, additional_headers=headers) as ws:
                # the first thing to arrive is the close: no scene message was sent before it
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, reason
            assert closed.value.rcvd.reason.startswith(reason + ": open the URL"), closed.value.rcvd.reason
            assert not server.sessions
        assert not any("connected" in r.getMessage() for r in caplog.records)
        assert len(refusals(caplog)) == 1

        # the token in the URL, or this page's cookie (its Origin is the Host): the scene
        page_cookie = {"Cookie": f"{cookie_name}={server.token}", "Origin": f"https://127.0.0.1:{server.port}"}
        for browser in (FakeBrowser(await connect(server.with_token(server.ws_url), ssl=trusted)),
                        await FakeBrowser.open(server, ssl=trusted, additional_headers=page_cookie)):
            async with browser:
                first = await browser.recv()
                assert first["etype"] == "SET" and SECRET_KEY in browser.tree


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "//etc/passwd",
    "/files/meshes/../../secret.txt",
    "/files/meshes/%2E%2E/%2E%2E/secret.txt",
])
async def test_path_escapes_are_refused_over_tls(tree, path):
    async with network_server(tree) as server:
        trusted = server.tls.client_context()
        status, _, body = await aget(server.port, f"{path}?token={server.token}", trusted)
        assert status in (403, 404) and b"top secret" not in body, (path, status)
        status, _, body = await aget(server.port, path, trusted)
        assert status == 401 and b"top secret" not in body


async def test_bound_to_a_network_address_the_certificate_covers_it(tree, caplog):
    address = network_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    async with network_server(tree, host=address) as server:
        assert server.url == f"https://{address}:{server.port}/"
        assert server.open_url == f"https://{address}:{server.port}/?token={server.token}"
        assert server.tls.covers(address)
        trusted = server.tls.client_context()   # checks the host name: the address is in the SANs
        status, _, _ = await aget(server.port, f"/?token={server.token}", trusted, host=address)
        assert status == 200
        assert (await aget(server.port, "/", trusted, host=address))[0] == 401
        async with connect(server.with_token(server.ws_url), ssl=trusted) as ws:
            assert (await asyncio.wait_for(ws.recv(), 5))[:1]   # the first SET
        assert len(refusals(caplog)) == 1 and address in refusals(caplog)[0]


async def test_refusals_are_logged_once_per_address(tree, caplog):
    address = network_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    async with network_server(tree) as server:
        trusted = server.tls.client_context()
        for source in ("127.0.0.1", address, "127.0.0.1", address):
            assert (await aget(server.port, "/", trusted, source=source))[0] == 401
        lines = refusals(caplog)
        assert len(lines) == 2 and "from 127.0.0.1:" in lines[0] and f"from {address}:" in lines[1], lines


async def test_the_log_gives_the_url_fingerprint_and_qr_code(tree, caplog):
    async with network_server(tree) as server:
        text = caplog.text
        assert server.open_url in text and server.tls.fingerprint in text
        assert str(server.tls.cert_path) in text
        assert "scan to open it" in text and "\u2588\u2588" in text


async def test_plain_http_to_the_tls_port_gets_nothing(tree):
    async with network_server(tree) as server:
        with pytest.raises(ConnectionError):
            await aget(server.port, f"/?token={server.token}", None)
        with pytest.raises((InvalidMessage, ConnectionError, EOFError)):
            async with connect(server.with_token("ws" + server.ws_url[3:]), open_timeout=5):
                pass


async def test_loopback_stays_open_without_tls(tree):
    async with VuerServer(port=0, client_dir=tree["client"]) as server:
        assert (server.token, server.tls, server.url[:5]) == (None, None, "http:")
        status, headers, _ = await aget(server.port, "/", None)
        assert status == 200 and headers.get("Set-Cookie") is None
        async with await FakeBrowser.open(server) as browser:
            assert (await browser.recv())["etype"] == "SET"
        assert server.open_url == server.url


async def test_loopback_with_a_token_needs_it_without_tls(tree, caplog):
    async with VuerServer(port=0, client_dir=tree["client"], token="robot-lab-token") as server:
        assert server.url.startswith("http://") and server.tls is None
        assert (await aget(server.port, "/", None))[0] == 401
        status, headers, _ = await aget(server.port, "/?token=robot-lab-token", None)
        assert status == 200
        assert headers["Set-Cookie"].endswith("; HttpOnly; SameSite=Strict")   # no Secure over http
        async with connect(server.ws_url) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 1008
        async with connect(server.with_token(server.ws_url)) as ws:
            assert await asyncio.wait_for(ws.recv(), 5)


async def test_given_certificate_files_serve_tls_on_loopback(tree, tmp_path):
    made = self_signed_identity(["localhost", "127.0.0.1"], tmp_path / "own")
    async with VuerServer(port=0, client_dir=tree["client"], cert=made.cert_path, key=made.key_path) as server:
        assert server.tls is not None and server.tls.fingerprint == made.fingerprint
        assert not server.tls.generated and server.token is None
        status, _, _ = await aget(server.port, "/", made.client_context())
        assert status == 200
    with pytest.raises(ValueError, match="both a certificate and its key"):
        VuerServer(port=0, cert=made.cert_path)
    with pytest.raises(ValueError, match="token: 3 characters"):
        VuerServer(port=0, token="abc")
