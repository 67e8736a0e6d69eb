"""Offline bag rendering: frames per second and peak memory (prints figures; not a test).

    .venv/bin/python bench/bag_render.py            # 60 s and 600 s bags (about 5 minutes)
    .venv/bin/python bench/bag_render.py --quick    # 60 s and 120 s bags

Each bag is generated (vuer_ros.bag.synthetic: /tf at 100 Hz moving a base and
turning a 3-link arm, a red cube and link spheres, a MarkerArray of 24 spheres +
a line strip + a text at 10 Hz, two topics of other types) and rendered by the
real command in a child process, `vuer-ros render-bag IN -o OUT.mcap --video
OUT.mp4` at 10 Hz, 640x480: every output (raw + JPEG images, camera info, TF,
the input copied, an H.264 video). Memory is sampled every 0.25 s over the child
and all its descendants (Chromium's processes): the peak of the summed RSS (every
0.25 s), of the summed PSS (shared pages counted once; every 2 s), and the
render process's own peak RSS. A flat memory profile shows as equal peaks for the short and the
long bag.

Scenes: ``steady`` re-sends the MarkerArray unchanged (the usual 10 Hz
republish, which the scene model drops), so each frame changes only TF poses;
``churn`` changes the array's colours and text every time, so the browser
rebuilds those markers every frame (see the note printed with it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vuer_ros.bag.synthetic import write_demo_bag  # noqa: E402


def sample_tree(pid: int, stop: threading.Event, out: dict[str, float]) -> None:
    """Peak summed RSS of the process tree every 0.25 s (cheap); summed PSS every 2 s
    (reading smaps costs CPU that the render would miss on 2 cores)."""
    root = psutil.Process(pid)
    last_pss = 0.0
    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        want_pss = time.monotonic() - last_pss >= 2.0
        if want_pss:
            last_pss = time.monotonic()
        rss = pss = own = 0
        for p in procs:
            try:
                if want_pss:
                    info = p.memory_full_info()
                    pss += getattr(info, "pss", info.rss)
                else:
                    info = p.memory_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            if p.pid == pid:
                own = info.rss
        out["rss"] = max(out.get("rss", 0), rss)
        out["own"] = max(out.get("own", 0), own)
        out["procs"] = max(out.get("procs", 0), len(procs))
        if want_pss:
            out["pss"] = max(out.get("pss", 0), pss)
        stop.wait(0.25)


def render(bag: Path, work: Path) -> dict[str, float]:
    out_bag, video = work / "out.mcap", work / "out.mp4"
    cmd = [sys.executable, "-m", "vuer_ros.bag", str(bag), "-o", str(out_bag), "--video", str(video),
           "--fixed-frame", "world", "--rate", "10", "--size", "640x480", "--quiet", "--overwrite"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    stop = threading.Event()
    mem: dict[str, float] = {}
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, stop, mem), daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"render failed ({proc.returncode}):\n{err}")
    line = err.strip().splitlines()[-1]
    m = re.search(r"(\d+) frames .* in ([\d.]+) s \(([\d.]+) frames/s\)", line)
    assert m, line
    result = {"frames": int(m.group(1)), "loop_s": float(m.group(2)), "fps": float(m.group(3)),
              "wall_s": wall, "bag_mb": out_bag.stat().st_size / 2**20,
              "video_mb": video.stat().st_size / 2**20, **mem}
    out_bag.unlink()
    video.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 s and 120 s bags instead of 60 s and 600 s")
    parser.add_argument("--no-churn", action="store_true", help="skip the churn scene")
    args = parser.parse_args()
    durations = (60.0, 120.0) if args.quick else (60.0, 600.0)
    runs = [("steady", d) for d in durations] + ([] if args.no_churn else [("churn", 60.0)])
    print(f"bag_render: {os.cpu_count()} CPUs, Chromium software rendering (SwiftShader); "
          "10 Hz renders at 640x480, /tf at 100 Hz; outputs: bag (raw + JPEG images, camera info, "
          "input copy) + H.264 video")
    print(f"{'scene':7s} {'bag':>6s} {'frames':>6s} {'frames/s':>8s} {'wall':>7s} {'peak RSS all':>12s} "
          f"{'peak PSS all':>12s} {'render proc':>11s} {'procs':>5s} {'out bag':>9s} {'video':>7s}")
    with tempfile.TemporaryDirectory(prefix="vuer-bag-bench-") as tmp:
        work = Path(tmp)
        for scene, duration in runs:
            bag = work / f"{scene}-{duration:.0f}s.mcap"
            t = time.monotonic()
            write_demo_bag(bag, duration=duration, tf_rate=100.0, marker_rate=10.0, array_markers=24,
                           churn=scene == "churn", arm=True, storage="mcap")
            gen = time.monotonic() - t
            r = render(bag, work)
            print(f"{scene:7s} {duration:5.0f}s {r['frames']:6d} {r['fps']:8.1f} {r['wall_s']:6.1f}s "
                  f"{r['rss'] / 2**20:10.0f} MB {r['pss'] / 2**20:10.0f} MB {r['own'] / 2**20:8.0f} MB "
                  f"{r['procs']:5.0f} {r['bag_mb']:6.0f} MB {r['video_mb']:4.1f} MB"
                  f"   (bag generated in {gen:.0f} s, {bag.stat().st_size / 2**20:.0f} MB)", flush=True)
            bag.unlink()
            shutil.rmtree(work / "out.mcap.partial", ignore_errors=True)
    if not args.no_churn:
        print("churn: markers whose colour and text change every frame (each is rebuilt in the "
              "browser; the client keeps the old material alive until after the next render, so "
              "the shader program is reused rather than compiled again)")


if __name__ == "__main__":
    main()
