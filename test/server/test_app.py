"""The vuer-compatible app: spawn semantics, lifecycle, the seed's imports."""

from __future__ import annotations

import asyncio

import pytest
from server_helpers import FakeBrowser

import vuer_ros
from vuer_ros.server import Vuer, VuerSession


def test_seed_imports_and_defaults():
    from vuer_ros import Vuer as V, VuerSession as S
    from vuer_ros.render.vuer_app import Vuer as HeadlessCapableVuer
    from vuer_ros.schemas import DefaultScene, GrabRender, Plane, Sphere  # noqa: F401

    assert (V, S) == (HeadlessCapableVuer, VuerSession) and issubclass(V, Vuer)
    app = Vuer()
    assert (app.host, app.port, app.url) == ("127.0.0.1", 8012, "http://127.0.0.1:8012/")
    assert "GrabRender" in DefaultScene().to_wire()["bgChildren"][-1]["tag"]
    with pytest.raises(AttributeError):
        vuer_ros.NoSuchThing  # noqa: B018


def test_vuer_options_are_accepted(tmp_path, caplog):
    app = Vuer(host="127.0.0.1", port=0, domain="https://vuer.ai", queries={"a": 1}, free_port=True,
               queue_len=7, workspace=str(tmp_path), cert=None)
    assert app.max_backlog_events == 7 and app.static.mounts["workspace"] == tmp_path
    assert "unknown" not in caplog.text
    Vuer(port=0, made_up_option=1)
    assert "made_up_option" in caplog.text


async def test_spawn_runs_per_browser_after_init_and_closes_when_done(client_dir):
    app = Vuer(port=0, client_dir=client_dir)
    seen: list[str] = []

    @app.spawn(renderer="headless")
    async def headless(sess: VuerSession):
        seen.append(f"headless:{sess.token}")
        await sess.forever()

    @app.spawn
    async def main(sess: VuerSession):
        seen.append(f"main:{sess.token}")
        sess.upsert @ {"tag": "Box", "key": f"box-{sess.token}"}

    async with app:
        browser = await FakeBrowser.open(app, token="viewer")
        await browser.recv_until("SET")
        event = await browser.recv_until("UPSERT")
        assert event["data"]["nodes"][0]["key"] == "box-viewer"
        await asyncio.wait_for(browser.ws.wait_closed(), 2)  # handler returned: vuer closes the socket
        assert seen == ["main:viewer"] and "box-viewer" in app.scene.tree
        assert app.sessions == []


async def test_spawn_handler_is_cancelled_when_the_browser_leaves(client_dir):
    app = Vuer(port=0, client_dir=client_dir)
    cancelled = asyncio.Event()
    started = asyncio.Event()

    @app.spawn
    async def main(sess: VuerSession):
        started.set()
        try:
            while True:
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with app:
        browser = await FakeBrowser.open(app)
        await asyncio.wait_for(started.wait(), 2)
        await browser.close()
        await asyncio.wait_for(cancelled.wait(), 2)


async def test_app_scene_ops_broadcast_and_sessions_list(client_dir):
    async with Vuer(port=0, client_dir=client_dir) as app:
        assert app.port != 0 and str(app.port) in app.url
        browsers = [await FakeBrowser.open(app, token=t) for t in ("a", "b")]
        await app.wait_for_session(id="b", timeout=2)
        app.update @ [{"tag": "Box", "key": "k1"}, {"tag": "Box", "key": "k2"}]
        for b in browsers:
            assert (await b.recv_until("UPDATE"))["data"]["nodes"][1]["key"] == "k2"
        assert sorted(s.token for s in app.sessions) == ["a", "b"]
        for b in browsers:
            await b.close()


def test_start_inside_a_running_loop_says_what_to_do():
    async def inner():
        with pytest.raises(RuntimeError, match="await app.serve"):
            Vuer(port=0).start()
    asyncio.run(inner())
