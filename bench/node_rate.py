"""The real viewer node under load: image rate, TF-to-image latency, CPU.

Run:  . scripts/env.sh && .venv/bin/python bench/node_rate.py [--rate 20] [--duration 30]

Starts the node (``python -m vuer_ros.cli viewer``, headless Chromium, port 0,
a private ROS_DOMAIN_ID) and, from this process over Fast DDS:
- /tf at 100 Hz: a chain of 10 frames plus a ``probe`` frame carrying a magenta
  cube (frame_locked); every ~0.4 s the probe jumps between two places;
- a 1,000-marker MarkerArray at 10 Hz (cubes, spheres, cylinders, arrows, text;
  every marker moves a little in each message; pre-serialized variants, so
  this process spends little CPU building them);
and subscribes to /vuer/image. It prints:
- the achieved image rate against render.rate;
- latency from a TF change (the first /tf message with the probe's new place) to
  the first received image that shows the cube there: median, p95, max;
- CPU of the node process and of its Chromium (all its processes), as % of one
  core, over the measurement window; and of this process;
- then, with the load stopped: 10,000-marker MarkerArrays, time from publish to
  the first received image that shows them (applied in the browser, grabbed and
  published), for a few arrays;
- the load average before and after, and the node's own statistics.
``--runs 5`` repeats all of it with a fresh node each time and then prints each
figure's spread over the runs (min, median, max) and whether the targets hold in
every run (issue 13, "Heavy scenes at full rate"): with markers, at least
render.rate - 0.5 Hz, TF -> image p95 under 100 ms, the node under 30% of a core, a
10,000-marker array's first image under 0.5 s; with ``--markers 0``, at least
render.rate - 0.5 Hz and p95 under 60 ms.
Figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime + stime
    return total / CLK_TCK


def chromium_kind(pid: int) -> str:
    """Chromium's process type (gpu-process, renderer, ...; 'browser' for the main one)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return "gone"
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
    sub = next((a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), None)
    return f"{kind} ({sub.rsplit('.', 1)[-1]})" if sub else kind


def descendants(pid: int) -> list[int]:
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            frontier += kids
    return out


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return math.nan
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)



