"""GRAB_RENDER: requests on the wire, frames decoded top-down, errors and
timeouts that never hang."""

from __future__ import annotations

import asyncio
import time

import cv2
import numpy as np
import pytest
from server_helpers import FakeBrowser

from vuer_ros.protocol import ClientEvent
from vuer_ros.server import Frame, GrabError, SessionClosed, VuerServer


def bottom_up_rgba(top_down_rgb: np.ndarray) -> bytes:
    """What readPixels gives for an image that looks like ``top_down_rgb``."""
    h, w, _ = top_down_rgb.shape
    rgba = np.concatenate([top_down_rgb, np.full((h, w, 1), 255, np.uint8)], axis=2)
    return rgba[::-1].tobytes()


async def connected(server, token="fake"):
    browser = await FakeBrowser.open(server, token=token)
    await browser.recv_until("SET")
    return browser, await server.wait_for_session(id=token, timeout=2)


async def test_grab_rgb_and_depth_are_top_down(client_dir):
    image = np.zeros((4, 6, 3), np.uint8)
    image[0] = [255, 0, 0]          # top row red
    image[:, 0] = [0, 255, 0]       # left column green
    depth = np.arange(24, dtype=np.float32).reshape(4, 6)
    depth[0, 0] = np.inf
    camera = {"position": [1, 2, 3], "quaternion": [0, 0, 0, 1], "fov": 60, "near": 0.1, "far": 50}
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        grab = asyncio.create_task(session.grab(width=6, height=4, camera=camera, depth=True, key="cam"))
        request = await browser.recv()
        assert request["etype"] == "GRAB_RENDER" and request["key"] == "cam"
        assert request["rtype"] == f"GRAB_RENDER_RESPONSE@{request['uuid']}"
        assert request["data"] == {"format": "rgba", "width": 6, "height": 4, "camera": camera, "depth": True}
        await browser.answer(request, {"frame": bottom_up_rgba(image), "format": "rgba", "width": 6, "height": 4,
                                       "dpr": 1, "delta": 3.5,
                                       "depthFrame": depth[::-1].astype("<f4").tobytes()})
        frame = await grab
        assert isinstance(frame, Frame) and (frame.width, frame.height) == (6, 4)
        assert frame.rgb.dtype == np.uint8 and frame.rgb.flags.c_contiguous
        np.testing.assert_array_equal(frame.rgb, image)
        assert frame.depth.dtype == np.float32 and frame.depth.flags.c_contiguous
        np.testing.assert_array_equal(frame.depth, depth)
        assert frame.delta_ms == 3.5 and frame.encoded is None
        await browser.close()


async def test_grab_jpeg_and_png_keep_the_encoded_bytes(client_dir):
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4] = [0, 0, 255]  # top half blue (RGB)
    png = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        grab = asyncio.create_task(session.grab(format="png"))
        request = await browser.recv()
        assert request["data"] == {"format": "png"}
        await browser.answer(request, {"frame": png, "format": "png", "width": 8, "height": 8})
        frame = await grab
        assert frame.encoded == png and frame.format == "png"
        np.testing.assert_array_equal(frame.rgb, image)
        grab = asyncio.create_task(session.grab(format="jpeg", quality=0.5))
        request = await browser.recv()
        assert request["data"] == {"format": "jpeg", "quality": 0.5}
        await browser.close()


