"""HeadlessBrowser: clear errors when Chromium fails, nothing left behind, and
a watchdog that brings a crashed Chromium back with a new session."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from vuer_ros.render.browser import BrowserError, HeadlessBrowser, _group_alive
from vuer_ros.schemas import Box, DefaultScene
from vuer_ros.server import VuerServer


def fake_chromium(tmp_path: Path, body: str) -> str:
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def run(coro, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_missing_chromium_says_how_to_install(tmp_path):
    async def main():
        async with VuerServer(port=0, client_dir=tmp_path) as server:
            with pytest.raises(BrowserError, match="apt-get install chromium"):
                await HeadlessBrowser(server, executable=tmp_path / "no-chromium").start()
    run(main())


def test_chromium_that_exits_shows_its_output(tmp_path):
    exe = fake_chromium(tmp_path, 'echo "GPU process isn\'t usable. Goodbye." >&2; exit 3')

    async def main():
        async with VuerServer(port=0, client_dir=tmp_path) as server:
            browser = HeadlessBrowser(server, executable=exe)
            with pytest.raises(BrowserError, match=r"exited with code 3(.|\n)*Goodbye"):
                await browser.start()
            assert browser._profile is None  # temp profile removed
    run(main())


def test_page_that_never_connects_times_out_and_the_group_is_killed(tmp_path):
    pidfile = tmp_path / "pid"
    exe = fake_chromium(tmp_path, f'echo $$ > {pidfile}; echo "still starting" >&2; sleep 60 & sleep 60')

    async def main():
        async with VuerServer(port=0, client_dir=tmp_path) as server:
            browser = HeadlessBrowser(server, executable=exe, start_timeout=0.5)
            start = time.monotonic()
            with pytest.raises(BrowserError, match=r"did not connect(.|\n)*still starting"):
                await browser.start()
            assert time.monotonic() - start < 5
            assert browser.pid is None
    run(main())
    # the whole process group is gone, the background `sleep` included
    assert not _group_alive(int(pidfile.read_text()))


def test_real_chromium_grabs_and_comes_back_after_a_crash():
    async def main():
        async with VuerServer(port=0) as server:
            if not server.static.bundle_ready:
                pytest.fail(f"client bundle not built ({server.static.client_dir}); run scripts/setup.sh")
            server.set @ DefaultScene(Box(key="box", args=[0.5, 0.5, 0.5], material={"color": "red"}))
            async with HeadlessBrowser(server, 640, 480) as browser:
                first = browser.session
                frame = await first.grab(format="rgb")
                assert frame.rgb.shape == (480, 640, 3)
                pgid, profile = browser._pgid, browser._profile
                os.killpg(browser._pgid, signal.SIGKILL)  # renderer and GPU process too
                await asyncio.wait_for(first.forever(), 5)  # the page's connection drops
                with pytest.raises(asyncio.TimeoutError):
                    await first.grab(ttl=0.2)
                second = await browser.wait_ready(timeout=20)
                assert second is not first and browser.restarts == 1
                assert (await second.grab(format="jpeg")).rgb.shape == (480, 640, 3)
                assert not _group_alive(pgid) and not os.path.exists(profile)
                pgid, profile = browser._pgid, browser._profile
            assert not _group_alive(pgid) and not os.path.exists(profile)
    run(main(), timeout=60)
