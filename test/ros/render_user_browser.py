"""A browser opened on the node's page, as a user would (for render.headless false):
a plain headless Chromium process, not the node's own HeadlessBrowser."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from vuer_ros.render.browser import CHROMIUM_FLAGS, find_chromium


class UserBrowser:
    def __init__(self, url: str, profile: Path, width: int = 800, height: int = 600) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self.proc = subprocess.Popen(
            [find_chromium(), *CHROMIUM_FLAGS, f"--window-size={width},{height}",
             f"--user-data-dir={profile}", url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)
