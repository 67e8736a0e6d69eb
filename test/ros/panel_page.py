"""A person's browser on the node's page, driven by Playwright (the Python package,
launching Debian's Chromium with the node's flags: no browser is downloaded), with
helpers to read its canvas and its side panel (web/src/panel.js)."""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterator

import cv2
import numpy as np
import pytest

from vuer_ros.render.browser import CHROMIUM_FLAGS, find_chromium

playwright_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1000, "height": 600}
TIMEOUT_S = 40.0


def launch_browser(pw: Any) -> Any:
    # Playwright passes its own --headless; the rest as the node starts Chromium
    flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--headless")]
    return pw.chromium.launch(executable_path=find_chromium(), args=flags, headless=True)


def browser_session() -> Iterator[Any]:
    """A Chromium for a test module (use as a module fixture's body)."""
    with playwright_api.sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, port: int, touch: bool = False, query: str = "") -> Any:
    context = browser.new_context(viewport=VIEWPORT, has_touch=touch)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{port}/{query}")
    return page


def wait_panel(page: Any, *ids: str) -> None:
    """The panel is up and lists these display ids."""
    page.wait_for_selector("#vuer-panel", timeout=TIMEOUT_S * 1000)
    for ident in ids:
        page.wait_for_selector(f'#vp-displays input[data-id="{ident}"]', timeout=TIMEOUT_S * 1000)


def canvas_rgb(page: Any) -> np.ndarray:
    png = page.locator("#viewport canvas").screenshot(animations="disabled")
    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return bgr[:, :, ::-1].copy()


def wait_canvas(page: Any, predicate: Callable[[np.ndarray], Any], what: str,
                timeout: float = TIMEOUT_S) -> tuple[np.ndarray, Any]:
    """Screenshots of the canvas until ``predicate(rgb)`` is truthy: (rgb, its value)."""
    deadline = time.monotonic() + timeout
    while True:
        rgb = canvas_rgb(page)
        value = predicate(rgb)
        if value is not None and value is not False:
            return rgb, value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(100)


def status_text(page: Any) -> str:
    return str(page.inner_text("#vp-status"))


def status_number(page: Any, unit: str) -> float | None:
    """The number before ``unit`` (``msg/s``, ``img/s``, ``problems``) in the status line."""
    m = re.search(r"([0-9.]+) " + re.escape(unit), status_text(page))
    return float(m.group(1)) if m else None


def camera_state(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("""() => { const c = window.__vuerRos.viewer.camera;
        return {position: c.position.toArray(), quaternion: c.quaternion.toArray(), fov: c.fov,
                near: c.near, aspect: c.aspect}; }"""))


def canvas_size(page: Any) -> tuple[int, int]:
    w, h = page.evaluate("() => [window.__vuerRos.viewer.width, window.__vuerRos.viewer.height]")
    return int(w), int(h)
