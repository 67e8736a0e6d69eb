"""Reading big MCAP files: rosbags' reader vs the mcap-package path (McapFile) that
BagInput uses for files rosbags refuses (prints figures; not a test).

    .venv/bin/python bench/bag_read.py            # 300 k small messages, 1500 images
    .venv/bin/python bench/bag_read.py --quick    # a tenth of that

Two recordings of the same messages, each written twice: by rosbags' writer (a
rosbag2 ``ros2``-profile file, which rosbags reads) and as the Foxglove SDK lays
out a file (empty profile, :func:`vuer_ros.bag.synthetic.write_sdk_mcap`; rosbags
refuses it). ``small``: /tf at 1 kHz (one transform each) plus /chatter;
``images``: 320x240 rgb8 images at 30 Hz plus /tf at 100 Hz. Each reader streams
every message in log-time order (and then only /tf) in a fresh child process,
which reports its wall time (opening included, imports not) and peak RSS
(after the imports, and at the end); ``mcap iter_messages`` is the mcap
package's own log-time iterator, for reference.
"""

from __future__ import annotations

import argparse
import heapq
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag, write_sdk_mcap  # noqa: E402

CHILD = r"""
import json, sys, time
from pathlib import Path
from mcap.reader import make_reader
from rosbags.rosbag2 import Reader
from vuer_ros.bag.mcap_file import McapFile

def peak_mb():  # VmHWM: this process's peak RSS (reset by exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

kind, path, only_tf = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
base = peak_mb()
t0 = time.perf_counter()
n = size = 0
if kind == "rosbags":
    with Reader(path) as r:
        conns = [c for c in r.connections if c.topic == "/tf"] if only_tf else r.connections
        for _, _, raw in r.messages(connections=conns):
            n += 1; size += len(raw)
elif kind == "McapFile":
    m = McapFile(path)
    conns = [c for c in m.connections if c.topic == "/tf"] if only_tf else m.connections
    for _, _, raw in m.messages(conns):
        n += 1; size += len(raw)
    m.close()
else:
    with open(path, "rb") as f:
        for _, _, msg in make_reader(f).iter_messages(topics=["/tf"] if only_tf else None):
            n += 1; size += len(msg.data)
print(json.dumps({"n": n, "bytes": size, "s": time.perf_counter() - t0, "rss_mb": peak_mb(),
                  "base_mb": base}))
"""


def recording(kind: str, scale: float) -> Iterator[tuple[int, str, Any]]:
    store = typestore()
    m = MessageFactory(store)
    T = store.types
    if kind == "small":
        n = int(300_000 * scale)
        for i in range(n):
            ns = T0_NS + i * 1_000_000
            yield ns, "/tf", T["tf2_msgs/msg/TFMessage"](
                transforms=[m.tf(ns, "world", "mover", (i * 1e-3, 0.0, 0.0))])
            if i % 1000 == 0:
                yield ns, "/chatter", T["std_msgs/msg/String"](data=f"hello {i}")
        return
    n = int(1500 * scale)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, 320 * 240 * 3, dtype=np.uint8)

    def images() -> Iterator[tuple[int, str, Any]]:
        for i in range(n):
            ns = T0_NS + round(i * 1e9 / 30)
            yield ns, "/camera/image", T["sensor_msgs/msg/Image"](
                header=m.header(ns, "cam"), height=240, width=320, encoding="rgb8", is_bigendian=0,
                step=960, data=np.roll(pixels, i))

    def tf() -> Iterator[tuple[int, str, Any]]:
        for i in range(n * 10 // 3):
            ns = T0_NS + i * 10_000_000
            yield ns, "/tf", T["tf2_msgs/msg/TFMessage"](transforms=[m.tf(ns, "world", "mover", (0.0,) * 3)])

    yield from heapq.merge(images(), tf(), key=lambda e: e[0])


def run_child(kind: str, path: Path, only_tf: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), "1" if only_tf else "0"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is shown")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    types = {"/camera/image": "sensor_msgs/msg/Image"}
    with tempfile.TemporaryDirectory() as tmp:
        for scene in ("small", "images"):
            rosbag2 = write_bag(Path(tmp) / f"{scene}_rosbag2.mcap", recording(scene, scale),
                                typestore(), types=types)
            sdk = write_sdk_mcap(Path(tmp) / f"{scene}_sdk.mcap", recording(scene, scale), typestore(),
                                 types=types)
            print(f"{scene}: rosbag2 file {rosbag2.stat().st_size / 2**20:.0f} MiB, "
                  f"sdk file {sdk.stat().st_size / 2**20:.0f} MiB")
            for only_tf in (False, True):
                for kind, path in (("rosbags", rosbag2), ("McapFile", rosbag2), ("McapFile", sdk),
                                   ("mcap iter_messages", sdk)):
                    runs = [run_child(kind, path, only_tf) for _ in range(args.repeat)]
                    best = min(runs, key=lambda r: r["s"])
                    rate = best["n"] / best["s"]
                    print(f"  {'/tf only' if only_tf else 'all':8s} {kind:18s} {path.name:20s} "
                          f"{best['n']:7d} msgs {best['s']:6.2f} s  {rate / 1e3:7.1f} k msg/s  "
                          f"{best['bytes'] / 2**20 / best['s']:7.1f} MiB/s  peak RSS "
                          f"{best['rss_mb']:5.0f} MiB (imports {best['base_mb']:.0f})")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t:.0f} s)")
