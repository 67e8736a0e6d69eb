"""Browser -> server: bad messages are logged once per cause and skipped, the
session stays open; INIT and handlers work."""

from __future__ import annotations

import asyncio

from server_helpers import FakeBrowser, pack

from vuer_ros.server import VuerServer


async def test_malformed_messages_are_logged_once_and_the_session_survives(client_dir, caplog):
    async with VuerServer(port=0, client_dir=client_dir, max_message_bytes=1000) as server:
        moves = []
        server.on("CAMERA_MOVE", lambda event, session: moves.append(event.value))
        async with await FakeBrowser.open(server) as browser:
            await browser.recv_until("SET")
            session = await server.wait_for_session(id="fake", timeout=2)
            for _ in range(3):
                await browser.ws.send(b"\xc1 not msgpack")
                await browser.ws.send("a text frame")
                await browser.ws.send(pack([1, 2, 3]))
                await browser.ws.send(pack({"value": "no etype"}))
                await browser.ws.send(pack({"etype": "X", "ts": "yesterday"}))
                await browser.ws.send(b"\x00" * 1001)
                await browser.ws.send(pack({"etype": "GRAB_RENDER_RESPONSE@gone", "value": {}}))
            await browser.send({"ts": 1, "etype": "CAMERA_MOVE", "value": {"camera": {"fov": 50}}})
            for _ in range(100):
                if moves:
                    break
                await asyncio.sleep(0.01)
            assert moves == [{"camera": {"fov": 50}}]
            assert not session.closed and server.sessions == [session]
            # still answers RPCs
            grab = asyncio.create_task(session.grab_render(ttl=2))
            request = await browser.recv_until("GRAB_RENDER")
            await browser.answer(request, {"frame": b"jpg", "width": 1, "height": 1})
            assert (await grab).value["frame"] == b"jpg"
    warnings = [r.message for r in caplog.records if r.levelname == "WARNING" and "dropped" in r.message]
    assert len(warnings) == 7, warnings  # one line per cause, not per message
    for needle in ("not a msgpack", "text frame", "is a list", "no string 'etype'", "'ts' is a str",
                   "over the 1000-byte limit", "after its RPC gave up"):
        assert any(needle in w for w in warnings), needle
    assert all("fake" in w for w in warnings)  # the session is named


async def test_init_fills_session_info_and_wait_for_session_matches(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        no_init = await FakeBrowser.open(server, init=False)
        b1 = await FakeBrowser.open(server, token="one")
        b2 = await FakeBrowser.open(server, token="two")
        s2 = await server.wait_for_session(id="two", timeout=2)
        assert s2.token == "two" and s2.info["renderer"] == "fake"
        s1 = await server.wait_for_session(lambda s: s.token == "one", timeout=2)
        assert s1 is not s2 and len(server.sessions) == 3
        waiting = asyncio.create_task(server.wait_for_session(id="three", timeout=2))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        b3 = await FakeBrowser.open(server, token="three")
        assert (await waiting).token == "three"
        try:
            await server.wait_for_session(id="never", timeout=0.1)
        except TimeoutError as e:
            assert "never" in str(e) and server.url in str(e)
        else:
            raise AssertionError("expected TimeoutError")
        for b in (no_init, b1, b2, b3):
            await b.close()


async def test_async_handlers_run_and_their_errors_are_logged(client_dir, caplog):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        got = asyncio.Event()

        @server.on("CLICK")
        async def on_click(event, session):
            got.set()

        def broken(event, session):
            raise RuntimeError("boom")

        remove = server.on("CLICK", broken)
        async with await FakeBrowser.open(server) as browser:
            await browser.send({"ts": 0, "etype": "CLICK", "key": "box", "value": {}})
            await asyncio.wait_for(got.wait(), 2)
            remove()
            got.clear()
            await browser.send({"ts": 0, "etype": "CLICK", "key": "box", "value": {}})
            await asyncio.wait_for(got.wait(), 2)
    assert sum("boom" in r.getMessage() or "boom" in str(r.exc_info) for r in caplog.records) == 1


async def test_session_till_waits_for_one_event(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        async with await FakeBrowser.open(server) as browser:
            session = await server.wait_for_session(id="fake", timeout=2)
            waiter = asyncio.create_task(session.till("CAMERA_MOVE", timeout=2))
            await asyncio.sleep(0.01)
            await browser.send({"ts": 0, "etype": "CAMERA_MOVE", "value": {"camera": {}}})
            assert (await waiter).etype == "CAMERA_MOVE"
            assert session.pop().etype == "CAMERA_MOVE" and session.popleft().etype == "INIT"
