"""Sessions running the Vuer client get the scene in its form (server/vuer_clients.py),
SET and every event after their INIT; our clients keep getting the shared bytes,
encoded once, and nothing is translated while no Vuer client is connected."""

from __future__ import annotations

import msgpack
import numpy as np
from server_helpers import FakeBrowser

from vuer_ros.protocol import encode
from vuer_ros.protocol.vuer_client import SUFFIX
from vuer_ros.schemas import DefaultScene, Group, TriMesh
from vuer_ros.server import VuerServer

VUER_INIT = {"client": "browser", "pkg": "@vuer-ai/vuer", "pkgVersion": "0.0.102", "userAgent": "x"}


async def open_vuer_client(server: VuerServer) -> FakeBrowser:
    browser = await FakeBrowser.open(server, init=False)
    await browser.send({"ts": 0, "etype": "INIT", "value": VUER_INIT})
    return browser


def mesh(position: list[float]) -> TriMesh:
    return TriMesh(key="mesh", vertices=np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32), position=position)


async def test_a_vuer_client_gets_its_form_and_ours_the_shared_bytes(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        server.set @ DefaultScene(Group(mesh([0, 0, 0]), key="base_link"))
        async with await FakeBrowser.open(server) as ours, await open_vuer_client(server) as vuer:
            assert (await ours.recv())["etype"] == "SET"
            assert ours.tree.get("mesh")["tag"] == "TriMesh"
            # its first SET may go out before its INIT is read; the INIT brings one in its form
            while (await vuer.recv_until("SET")) and vuer.tree.get("mesh")["tag"] != "Group":
                pass
            assert vuer.tree.get("mesh" + SUFFIX)["tag"] == "TriMesh"
            assert vuer.tree.get("grid")["tag"] == "Line"
            assert len(server.vuer_clients.sessions) == 1

            captured = []
            for session in server.sessions:
                push = session.outbox.push_scene
                session.outbox.push_scene = lambda m, key=None, push=push: (captured.append(m), push(m, key))[1]
            server.update @ mesh([1, 2, 3])
            ours_event, vuer_event = await ours.recv(), await vuer.recv()
            assert ours_event["data"]["nodes"][0]["position"] == [1, 2, 3]
            assert "children" not in ours_event["data"]["nodes"][0]
            (node,) = vuer_event["data"]["nodes"]
            assert node["tag"] == "Group" and node["position"] == [1, 2, 3]
            assert node["children"][0]["tag"] == "TriMesh"
            ours_bytes = [m for m in captured if msgpack.unpackb(m)["data"]["nodes"][0].get("tag") == "TriMesh"]
            assert len(ours_bytes) == 1 and ours_bytes[0] == encode(ours_event), "our clients' bytes unchanged"


async def test_vuer_snapshots_are_made_once_per_scene_version(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        server.set @ DefaultScene(mesh([0, 0, 0]))
        first = server.vuer_clients.snapshot_message()
        assert server.vuer_clients.snapshot_message() is first
        server.update @ mesh([0, 0, 1])
        assert server.vuer_clients.snapshot_message() is not first


async def test_nothing_is_translated_without_a_vuer_client(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        ours = await FakeBrowser.open(server)
        async with ours:
            await ours.recv_until("SET")
            server.vuer_clients.event_message = None  # would raise if called
            server.set @ DefaultScene(mesh([0, 0, 0]))
            assert (await ours.recv())["etype"] == "SET"
            assert server.vuer_clients.sessions == set()