class CpuWindow:
    """CPU of the node process, its Chromium processes (those alive at both ends) and
    this process over a measurement window, as % of one core."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.chromium = descendants(pid)
        self.t0 = time.monotonic()
        self.node0, self.chrome0 = cpu_seconds([pid]), cpu_seconds(self.chromium)
        self.self0 = time.process_time()
        self.kinds0 = {p: (chromium_kind(p), cpu_seconds([p])) for p in self.chromium}

    def close(self) -> None:
        """End the window: sets span (s), node, chromium, load (%) and by_kind (kind -> %)."""
        self.span = time.monotonic() - self.t0
        alive = descendants(self.pid)
        pct = 100.0 / self.span
        self.node = pct * (cpu_seconds([self.pid]) - self.node0)
        self.chromium_cpu = pct * (cpu_seconds([p for p in self.chromium if p in alive]) - self.chrome0)
        self.by_kind: dict[str, float] = {}
        for p, (kind, before) in self.kinds0.items():
            if p in alive:
                self.by_kind[kind] = self.by_kind.get(kind, 0.0) + pct * (cpu_seconds([p]) - before)
        self.load = pct * (time.process_time() - self.self0)

    def report(self) -> str:
        """The lines the benches print."""
        kinds = ", ".join(f"{kind} {v:.0f}%" for kind, v in sorted(self.by_kind.items(), key=lambda kv: -kv[1])
                          if v >= 0.5)
        return (f"CPU (% of one core): node {self.node:.0f}%, its Chromium {self.chromium_cpu:.0f}%, "
                f"this load generator {self.load:.0f}%\n  Chromium by process: {kinds}")

class Node:
    def __init__(self, env: dict[str, str], params: dict[str, str]) -> None:
        wrapper = os.environ.get("VUER_BENCH_NODE_WRAPPER")   # e.g. a profiler script
        args = [sys.executable, *([wrapper] if wrapper else ["-m", "vuer_ros.cli", "viewer"]),
                "--ros-args"]
        for k, v in params.items():
            args += ["-p", f"{k}:={v}"]
        args += ["--log-level", "vuer_viewer:=debug"]   # the node's render statistics
        self.proc = subprocess.Popen(args, env=env, cwd=str(REPO), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "headless renderer ready" in line:
                self.ready.set()

    def stop(self) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class MarkerLoad:
    """The benchmark's load, published from this process: /tf at ``tf_rate`` (a chain of
    10 frames and the ``probe`` frame, which jumps between two places every ~0.4 s,
    carrying a magenta cube) and a ``markers``-marker MarkerArray at ``marker_rate``.
    ``changes``: (time, place index) of each probe jump, for :func:`latencies`."""

    PLACES = [(1.2, -1.2, 1.6), (-1.2, 1.2, 1.6)]   # place 0 projects right of the centre

    def __init__(self, n, args) -> None:
        from rclpy.serialization import serialize_message
        from tf2_msgs.msg import TFMessage
        from visualization_msgs.msg import Marker, MarkerArray
        self.n, self.args = n, args
        self.tf_pub = n.create_publisher(TFMessage, "/tf", 100)
        self.m_pub = n.create_publisher(Marker, "/visualization_marker", 100)
        self.arr_pub = n.create_publisher(MarkerArray, "/visualization_marker_array", 10)
        self._serialize, self._Marker, self._MarkerArray = serialize_message, Marker, MarkerArray
        self.types = [int(t) for t in args.types.split(",")]
        self.stop_event = threading.Event()
        self.place = 0
        self.changes: list[tuple[float, int]] = []
        self.threads: list[threading.Thread] = []

    def wait_subscribed(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while (self.tf_pub.get_subscription_count() == 0 or self.arr_pub.get_subscription_count() == 0
               or self.m_pub.get_subscription_count() == 0) and time.monotonic() < deadline:
            time.sleep(0.05)

    def tfs(self, probe_xyz, t):
        from geometry_msgs.msg import TransformStamped
        from tf2_msgs.msg import TFMessage
        out = []
        stamp = self.n.get_clock().now().to_msg()
        parent = "map"
        for i in range(10):
            tr = TransformStamped()
            tr.header.stamp, tr.header.frame_id, tr.child_frame_id = stamp, parent, f"link{i}"
            tr.transform.translation.x = 0.1
            a = 0.2 * math.sin(t + i)
            tr.transform.rotation.z, tr.transform.rotation.w = math.sin(a / 2), math.cos(a / 2)
            out.append(tr)
            parent = f"link{i}"
        tr = TransformStamped()
        tr.header.stamp, tr.header.frame_id, tr.child_frame_id = stamp, "map", "probe"
        tr.transform.translation.x, tr.transform.translation.y, tr.transform.translation.z = probe_xyz
        tr.transform.rotation.w = 1.0
        out.append(tr)
        return TFMessage(transforms=out)

    def marker_array(self, count: int, variant: int, ns: str = "load", z: float = 0.0,
                     colour=(0.2, 0.7, 0.3)) -> bytes:
        ms = []
        side = int(math.ceil(math.sqrt(count)))
        types = self.types
        for i in range(count):
            m = self._Marker()
            m.header.frame_id = "map"
            m.ns, m.id = ns, i
            m.type = types[i % len(types)]
            x, y = (i % side) / side * 4 - 2, (i // side) / side * 4 - 2
            m.pose.position.x = x + 0.01 * math.sin(variant + i)
            m.pose.position.y = y
            m.pose.position.z = z
            m.pose.orientation.w = 1.0
            s = 4.0 / side * 0.6
            m.scale.x, m.scale.y, m.scale.z = s, s, s
            if m.type == 0:
                m.scale.y = m.scale.z = s / 4
            if m.type == 9:
                m.text = f"{i}"
            m.color.r, m.color.g, m.color.b = colour
            m.color.a = 1.0
            ms.append(m)
        return self._serialize(self._MarkerArray(markers=ms))

    def probe_marker(self):
        m = self._Marker()
        m.header.frame_id = "probe"
        m.ns, m.id, m.type = "probe", 0, 1
        m.scale.x = m.scale.y = m.scale.z = 0.5
        m.color.r, m.color.b, m.color.a = 1.0, 1.0, 1.0
        m.pose.orientation.w = 1.0
        m.frame_locked = True
        return m

    def start(self) -> None:
        args = self.args
        print(f"node_rate: preparing {args.markers}-marker arrays ...", flush=True)
        variants = [self.marker_array(args.markers, 0 if args.static_markers else v)
                    for v in range(10)]

        def tf_loop():
            period = 1.0 / args.tf_rate
            next_t = time.monotonic()
            next_toggle = time.monotonic() + 1.0
            t0 = time.monotonic()
            while not self.stop_event.is_set():
                now = time.monotonic()
                if now >= next_toggle:
                    self.place ^= 1
                    next_toggle = now + 0.35 + random.random() * 0.1
                    msg = self.tfs(self.PLACES[self.place], now - t0)
                    changed = time.monotonic()
                    self.tf_pub.publish(msg)
                    self.changes.append((changed, self.place))
                else:
                    self.tf_pub.publish(self.tfs(self.PLACES[self.place], now - t0))
                next_t += period
                time.sleep(max(0.0, next_t - time.monotonic()))

        def marker_loop():
            period = 1.0 / args.marker_rate
            next_t = time.monotonic()
            k = 0
            while not self.stop_event.is_set():
                self.arr_pub.publish(variants[k % len(variants)])
                k += 1
                next_t += period
                time.sleep(max(0.0, next_t - time.monotonic()))

        self.m_pub.publish(self.probe_marker())
        self.threads = [threading.Thread(target=tf_loop, daemon=True),
                        threading.Thread(target=marker_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join()


class ImageLog:
    """/vuer/image as received: (receive time, the magenta probe's centroid u or nan, stamp)."""

    def __init__(self, n) -> None:
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image
        self.lock = threading.Lock()
        self.images: list[tuple[float, float, int]] = []
        n.create_subscription(Image, "/vuer/image", self._on_image,
                              QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))

    @staticmethod
    def magenta_u(msg) -> float:
        a = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)[::2, ::2]
        r, g, b = a[..., 0].astype(np.int16), a[..., 1].astype(np.int16), a[..., 2].astype(np.int16)
        # magenta as the probe is lit: red and blue alike, green low (the TF display's arrow
        # heads, (1.0, 0.1, 0.6), are not it)
        mask = (r > 80) & (b > 80) & (g < 0.35 * np.maximum(r, b)) & (4 * b > 3 * r) & (4 * r > 3 * b)
        if mask.sum() < 10:
            return math.nan
        return float(np.nonzero(mask)[1].mean() * 2)

    def _on_image(self, msg) -> None:
        t = time.monotonic()
        u = self.magenta_u(msg)
        with self.lock:
            self.images.append((t, u, msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec))

    def window(self, t_start: float, t_end: float) -> list[tuple[float, float, int]]:
        with self.lock:
            return [im for im in self.images if t_start <= im[0] <= t_end]

    def rate(self, t_start: float, t_end: float) -> float:
        window = self.window(t_start, t_end)
        return (len(window) - 1) / (window[-1][0] - window[0][0]) if len(window) > 1 else 0.0

    def latencies(self, changes: list[tuple[float, int]], t_start: float, t_end: float,
                  width: int) -> list[float]:
        """Each probe jump in the window -> ms to the first image showing the probe there."""
        with self.lock:
            images = list(self.images)
        mid = width / 2.0
        out = []
        for changed, place in changes:
            if not t_start <= changed <= t_end - 1.0:
                continue
            for t, u, _ in images:
                if t <= changed or math.isnan(u):
                    continue
                if (u > mid) == (place == 0):
                    out.append((t - changed) * 1000.0)
                    break
        return out


