"""HTTP on the scene port: the client bundle and mounts are served, nothing
outside them is, however the path is spelled."""

from __future__ import annotations

import asyncio
import os

import pytest

from vuer_ros.server import VuerServer
from vuer_ros.server.static import PathRefused, StaticFiles


async def http_get(port: int, raw_path: str) -> tuple[int, dict[str, str], bytes]:
    """GET with the path sent byte for byte (no client-side normalisation)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture
def tree(tmp_path, client_dir):
    """client_dir plus a mount root, a secret beside them and escaping symlinks."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    (meshes / "arm.stl").write_bytes(b"solid arm\nendsolid arm\n")
    (meshes / ".hidden").write_text("dotfile")
    os.symlink(secret, client_dir / "leak.txt")
    os.symlink(tmp_path, meshes / "up")
    return {"client": client_dir, "meshes": meshes, "secret": secret}


async def test_serves_index_assets_and_mounts_with_content_types(tree):
    async with VuerServer(port=0, client_dir=tree["client"], mounts={"meshes": tree["meshes"]}) as server:
        status, headers, body = await http_get(server.port, "/?renderer=headless&id=x")
        assert status == 200 and b"vuer_ros test client" in body
        assert headers["content-type"].startswith("text/html")
        status, headers, body = await http_get(server.port, "/assets/main.js")
        assert (status, body) == (200, b"console.log('hi')")
        assert headers["content-type"].startswith("text/javascript")
        status, headers, _ = await http_get(server.port, "/assets/decoder.wasm")
        assert (status, headers["content-type"]) == (200, "application/wasm")
        status, headers, body = await http_get(server.port, "/files/meshes/arm.stl")
        assert status == 200 and body.startswith(b"solid arm")
        assert headers["content-type"] == "model/stl"
        status, _, _ = await http_get(server.port, "/files/meshes/arm%2Estl")  # an encoded '.' is just a dot
        assert status == 200
        assert server.mount("more", tree["meshes"]).endswith("/files/more/")
        assert (await http_get(server.port, "/files/more/arm.stl"))[0] == 200


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2E%2E/secret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/..%5csecret.txt",
    "/%2fetc/passwd",
    "//etc/passwd",
    "/files/meshes/../../secret.txt",
    "/files/meshes/%2e%2e/%2e%2e/secret.txt",
    "/files/meshes/up/secret.txt",          # symlink to a folder outside the root
    "/leak.txt",                             # symlink to a file outside the root
    "/assets/main.js%00.png",
    "/./index.html",
])
async def test_escapes_are_refused(tree, path):
    async with VuerServer(port=0, client_dir=tree["client"], mounts={"meshes": tree["meshes"]}) as server:
        status, _, body = await http_get(server.port, path)
        assert status in (403, 404), (path, status)
        assert b"top secret" not in body


@pytest.mark.parametrize("path", ["/%252e%252e/secret.txt", "/files/meshes/.hidden", "/files/nomount/x",
                                  "/files/meshes", "/assets/", "/nothing.js"])
async def test_unknown_and_hidden_paths_are_404(tree, path):
    async with VuerServer(port=0, client_dir=tree["client"], mounts={"meshes": tree["meshes"]}) as server:
        assert (await http_get(server.port, path))[0] == 404


def test_resolve_refuses_before_touching_the_filesystem(tree):
    static = StaticFiles(tree["client"], {"meshes": tree["meshes"]})
    for path in ("/../x", "/a/%2e%2e/b", "/a//b", "/a\\b"):
        with pytest.raises(PathRefused):
            static.resolve(path)
    assert static.resolve("/assets/main.js") == (tree["client"] / "assets" / "main.js").resolve()
    with pytest.raises(ValueError, match="plain name"):
        static.mount("../x", tree["meshes"])


async def test_missing_bundle_gives_a_page_that_says_how_to_build_it(tmp_path, caplog):
    async with VuerServer(port=0, client_dir=tmp_path / "nope") as server:
        status, headers, body = await http_get(server.port, "/")
        assert status == 503 and headers["content-type"].startswith("text/html")
        assert b"npm run build" in body and b"VUER_ROS_CLIENT_DIR" in body
    assert "client not built" in caplog.text


def test_client_dir_env_override(monkeypatch, client_dir):
    monkeypatch.setenv("VUER_ROS_CLIENT_DIR", str(client_dir))
    assert VuerServer(port=0).static.client_dir == client_dir


async def test_blobs_are_served_from_memory_while_their_holder_lives(tree):
    """Bytes carried in messages: one URL per content, immutable, dropped with the last
    element that shows them; never a file."""
    import gc
    import hashlib

    class Holder:   # stands in for the scene element whose src is the URL
        pass

    async with VuerServer(port=0, client_dir=tree["client"]) as server:
        blobs = server.static.blobs
        data = b"solid embedded\nendsolid embedded\n"
        a, b = Holder(), Holder()
        url = blobs.hold(data, ".STL", a)
        assert url == f"/blobs/{hashlib.sha256(data).hexdigest()}.stl"
        assert blobs.hold(data, ".stl", b) == url and len(blobs) == 1   # the same bytes once
        status, headers, body = await http_get(server.port, url)
        assert (status, body) == (200, data)
        assert headers["content-type"] == "model/stl"
        assert "immutable" in headers["cache-control"]
        for bad in (url + "x", "/blobs/../index.html", "/blobs/" + "0" * 64 + ".stl", "/blobs/"):
            assert (await http_get(server.port, bad))[0] in (403, 404), bad
        del a
        gc.collect()
        assert (await http_get(server.port, url))[0] == 200             # b still shows it
        del b
        gc.collect()
        assert (await http_get(server.port, url))[0] == 404 and len(blobs) == 0
        with pytest.raises(ValueError):
            blobs.hold(data, "/../x", Holder())
