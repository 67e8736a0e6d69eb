"""A client that falls behind gets the latest state (one SET), never a growing
backlog; RPCs queued for it are never dropped."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest
from server_helpers import FakeBrowser

from vuer_ros.schemas import DefaultScene, PointCloud
from vuer_ros.server import VuerServer
from vuer_ros.server.outbox import RESYNC, Outbox

# -- the outbox alone (no sockets) ---------------------------------------------------------------


async def drain(box: Outbox) -> list:
    items = []
    while len(box):
        items.append(await box.get())
    return items


async def test_outbox_coalesces_scene_events_and_keeps_rpcs_in_place():
    box = Outbox(max_events=3, max_bytes=10**6)
    assert not box.push_scene(b"s1")
    box.push_rpc(b"rpc1")
    assert not box.push_scene(b"s2")
    assert not box.push_scene(b"s3")
    assert box.push_scene(b"s4")           # over the limit: an episode starts (log once)
    assert not box.push_scene(b"s5")       # absorbed by the pending SET
    assert box.episode.events == 5 and box.episode.bytes == 10
    assert await drain(box) == [RESYNC, b"rpc1"]  # the SET goes where the oldest event was
    assert box.end_episode().events == 5 and box.end_episode() is None
    assert not box.push_scene(b"s6")       # caught up: queued normally again
    assert await drain(box) == [b"s6"]


async def test_outbox_byte_limit_and_initial_resync():
    box = Outbox(max_events=100, max_bytes=10)
    box.request_resync()
    assert not box.push_scene(b"x" * 4)    # absorbed by the initial SET, not an episode
    assert box.episode is None
    assert await drain(box) == [RESYNC]
    box.push_scene(b"x" * 6)
    assert box.push_scene(b"x" * 6)        # 12 bytes > 10
    assert await drain(box) == [RESYNC]


async def test_outbox_sends_only_the_newest_event_of_a_key():
    box = Outbox(max_events=10, max_bytes=10**6)
    box.push_scene(b"a1", "a")
    box.push_scene(b"s1")
    box.push_rpc(b"rpc1")
    box.push_scene(b"a2", "a")             # replaces a1, queued after what came between
    box.push_scene(b"b1", "b")
    assert box.scene_backlog == (3, 6)
    assert await box.get() == b"s1"
    box.push_scene(b"a3", "a")             # a2 not sent yet: replaced too
    assert await drain(box) == [b"rpc1", b"b1", b"a3"]
    box.push_scene(b"a4", "a")             # a3 went out: a4 is queued as usual
    assert await drain(box) == [b"a4"] and box.scene_backlog == (0, 0)


async def test_outbox_get_sleeps_until_woken():
    box = Outbox()
    getter = asyncio.create_task(box.get())
    await asyncio.sleep(0.01)
    assert not getter.done()
    box.push_rpc(b"r")
    assert await asyncio.wait_for(getter, 1) == b"r"
    box.close()
    with pytest.raises(EOFError):
        await box.get()


# -- a real client that stops reading -----------------------------------------------------------


def cloud(i: int) -> PointCloud:
    return PointCloud(key="cloud", position=[float(i), 0.0, 0.0],
                      vertices=np.full((40_000, 3), i, dtype=np.float32))  # 480 kB per event


async def test_slow_client_is_brought_up_to_date_with_one_set(client_dir, caplog):
    async with VuerServer(port=0, client_dir=client_dir, max_backlog_events=8) as server:
        server.set @ DefaultScene()
        fast = await FakeBrowser.open(server, token="fast")
        slow = await FakeBrowser.open(server, token="slow", max_queue=1)  # stops reading its socket
        await fast.recv_until("SET")
        await slow.recv_until("SET")
        session = await server.wait_for_session(id="slow", timeout=2)

        i = 0
        while session.outbox.episodes == 0:
            i += 1
            assert i < 400, "the slow client never fell behind"
            server.upsert @ cloud(i)
            await fast.recv()                # the fast client keeps up
            await asyncio.sleep(0)
        grab = asyncio.create_task(session.grab(format="jpeg", ttl=5.0))
        for _ in range(20):                  # more changes while it is behind
            i += 1
            server.upsert @ cloud(i)
            await fast.recv()
        assert session.outbox.scene_backlog[0] <= 8 and len(session.outbox) <= 9
        fell_behind = [r for r in caplog.records if "fell behind" in r.message]
        # one line per fall-behind episode (more than one if a SET went out in between), naming the client
        assert len(fell_behind) == session.outbox.episodes >= 1 and "slow" in fell_behind[0].message

        # now it reads again: whatever was on the wire, then one SET of the latest state, then the grab
        while True:
            event = await slow.recv(timeout=5)
            if event["etype"] == "GRAB_RENDER":
                break
        etypes = [e["etype"] for e in slow.seen]
        assert etypes.count("SET") >= 2  # the first one, and the one that replaced the backlog
        await slow.answer(event, {"frame": b"jpeg!", "format": "jpeg", "width": 2, "height": 1})
        assert (await grab).encoded == b"jpeg!"
        while True:  # whatever changed after the grab was asked for
            try:
                await slow.recv(timeout=0.3)
            except asyncio.TimeoutError:
                break
        assert [e["etype"] for e in slow.seen].count("SET") == 1 + session.outbox.episodes
        assert slow.tree.get("cloud")["position"] == [float(i), 0.0, 0.0]
        assert slow.tree.snapshot() == server.scene.tree.snapshot()
        assert any("caught up" in r.message for r in caplog.records)
        await fast.close()
        await slow.close()


async def test_a_stuck_client_does_not_slow_the_others(client_dir, caplog):
    caplog.set_level(logging.WARNING)
    async with VuerServer(port=0, client_dir=client_dir, max_backlog_events=4) as server:
        stuck = await FakeBrowser.open(server, token="stuck", max_queue=1)
        fast = await FakeBrowser.open(server, token="fast")
        await fast.recv_until("SET")
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(60):
            server.upsert @ cloud(i)
            await fast.recv()
        assert loop.time() - start < 3.0
        session = await server.wait_for_session(id="stuck", timeout=2)
        assert session.outbox.scene_backlog[0] <= 4
        stuck.ws.transport.abort()           # gone without a close handshake
        await fast.close()


async def test_outbox_withdraws_only_the_given_up_rpc():
    box = Outbox()
    first, second = b"rpc-1", b"rpc-2"
    box.push_rpc(first)
    box.push_scene(b"s")
    box.push_rpc(second)
    assert box.withdraw(first) and not box.withdraw(first)
    assert await drain(box) == [b"s", second]