async def test_seed_grab_render_returns_the_client_event(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        grab = asyncio.create_task(session.grab_render(quality=0.9, downsample=2))
        request = await browser.recv()
        assert request["key"] == "DEFAULT" and request["data"] == {"quality": 0.9, "downsample": 2}
        await browser.answer(request, {"frame": b"\xff\xd8jpeg", "width": 3, "height": 2, "dpr": 1, "delta": 1})
        response = await grab
        assert isinstance(response, ClientEvent) and response.value["frame"] == b"\xff\xd8jpeg"
        await browser.close()


async def test_error_answers_raise_grab_error(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        grab = asyncio.create_task(session.grab(key="no-such-camera"))
        request = await browser.recv()
        await browser.answer(request, {"error": "no CameraView with key 'no-such-camera'"})
        with pytest.raises(GrabError, match="no-such-camera"):
            await grab
        grab = asyncio.create_task(session.grab(width=2, height=2))
        request = await browser.recv()
        await browser.answer(request, {"frame": b"short", "format": "rgba", "width": 2, "height": 2})
        with pytest.raises(GrabError, match="expected 2x2x4"):
            await grab
        await browser.close()


async def test_no_answer_times_out_at_ttl(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        start = time.monotonic()
        with pytest.raises(asyncio.TimeoutError, match="no answer"):
            await session.grab_render(ttl=0.3)
        assert 0.29 <= time.monotonic() - start < 0.8
        await browser.close()


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_disconnect_during_a_grab_raises_timeout_error_within_ttl(client_dir, how):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        ttl = 1.5
        start = time.monotonic()
        grab = asyncio.create_task(session.grab(ttl=ttl))
        await browser.recv_until("GRAB_RENDER")
        if how == "close":
            await browser.close()
        else:
            browser.ws.transport.abort()
        with pytest.raises(asyncio.TimeoutError) as raised:
            await grab
        assert time.monotonic() - start < ttl + 0.5
        assert isinstance(raised.value, SessionClosed) and "disconnected" in str(raised.value)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="closed"):  # a closed session waits out the ttl: no busy loop
            await session.grab(ttl=0.2)
        assert 0.19 < time.monotonic() - start < 0.7


async def test_grabs_in_flight_time_out_each_at_its_own_ttl(client_dir):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        loop = asyncio.get_running_loop()
        ended: dict[str, float] = {}

        async def grab(key, ttl):
            start = loop.time()
            try:
                return await session.grab_render(key=key, ttl=ttl)
            finally:
                ended[key] = loop.time() - start

        slow = asyncio.create_task(grab("slow", 0.6))
        fast = asyncio.create_task(grab("fast", 0.2))
        patient = asyncio.create_task(grab("patient", None))
        requests = {r["key"]: r for r in [await browser.recv_until("GRAB_RENDER") for _ in range(3)]}
        with pytest.raises(asyncio.TimeoutError, match="fast.*ttl=0.2"):
            await fast
        assert not slow.done() and not patient.done()
        with pytest.raises(asyncio.TimeoutError, match="slow.*ttl=0.6"):
            await slow
        assert 0.19 <= ended["fast"] < 1.2 and 0.59 <= ended["slow"] < 1.6  # loose upper bounds: a busy host
        assert not patient.done()  # ttl=None waits until answered
        await browser.answer(requests["patient"], {"frame": b"jpg", "width": 1, "height": 1})
        assert (await patient).value["frame"] == b"jpg"
        await browser.close()


async def test_late_answers_are_dropped_and_logged_once(client_dir, caplog):
    async with VuerServer(port=0, client_dir=client_dir) as server:
        browser, session = await connected(server)
        timed_out = []
        for _ in range(3):
            with pytest.raises(asyncio.TimeoutError):
                await session.grab_render(ttl=0.05)
            timed_out.append(await browser.recv_until("GRAB_RENDER"))
        cancelled = asyncio.create_task(session.grab_render(ttl=5))
        withdrawn = await browser.recv_until("GRAB_RENDER")
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        for request in [*timed_out, withdrawn]:
            await browser.answer(request, {"frame": b"too late", "width": 1, "height": 1})
        # a grab answered after them: the server read the late answers before this one
        grab = asyncio.create_task(session.grab_render(ttl=2))
        request = await browser.recv_until("GRAB_RENDER")
        await browser.answer(request, {"frame": b"jpg", "width": 1, "height": 1})
        assert (await grab).value["frame"] == b"jpg"
        assert not session.closed
        await browser.close()
    late = [r.getMessage() for r in caplog.records if "after its RPC gave up" in r.getMessage()]
    assert len(late) == 1, late  # once per cause and session, not once per answer
    assert "GRAB_RENDER key='DEFAULT'" in late[0] and "timed out" in late[0] and "fake" in late[0]


def test_frame_rejects_responses_that_do_not_match():
    event = ClientEvent("GRAB_RENDER_RESPONSE@x", {"frame": b"\0" * 16, "format": "rgba", "width": 2, "height": 2},
                        key="DEFAULT")
    assert Frame.from_response(event).rgb.shape == (2, 2, 3)
    with pytest.raises(GrabError, match="depthFrame"):
        Frame.from_response(event, depth=True)
    with pytest.raises(GrabError, match="frame/width/height"):
        Frame.from_response(ClientEvent("x", {"width": 2}))
