"""Rendering in parallel: ``render-bag --jobs 1/2`` frames per second, where the CPU goes,
and the per-task overhead of ``render-bags`` on Ray and on local processes (prints
figures; not a test).

    .venv/bin/python bench/bag_many.py            # 60 s bag, jobs 1 and 2 twice each; 8 small bags
    .venv/bin/python bench/bag_many.py --quick    # 20 s bag, once each; 4 small bags

Part 1: the bag_render.py scene (/tf at 100 Hz, an arm, a 24-marker array at 10 Hz),
rendered by the real command in a child process at 10 Hz, 640x480, into a bag and an
MP4, with ``--jobs 1`` and ``--jobs 2`` alternating. The process tree's CPU time is
sampled every 0.25 s and split by role: the command's own process (with ``--jobs``:
the join, which writes the bag and encodes the video), the worker processes (the
render loop: reading the bag, the scene, grabs), and Chromium (its software
rasteriser). Each run's outputs are compared with the first run's (they must be the
same bytes). From the CPU seconds per frame it prints what N cores should give: the
workers and their browsers scale with the cores; the join is one process, so its
CPU per frame caps the frames per second of one bag.

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
            out[p.pid] = (role, t.user + t.system + t.children_user + t.children_system)
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


def part1(duration: float, repeats: int) -> None:
    print(f"\n1. render-bag --jobs 1/2: {duration:.0f} s bag, 10 Hz, 640x480, bag + H.264 video "
          f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"{'jobs':>4s} {'frames':>6s} {'frames/s':>8s} {'wall':>6s} {'wall f/s':>8s}   CPU ms per frame: "
          f"{'command':>7s} {'workers':>7s} {'chromium':>8s} {'total':>6s}  load")
    per_frame: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="vuer-bag-many-") as tmp:
        work = Path(tmp)
        bag = write_demo_bag(work / "in.mcap", duration=duration, tf_rate=100.0, marker_rate=10.0,
                             array_markers=24, churn=False, arm=True)
        reference: bytes | None = None
        for _ in range(repeats):
            for jobs in (1, 2):
                r = render(bag, work, jobs)
                n = r["frames"]
                ms = {k: 1000.0 * r.get(k, 0.0) / n for k in ("command", "worker", "chromium")}
                per_frame[jobs].append(ms)
                digest = (work / "out.mcap").read_bytes() + (work / "out.mp4").read_bytes()
                same = "" if reference is None or digest == reference else "  OUTPUTS DIFFER"
                reference = reference or digest
                print(f"{jobs:4d} {n:6d} {r['fps']:8.1f} {r['wall']:5.1f}s {n / r['wall']:8.1f}   "
                      f"{'':17s}{ms['command']:7.1f} {ms['worker']:7.1f} {ms['chromium']:8.1f} "
                      f"{sum(ms.values()):6.1f}  {os.getloadavg()[0]:.1f}{same}", flush=True)
    # a projection: with --jobs the join (the command) is serial, the rest scales with cores;
    # render-bags renders each bag as --jobs 1 does, so all of its CPU scales
    def mean(runs: list[dict[str, float]], keys: tuple[str, ...]) -> float:
        return sum(sum(r[k] for k in keys) for r in runs) / len(runs) / 1000.0

    serial = mean(per_frame[2], ("command",))
    parallel = mean(per_frame[2], ("worker", "chromium"))
    whole = mean(per_frame[1], ("command", "worker", "chromium"))
    print(f"per frame with --jobs: {1000 * parallel:.0f} CPU ms in the workers and their browsers "
          f"(scales with cores), {1000 * serial:.1f} ms in the join (one process: at most "
          f"{1 / serial:.0f} frames/s for one bag); a bag rendered whole: {1000 * whole:.0f} CPU ms")
    for cores in (16, 64):
        one_bag = min(cores / (parallel + serial), 1 / serial)
        print(f"  {cores} cores: one bag with --jobs {cores // 2}: about {one_bag:.0f} frames/s"
              f"{' (join-bound)' if one_bag >= 1 / serial - 1e-9 else ''}; render-bags of many "
              f"bags: about {cores / whole:.0f} frames/s")


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
        part1(20.0 if args.quick else 60.0, 1 if args.quick else 2)
    if args.part in (None, 2):
        part2(4 if args.quick else 8)


if __name__ == "__main__":
    main()
