"""Rendering in parallel: ``render-bag --jobs 1/2`` frames per second, where the CPU goes,
and the per-task overhead of ``render-bags`` on Ray and on local processes (prints
figures; not a test).

    .venv/bin/python bench/bag_many.py            # 60 s and 240 s bags, jobs 1 and 2; 8 small bags
    .venv/bin/python bench/bag_many.py --quick    # 20 s and 60 s bags; 4 small bags

Part 1: the bag_render.py scene (/tf at 100 Hz, an arm, a 24-marker array at 10 Hz),
rendered by the real command in a child process at 10 Hz, 640x480, into a bag and an
MP4, with ``--jobs 1`` and ``--jobs 2``, for a short and a long bag. The process
tree's CPU time is sampled every 0.25 s and split by role: the command's own process
(with ``--jobs``: the join, which writes the bag and encodes the video), the worker
processes (the render loop: reading the bag, the scene, grabs, JPEG), and Chromium
(its software rasteriser). The --jobs 2 outputs are compared with --jobs 1's (the same
bytes). The two lengths split the CPU into a part per frame and a fixed part
(interpreters and browsers starting). From those it prints what N cores should give:
CPU time is what bounds renders sharing a machine; the workers and their browsers
scale with the cores, the join is one process, so its CPU per frame caps one bag.

Part 2: ``render-bags`` of small bags (1 s, 10 frames at 160x120: the fixed costs
dominate) on a Ray instance started here (2 CPUs, ``--cpus-per-task 1``) and on the
local process pool (``--jobs 2``). Per task: its wall time on the worker minus its
render loop (from the manifest) is the start-up: opening the bag, the plan, a new
server and headless Chromium, the outputs; plus what the driver waits beyond that
(scheduling, the result's way back).
"""

from __future__ import annotations

import argparse
import json
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

from vuer_ros.bag.synthetic import write_demo_bag


def cpu_by_role(pid: int, stop: threading.Event, out: dict[int, tuple[str, float]]) -> None:
    """pid -> (role, CPU seconds so far) for the tree under ``pid``, every 0.25 s."""
    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                t = p.cpu_times()
                name = p.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            role = "command" if p.pid == pid else "chromium" if "chrom" in name else "worker"
            out[p.pid] = (role, t.user + t.system)   # children are counted as themselves
        stop.wait(0.25)


