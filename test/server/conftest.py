"""pytest glue for the server tests: ``async def`` tests run in their own
event loop (no plugin needed); server logs are captured at INFO."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pytest

ASYNC_TEST_TIMEOUT = 10.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT))
    return True


@pytest.fixture(autouse=True)
def _server_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vuer_ros")


@pytest.fixture
def client_dir(tmp_path: Any) -> Any:
    """A tiny stand-in client bundle."""
    root = tmp_path / "client"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>vuer_ros test client</title>")
    (root / "assets" / "main.js").write_text("console.log('hi')")
    (root / "assets" / "decoder.wasm").write_bytes(b"\0asm\1\0\0\0")
    return root