def start_node(args, extra: dict[str, str] | None = None):
    """The viewer node (the benchmark's camera and size) and an rclpy context for the load."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    domain = random.randint(1, 101)
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    node = Node(env, {"port": "0", "render.rate": str(float(args.rate)),
                      "render.width": str(args.width), "render.height": str(args.height),
                      "render.eye": "[-3.0,-3.0,2.5]", "render.target": "[0.0,0.0,0.5]",
                      **(extra or {})})
    ctx = Context()
    rclpy.init(context=ctx, domain_id=domain)
    n = rclpy.create_node("vuer_bench", context=ctx)
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(n)
    return node, ctx, n, ex


def add_load_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--rate", type=float, default=20.0, help="render.rate (Hz)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--markers", type=int, default=1000)
    ap.add_argument("--marker-rate", type=float, default=10.0)
    ap.add_argument("--tf-rate", type=float, default=100.0)
    ap.add_argument("--static-markers", action="store_true",
                    help="re-send the same array (default: every marker moves in each message)")
    ap.add_argument("--types", default="1,2,3,0,1,2,9",
                    help="marker types of the array, cycled (default: cube, sphere, cylinder, "
                         "arrow, cube, sphere, text)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(ap)
    ap.add_argument("--duration", type=float, default=30.0, help="measurement window (s)")
    ap.add_argument("--big", type=int, default=10000, help="markers of the big-array phase (0: skip)")
    ap.add_argument("--runs", type=int, default=1, help="repeat everything, a fresh node each time; "
                    "then print each figure's spread and the targets' pass/fail")
    args = ap.parse_args()
    results = []
    for run in range(args.runs):
        if args.runs > 1:
            print(f"\n######## run {run + 1} of {args.runs} ########", flush=True)
        results.append(run_once(args))
    summary(args, results)


def loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_once(args: argparse.Namespace) -> dict[str, float]:
    """One full measurement with a fresh node; prints as it goes, returns the figures."""
    out: dict[str, float] = {"load_before": os.getloadavg()[0]}
    print(f"node_rate: load average {loadavg()} (1, 5, 15 min) on {os.cpu_count()} cores", flush=True)
    import rclpy
    from visualization_msgs.msg import Marker

    w, h = args.width, args.height
    node, ctx, n, ex = start_node(args)
    load = MarkerLoad(n, args)
    log = ImageLog(n)
    images, lock, m_pub, arr_pub = log.images, log.lock, load.m_pub, load.arr_pub
    spinner = threading.Thread(target=ex.spin, daemon=True)
    spinner.start()

    print(f"node_rate: starting the node (render.rate {args.rate:g} Hz, {w}x{h}) ...", flush=True)
    if not node.ready.wait(90):
        print("\n".join(node.lines[-30:]))
        raise SystemExit("the node's renderer did not come up")
    load.wait_subscribed()
    load.start()
    print("node_rate: warming up 5 s under load ...", flush=True)
    time.sleep(5.0)

    cpu = CpuWindow(node.proc.pid)
    t_start = time.monotonic()
    time.sleep(args.duration)
    t_end = time.monotonic()
    cpu.close()
    load.stop()
    window = log.window(t_start, t_end)
    latencies = log.latencies(load.changes, t_start, t_end, w)
    rate = log.rate(t_start, t_end)
    span = t_end - t_start
    print()
    print(f"== node_rate: {w}x{h}, render.rate {args.rate:g} Hz, /tf {args.tf_rate:g} Hz "
          f"(11 frames a message), {args.markers}-marker MarkerArray at {args.marker_rate:g} Hz "
          f"({'re-sent unchanged' if args.static_markers else 'all moving'}"
          f", types {args.types}), {span:.0f} s window, {os.cpu_count()} cores ==")
    print(f"images received: {len(window)} in {span:.1f} s = {rate:.1f} Hz "
          f"({100.0 * rate / args.rate:.0f}% of render.rate)")
    out["rate"] = rate
    out["node_cpu"], out["chromium_cpu"] = cpu.node, cpu.chromium_cpu
    if latencies:
        out["lat_median"] = statistics.median(latencies)
        out["lat_p95"] = percentile(latencies, 0.95)
        out["lat_max"] = max(latencies)
    if latencies:
        print(f"TF change -> first image showing it: median {statistics.median(latencies):.0f} ms, "
              f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms "
              f"({len(latencies)} changes)")
    else:
        print("TF change -> image: no samples (the probe was never seen)")
    print(cpu.report())

    # -- big arrays ----------------------------------------------------------------------------
    if args.big:
        print(f"\nnode_rate: {args.big}-marker MarkerArray, publish -> first image showing it "
              "(load stopped) ...", flush=True)
        clear = Marker()
        clear.action = 3
        m_pub.publish(clear)
        time.sleep(1.5)
        results = []
        for rep in range(3):
            # alternate between magenta and nothing-magenta arrays: the image shows which
            colour = (1.0, 0.0, 1.0)
            raw = load.marker_array(args.big, rep, ns=f"big{rep}", z=0.2, colour=colour)
            with lock:
                seen_before = len(images)
            t0, t0_ns = time.monotonic(), time.time_ns()
            arr_pub.publish(raw)
            got, early = None, set()
            while time.monotonic() - t0 < 60 and got is None:
                time.sleep(0.005)
                with lock:
                    for k, (t, u, stamp) in enumerate(images[seen_before:]):
                        if t <= t0 or math.isnan(u):
                            continue
                        if stamp < t0_ns:   # grabbed before the array was published
                            early.add(k)
                            continue
                        got = t
                        break
            note = f"; {len(early)} image(s) grabbed before the publish showed magenta" if early else ""
            if got is None:
                print(f"  array {rep + 1}: not seen within 60 s{note}")
            else:
                results.append((got - t0) * 1000.0)
                print(f"  array {rep + 1}: {results[-1]:.0f} ms ({len(raw) / 1e6:.1f} MB on the wire){note}",
                      flush=True)
            clear = Marker()
            clear.action = 3
            m_pub.publish(clear)
            # wait until it is gone again
            t1 = time.monotonic()
            while time.monotonic() - t1 < 30:
                time.sleep(0.05)
                with lock:
                    if images and images[-1][0] > t1 + 0.2 and math.isnan(images[-1][1]):
                        break
        if results:
            print(f"{args.big}-marker MarkerArray, publish -> first image showing it: "
                  f"median {statistics.median(results):.0f} ms, max {max(results):.0f} ms")
            out["big_median"] = statistics.median(results)
            out["big_max"] = max(results) if len(results) == 3 else math.inf
    node.stop()
    stats = [line.split("]: ", 1)[-1] for line in node.lines if "images/s, grab median" in line]
    if stats:
        print("\nnode's own statistics (DEBUG log, every 5 s):")
        for line in stats:
            print("  " + line)
    errors = [line for line in node.lines if re.search(r"\[(ERROR|WARN)\]", line)]
    if errors:
        print(f"\nnode warnings/errors ({len(errors)}):")
        for line in errors[:10]:
            print("  " + line)
    ex.shutdown(timeout_sec=5)
    spinner.join(5)
    n.destroy_node()
    rclpy.try_shutdown(context=ctx)
    out["load_after"] = os.getloadavg()[0]
    print(f"node_rate: load average {loadavg()} (1, 5, 15 min) at the end", flush=True)
    return out


def summary(args: argparse.Namespace, results: list[dict[str, float]]) -> None:
    """Each figure's spread over the runs, and the targets, which must hold in every run."""
    def spread(key: str, fmt: str = ".0f") -> str:
        vals = [r[key] for r in results if key in r]
        if not vals:
            return "n/a"
        if len(vals) == 1:
            return format(vals[0], fmt)
        return (f"{format(min(vals), fmt)}-{format(max(vals), fmt)} "
                f"(median {format(statistics.median(vals), fmt)})")

    print(f"\n== node_rate summary: {len(results)} run(s), render.rate {args.rate:g} Hz, "
          f"{args.width}x{args.height}, {args.markers} moving markers ==")
    print(f"load average (1 min) before each run: {spread('load_before', '.1f')}; "
          f"after: {spread('load_after', '.1f')}")
    print(f"image rate: {spread('rate', '.1f')} Hz")
    print(f"TF change -> image: median {spread('lat_median')} ms, p95 {spread('lat_p95')} ms, "
          f"max {spread('lat_max')} ms")
    print(f"CPU: node {spread('node_cpu')}% of a core, its Chromium {spread('chromium_cpu')}%")
    if args.big:
        print(f"{args.big}-marker array, publish -> first image: median {spread('big_median')} ms, "
              f"max {spread('big_max')} ms")
    need_rate = args.rate - 0.5
    checks = [(f"rate >= {need_rate:g} Hz", "rate", lambda v: v >= need_rate)]
    if args.markers:
        checks += [("TF -> image p95 < 100 ms", "lat_p95", lambda v: v < 100.0),
                   ("node < 30% of a core", "node_cpu", lambda v: v < 30.0)]
        if args.big == 10000:
            checks.append(("10,000-marker array -> first image < 500 ms (every array)", "big_max",
                           lambda v: v < 500.0))
    else:
        checks.append(("TF -> image p95 < 60 ms", "lat_p95", lambda v: v < 60.0))
    verdicts = []
    for name, key, ok in checks:
        vals = [r.get(key, math.nan) for r in results]
        good = all(not math.isnan(v) and ok(v) for v in vals)
        verdicts.append(good)
        met = sum(not math.isnan(v) and ok(v) for v in vals)
        print(f"  target {name}: {'PASS' if good else 'FAIL'} (met in {met} of {len(vals)} runs)")
    print(f"node_rate: targets {'PASS' if all(verdicts) else 'FAIL'} "
          f"(every target in every run; load average 1 min {spread('load_before', '.1f')} before the runs)")


if __name__ == "__main__":
    main()