def render(bag: Path, work: Path, jobs: int) -> dict[str, float]:
    out_bag, video = work / "out.mcap", work / "out.mp4"
    cmd = [sys.executable, "-m", "vuer_ros.bag", str(bag), "-o", str(out_bag), "--video", str(video),
           "--fixed-frame", "world", "--rate", "10", "--size", "640x480", "--quiet", "--overwrite",
           "--jobs", str(jobs)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    stop = threading.Event()
    cpu: dict[int, tuple[str, float]] = {}
    sampler = threading.Thread(target=cpu_by_role, args=(proc.pid, stop, cpu), daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"render failed ({proc.returncode}):\n{err}")
    m = re.search(r"(\d+) frames .* in ([\d.]+) s.* \(([\d.]+) frames/s\)", err.strip().splitlines()[-1])
    assert m, err
    roles: dict[str, float] = {}
    for role, seconds in cpu.values():
        roles[role] = roles.get(role, 0.0) + seconds
    return {"frames": int(m.group(1)), "fps": float(m.group(3)), "wall": wall, **roles}


def part1(durations: tuple[float, float]) -> None:
    print(f"\n1. render-bag --jobs 1/2: {durations[0]:.0f} s and {durations[1]:.0f} s bags, 10 Hz, "
          f"640x480, bag + H.264 video ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"{'jobs':>4s} {'frames':>6s} {'frames/s':>8s} {'wall':>6s} {'wall f/s':>8s}   CPU s: "
          f"{'command':>7s} {'workers':>7s} {'chromium':>8s} {'total':>6s}  load")
    cpu: dict[tuple[int, float], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="vuer-bag-many-") as tmp:
        work = Path(tmp)
        for duration in durations:
            bag = write_demo_bag(work / "in.mcap", duration=duration, tf_rate=100.0,
                                 marker_rate=10.0, array_markers=24, churn=False, arm=True)
            reference: bytes | None = None
            for jobs in (1, 2):
                r = render(bag, work, jobs)
                cpu[jobs, duration] = {k: r.get(k, 0.0) for k in ("command", "worker", "chromium")}
                cpu[jobs, duration]["frames"] = r["frames"]
                digest = (work / "out.mcap").read_bytes() + (work / "out.mp4").read_bytes()
                same = "" if reference is None or digest == reference else "  OUTPUTS DIFFER"
                reference = reference or digest
                c = cpu[jobs, duration]
                print(f"{jobs:4d} {r['frames']:6d} {r['fps']:8.1f} {r['wall']:5.1f}s "
                      f"{r['frames'] / r['wall']:8.1f}   {'':6s}{c['command']:7.1f} {c['worker']:7.1f} "
                      f"{c['chromium']:8.1f} {c['command'] + c['worker'] + c['chromium']:6.1f}  "
                      f"{os.getloadavg()[0]:.1f}{same}", flush=True)
            (work / "in.mcap").unlink()
    # two lengths: CPU = fixed + per frame x frames, per role
    short, long = durations
    print("CPU per frame (the slope between the two bags) and fixed CPU (start-up: interpreters, "
          "browsers, opening the bag):")
    slope: dict[int, dict[str, float]] = {}
    for jobs in (1, 2):
        a, b = cpu[jobs, short], cpu[jobs, long]
        frames = b["frames"] - a["frames"]
        slope[jobs] = {k: (b[k] - a[k]) / frames for k in ("command", "worker", "chromium")}
        fixed = {k: a[k] - slope[jobs][k] * a["frames"] for k in slope[jobs]}
        print(f"  --jobs {jobs}: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in slope[jobs].items())
              + f" = {1000 * sum(slope[jobs].values()):.1f} ms a frame; fixed "
              + ", ".join(f"{k} {v:.1f} s" for k, v in fixed.items()))
    join = slope[2]["command"]
    spread = slope[2]["worker"] + slope[2]["chromium"]
    whole = sum(slope[1].values())
    print(f"  with --jobs the join (one process) takes {1000 * join:.1f} ms a frame: one bag's "
          f"frames/s stay under {1 / join:.0f} however many workers")
    for cores in (16, 64):
        one_bag = min(cores / (spread + join), 1 / join)
        print(f"  {cores} cores: one long bag with --jobs {cores}: about {one_bag:.0f} frames/s"
              f"{' (join-bound)' if one_bag >= 1 / join - 1e-9 else ''}; many bags "
              f"(render-bags --jobs {cores}, long ones): about {cores / whole:.0f} frames/s")


def part2(bags: int) -> None:
    print(f"\n2. render-bags per-task overhead: {bags} bags of 1 s (10 frames, 160x120), bag output")
    with tempfile.TemporaryDirectory(prefix="vuer-bag-many-") as tmp:
        work = Path(tmp)
        for i in range(bags):
            write_demo_bag(work / "in" / f"b{i}.mcap", duration=0.95)
        import ray

        t = time.monotonic()
        ctx = ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20,
                       _node_ip_address="127.0.0.1", log_to_driver=False)
        ray_start = time.monotonic() - t
        try:
            for label, extra in (("Ray, 2 CPUs, --cpus-per-task 1",
                                  ["--ray-address", ctx.address_info["gcs_address"],
                                   "--cpus-per-task", "1"]),
                                 ("local processes, --jobs 2", ["--jobs", "2"])):
                out = work / ("out-" + label.split(",")[0].replace(" ", "-"))
                cmd = [sys.executable, "-m", "vuer_ros.bag.batch_cli", str(work / "in"), "-o", str(out),
                       "--fixed-frame", "world", "--size", "160x120", "--quiet", *extra]
                t = time.monotonic()
                r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
                wall = time.monotonic() - t
                if r.returncode != 0:
                    raise SystemExit(f"render-bags failed ({r.returncode}):\n{r.stderr}")
                entries = json.loads((out / "manifest.json").read_text())["bags"]
                task = sum(e["elapsed_s"] for e in entries) / len(entries)
                loop = sum(e["render_s"] for e in entries) / len(entries)
                frames = sum(e["frames"] for e in entries)
                print(f"  {label:34s} wall {wall:5.1f} s for {frames} frames; per task {task:.2f} s "
                      f"of which rendering {loop:.2f} s: overhead {task - loop:.2f} s a task; "
                      f"driver wall per task x 2 workers {2 * wall / len(entries):.2f} s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
                shutil.rmtree(out)
        finally:
            ray.shutdown()
        print(f"  (starting the local Ray instance itself took {ray_start:.1f} s; the command's "
              "own start-up, imports and connecting, is in its wall time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 20 s bag once per job count; 4 small bags")
    parser.add_argument("--part", type=int, choices=(1, 2), help="only this part")
    args = parser.parse_args()
    if args.part in (None, 1):
        part1((20.0, 60.0) if args.quick else (60.0, 240.0))
    if args.part in (None, 2):
        part2(4 if args.quick else 8)


if __name__ == "__main__":
    main()
