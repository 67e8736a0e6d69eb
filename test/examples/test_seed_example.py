"""The seed example, with only its imports changed, runs headless (no display):
it starts its own renderer, grabs JPEG frames and reports the frame rate."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "procedural_rendering_async.py"
# shared/ sits beside the repo in this workplace and in CI (a scratch clone elsewhere
# finds it through the workplace's own copy)
SEED_CANDIDATES = [Path(__file__).resolve().parents[3] / "shared" / "seeds" / "procedural_rendering_async.md",
                   Path("/work/shared/seeds/procedural_rendering_async.md")]


def code_lines(text: str) -> list[str]:
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


def test_example_differs_from_the_seed_only_in_imports_and_the_typo():
    seed_path = next((p for p in SEED_CANDIDATES if p.exists()), None)
    if seed_path is None:
        pytest.skip(f"the seed text (shared/) is not beside this checkout: {SEED_CANDIDATES[0]}")
    blocks = re.findall(r"```python\n(.*?)```", seed_path.read_text(), re.S)
    seed = code_lines("\n".join(blocks).replace("meterial=", "material="))
    ours = code_lines(EXAMPLE.read_text())
    changed = [(a, b) for a, b in zip(seed, ours) if a != b]
    assert len(seed) == len(ours)
    assert changed and all(("import" in a and "import" in b) for a, b in changed), changed


def test_example_renders_headless_and_reports_frames_per_second():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["VUER_PORT"] = "0"
    proc = subprocess.Popen([sys.executable, "-u", str(EXAMPLE)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    rates: list[float] = []
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and len(rates) < 2:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"\[frame\] ([\d.]+) frames/s \((\d+)x(\d+)", line)
            if m:
                rates.append(float(m.group(1)))
                assert (m.group(2), m.group(3)) == ("640", "480")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("example did not stop on SIGTERM") from None
    out = "".join(lines)
    assert "timed out" not in out, out
    assert len(rates) == 2 and min(rates) > 1.0, out
