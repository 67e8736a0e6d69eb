"""Vuer with a built-in headless renderer: what ``from vuer_ros import Vuer`` gives.

The seed example ends in ``app.run()`` and waits for a browser to connect; on
a robot or in CI there is none. This ``Vuer`` starts its own
:class:`HeadlessBrowser` when told to (``headless=True``), or by itself in the
blocking ``run()``/``start()`` when there is no display and a spawn handler is
waiting for a browser. ``VUER_ROS_HEADLESS=1``/``0`` forces it on/off.
The async API (``await app.serve()``, ``async with app``) starts one only with
``headless=True``, so tests never get a Chromium they did not ask for.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..server.vuer import Vuer as ServerVuer
from .browser import HeadlessBrowser

logger = logging.getLogger(__name__)

HEADLESS_ENV = "VUER_ROS_HEADLESS"


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class Vuer(ServerVuer):
    """:class:`vuer_ros.server.Vuer` plus ``headless`` (None: auto in ``run()``) and
    ``headless_size`` (the render window, default 640x480)."""

    def __init__(self, *args: Any, headless: bool | None = None,
                 headless_size: tuple[int, int] = (640, 480), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        env = os.environ.get(HEADLESS_ENV)
        self.headless = headless if env is None else env.strip().lower() in ("1", "true", "yes", "on")
        self.headless_size = headless_size
        self.browser: HeadlessBrowser | None = None
        self._auto_headless = False

    def start(self, **kwargs: Any) -> None:
        if self.headless is None and not has_display() and self._spawn_handlers:
            logger.info("no display: starting a headless browser to render into (%s=0 to turn this off)",
                        HEADLESS_ENV)
            self._auto_headless = True
        super().start(**kwargs)

    run = start

    async def serve(self) -> "Vuer":
        was_running = self.running
        await super().serve()
        if not was_running and (self.headless or self._auto_headless) and self.browser is None:
            self.browser = HeadlessBrowser(self, *self.headless_size)
            try:
                await self.browser.start()
            except BaseException:
                self.browser = None
                await self.stop()
                raise
        return self

    async def stop(self) -> None:
        browser, self.browser = self.browser, None
        if browser is not None:
            await browser.stop()
        await super().stop()
