"""One shared scene: every scene op reaches every client in order, encoded
once; a client that connects late gets one SET of the current scene."""

from __future__ import annotations

import asyncio
import threading

from server_helpers import FakeBrowser

from vuer_ros.protocol import Add, Set
from vuer_ros.schemas import Box, DefaultScene, Group, Sphere
from vuer_ros.server import VuerServer


async def test_first_message_is_a_set_of_the_current_scene(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        server.set @ DefaultScene(Group(Box(key="box"), key="base_link"))
        async with await FakeBrowser.open(server) as browser:
            first = await browser.recv()
            assert first["etype"] == "SET" and isinstance(first["ts"], int)
            assert browser.tree.parent_key("box") == "base_link"
            assert "DEFAULT" in browser.tree


async def test_scene_ops_reach_the_client_in_order_and_match_the_server_tree(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        async with await FakeBrowser.open(server) as browser:
            await browser.recv_until("SET")
            session = await server.wait_for_session(id="fake", timeout=2)
            session.set @ DefaultScene(Group(key="base_link"))
            session.add(Box(key="box", args=[1, 1, 1]), to="base_link")
            session.upsert @ [Box(key="box", position=[1, 2, 3]), Sphere(key="ball")]
            session.update @ Box(key="box", material={"color": "red"})
            session.update(Sphere(key="ball", args=[0.5]), strict=True)
            session.remove @ "ball"
            server.add(to="base_link") @ Box(key="box2")
            server @ Add(Box(key="box3"))
            etypes = [(await browser.recv())["etype"] for _ in range(8)]
            assert etypes == ["SET", "ADD", "UPSERT", "UPDATE", "UPDATE", "REMOVE", "ADD", "ADD"]
            box = browser.tree.get("box")
            assert box["position"] == [1, 2, 3] and box["material"] == {"color": "red"}
            assert box["args"] == [1, 1, 1]
            assert "ball" not in browser.tree and browser.tree.parent_key("box2") == "base_link"
            assert browser.tree.snapshot() == server.scene.tree.snapshot()


async def test_broadcast_reaches_every_client_with_the_same_bytes(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browsers = [await FakeBrowser.open(server, token=f"b{i}") for i in range(3)]
        for b in browsers:
            await b.recv_until("SET")
        raw = []
        server.update @ Box(key="nothing-yet")  # an unknown key is passed on (the browser ignores it too)
        for b in browsers:
            raw.append(await asyncio.wait_for(b.ws.recv(), 2))
        assert raw[0] == raw[1] == raw[2]
        for b in browsers:
            await b.close()


async def test_late_joiner_gets_the_state_not_the_history(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        server.set @ DefaultScene()
        for i in range(50):
            server.upsert @ Box(key="box", position=[i, 0, 0])
        server.remove @ "grid"
        async with await FakeBrowser.open(server) as late:
            first = await late.recv()
            assert first["etype"] == "SET"
            assert late.tree.get("box")["position"] == [49, 0, 0]
            assert "grid" not in late.tree
            server.update @ Box(key="box", position=[50, 0, 0])
            assert (await late.recv())["etype"] == "UPDATE"  # nothing replayed in between
        # reconnecting is joining late again
        async with await FakeBrowser.open(server) as again:
            await again.recv()
            assert again.tree.get("box")["position"] == [50, 0, 0]


async def test_scene_ops_from_another_thread_are_handed_to_the_loop(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        async with await FakeBrowser.open(server) as browser:
            await browser.recv_until("SET")
            thread = threading.Thread(target=lambda: server.upsert @ Box(key="from-thread"))
            thread.start()
            thread.join()
            event = await browser.recv()
            assert event["etype"] == "UPSERT" and "from-thread" in server.scene.tree


async def test_set_with_a_plain_dict_and_at_operator(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        server @ Set({"tag": "Scene", "key": "scene", "children": [{"tag": "Box", "key": "b"}]})
        assert server.scene.tree.parent_key("b") == "scene"
