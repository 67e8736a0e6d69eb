"""A big map must not slow the viewer: node_rate.py's marker load alone against the same
load plus a 4,000 x 4,000 OccupancyGrid with 1 Hz updates, alternating in one run.

Run:  . scripts/env.sh && .venv/bin/python bench/map_rate.py [--runs 3] [--phase 20]

One node (node_rate.py's camera, size and render.rate) under node_rate.py's load
(/tf at 100 Hz with the probe, a 1,000-marker MarkerArray at 10 Hz, all moving),
then ``--runs`` rounds of two phases of ``--phase`` seconds each:
- ``markers``: the load alone (the map replaced by a 1 x 1 map: nothing to draw);
- ``map``: the load plus a ``--size`` x ``--size`` map at 0.05 m (200 m across: it fills
  the view, every pixel a palette lookup) published once (transient local, as
  map_server), and an OccupancyGridUpdate of ``--patch`` x ``--patch`` cells at
  ``--update-rate`` Hz at a moving place (a costmap window); ``--local`` adds a
  200 x 200 local costmap re-published whole at 10 Hz, a few cells changed each time.
The first ``--settle`` seconds of each phase are not measured (the map's first 16 MB
reach the browser then). First, the node's share alone: decoding, the scene model,
encoding. For each phase: image rate, TF change -> image median and
p95 (node_rate.py's probe), the load average; then each phase's spread over the runs
and the verdict: the map phases' median rate within 10% of the marker phases'.
Figures and a pass/fail summary line; the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from array import array

import numpy as np

from node_rate import ImageLog, MarkerLoad, add_load_arguments, percentile, start_node

RESOLUTION = 0.05


def building(size: int, seed: int = 1) -> np.ndarray:
    """A plausible map: free rooms with occupied walls, unknown outside a disc."""
    rng = np.random.default_rng(seed)
    cells = np.zeros((size, size), np.int8)
    step = 80
    cells[::step, :] = 100
    cells[:, ::step] = 100
    for _ in range(size // 10):   # doors
        y, x = rng.integers(0, size, 2)
        cells[max(0, y - 8):y + 8, x - x % step:x - x % step + 1] = 0
    yy, xx = np.ogrid[:size, :size]
    cells[(yy - size / 2) ** 2 + (xx - size / 2) ** 2 > (0.48 * size) ** 2] = -1
    return cells


def grid_msg(cells: np.ndarray, resolution: float, origin: tuple[float, float]):
    from nav_msgs.msg import OccupancyGrid
    m = OccupancyGrid()
    m.header.frame_id = "map"
    m.info.resolution = resolution
    m.info.height, m.info.width = cells.shape
    m.info.origin.position.x, m.info.origin.position.y = origin
    m.info.origin.orientation.w = 1.0
    m.data = int8_array(cells)
    return m


def int8_array(cells: np.ndarray) -> array:
    """rclpy takes an array('b') for int8[] as it is (a list would be checked cell by cell)."""
    return array("b", np.ascontiguousarray(cells, np.int8).tobytes())


class MapLoad:
    def __init__(self, n, args) -> None:
        from map_msgs.msg import OccupancyGridUpdate
        from nav_msgs.msg import OccupancyGrid
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        from rclpy.serialization import serialize_message
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.args = args
        self.map_pub = n.create_publisher(OccupancyGrid, "/map", latched)
        self.update_pub = n.create_publisher(OccupancyGridUpdate, "/map_updates", 5)
        self.local_pub = n.create_publisher(OccupancyGrid, "/local_costmap", 5)
        size = args.size
        half = size * RESOLUTION / 2
        print(f"map_rate: preparing a {size} x {size} map ...", flush=True)
        self.big = serialize_message(grid_msg(building(size), RESOLUTION, (-half, -half)))
        self.tiny = serialize_message(grid_msg(np.zeros((1, 1), np.int8), RESOLUTION, (-half, -half)))
        self.Update = OccupancyGridUpdate
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.updates = 0

    def wait_subscribed(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while (self.map_pub.get_subscription_count() == 0
               or self.update_pub.get_subscription_count() == 0
               or (self.args.local and self.local_pub.get_subscription_count() == 0)) \
                and time.monotonic() < deadline:
            time.sleep(0.05)

    def start(self) -> None:
        self.map_pub.publish(self.big)
        self.stop_event.clear()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join()
        time.sleep(0.5)   # the last update reaches the node before the map it patches goes
        self.map_pub.publish(self.tiny)

    def _loop(self) -> None:
        args = self.args
        rng = np.random.default_rng(3)
        p = args.patch
        local = np.zeros((200, 200), np.int8)
        local_msg = grid_msg(local, RESOLUTION, (-5.0, -5.0))
        period = 1.0 / args.update_rate if args.update_rate > 0 else float("inf")
        next_update = time.monotonic() + period
        k = 0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now >= next_update:
                next_update += period
                u = self.Update()
                u.header.frame_id = "map"
                # a window that walks across the map
                u.x = int((args.size // 2 + 900 * np.cos(k / 7.0)) - p // 2)
                u.y = int((args.size // 2 + 900 * np.sin(k / 5.0)) - p // 2)
                u.width = u.height = p
                u.data = int8_array(rng.integers(0, 101, p * p, dtype=np.int8))
                self.update_pub.publish(u)
                self.updates += 1
                k += 1
            if args.local:
                local[rng.integers(0, 200, 20), rng.integers(0, 200, 20)] = rng.integers(0, 101, 20)
                local_msg.data = int8_array(local)
                self.local_pub.publish(local_msg)
            self.stop_event.wait(0.1 if args.local else min(1.0, max(0.0, next_update - time.monotonic())))


def model_costs(size: int, patch: int) -> None:
    """The node's share, without ROS or a browser: decoding the map, the scene model taking
    it (first time, and again unchanged), an update taken, drained and encoded."""
    from rclpy.serialization import serialize_message

    from vuer_ros.cdr.messages import Header, Time
    from vuer_ros.cdr.occupancy import OccupancyGridUpdate, decode_occupancy_grid
    from vuer_ros.protocol import encode
    from vuer_ros.scene import SceneModel
    from vuer_ros.scene.map_display import MapDisplay

    def ms(fn, n: int = 5) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000.0)
        return statistics.median(times)
    half = size * RESOLUTION / 2
    raw = serialize_message(grid_msg(building(size), RESOLUTION, (-half, -half)))
    model = SceneModel("map", grid=False)
    display = model.add_display(MapDisplay(model.frames, model.problems, "/map", {}))
    t = time.perf_counter()
    display.on_map(decode_occupancy_grid(raw))
    sent = sum(len(encode(e.to_wire())) for e in model.drain_events())
    first = (time.perf_counter() - t) * 1000.0

    def unchanged() -> None:
        display.on_map(decode_occupancy_grid(raw))
        assert model.drain_events() == []
    rng = np.random.default_rng(0)
    k = [0]

    def update() -> None:
        k[0] += 1
        display.on_update(OccupancyGridUpdate(
            Header(Time(0, 0), "map"), (37 * k[0]) % (size - patch), size // 3, patch, patch,
            rng.integers(0, 101, patch * patch, dtype=np.int8)))
        for e in model.drain_events():
            encode(e.to_wire())
    print(f"node side ({size} x {size} map, no ROS, no browser): decode "
          f"{ms(lambda: decode_occupancy_grid(raw)):.2f} ms; first map taken, sent and encoded "
          f"{first:.0f} ms ({sent / 1e6:.1f} MB); the same map again {ms(unchanged):.1f} ms "
          f"(nothing sent); a {patch} x {patch} update {ms(update, 20):.1f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(ap)
    ap.add_argument("--runs", type=int, default=3, help="rounds of the two phases")
    ap.add_argument("--phase", type=float, default=20.0, help="seconds measured per phase")
    ap.add_argument("--settle", type=float, default=4.0, help="seconds before each measurement")
    ap.add_argument("--size", type=int, default=4000, help="map cells per side")
    ap.add_argument("--patch", type=int, default=200, help="update cells per side")
    ap.add_argument("--update-rate", type=float, default=1.0)
    ap.add_argument("--local", action="store_true", help="also a 200 x 200 map at 10 Hz")
    ap.add_argument("--alpha", type=float, default=0.7, help="the Map display's alpha")
    args = ap.parse_args()

    model_costs(args.size, args.patch)
    node, ctx, n, ex = start_node(args, {"displays.floor.type": "Map",
                                         "displays.floor.topic": "/map",
                                         "displays.floor.alpha": repr(float(args.alpha))})
    load = MarkerLoad(n, args)
    log = ImageLog(n)
    maps = MapLoad(n, args)
    spinner = threading.Thread(target=ex.spin, daemon=True)
    spinner.start()
    print(f"map_rate: starting the node (render.rate {args.rate:g} Hz, "
          f"{args.width}x{args.height}) ...", flush=True)
    if not node.ready.wait(90):
        print("\n".join(node.lines[-30:]))
        raise SystemExit("the node's renderer did not come up")
    load.wait_subscribed()
    maps.map_pub.publish(maps.tiny)
    maps.wait_subscribed()
    load.start()
    print("map_rate: warming up 5 s under the marker load ...", flush=True)
    time.sleep(5.0)

    print(f"\n== map_rate: {args.width}x{args.height}, render.rate {args.rate:g} Hz, "
          f"{args.markers} markers at {args.marker_rate:g} Hz + /tf {args.tf_rate:g} Hz; map "
          f"{args.size} x {args.size} at {RESOLUTION} m, {args.patch} x {args.patch} updates at "
          f"{args.update_rate:g} Hz{', + a 200 x 200 map at 10 Hz' if args.local else ''}; "
          f"{args.phase:g} s per phase, {os.cpu_count()} cores ==")
    results: dict[str, list[tuple[float, float, float]]] = {"markers": [], "map": []}
    for run in range(args.runs):
        for phase in ("markers", "map"):
            if phase == "map":
                maps.start()
            time.sleep(args.settle)
            t0 = time.monotonic()
            time.sleep(args.phase)
            t1 = time.monotonic()
            if phase == "map":
                maps.stop()
            rate = log.rate(t0, t1)
            lat = log.latencies(load.changes, t0, t1, args.width)
            p50 = statistics.median(lat) if lat else float("nan")
            p95 = percentile(lat, 0.95)
            results[phase].append((rate, p50, p95))
            print(f"run {run + 1} {phase:8s}: {rate:5.1f} Hz, TF -> image median {p50:4.0f} ms, "
                  f"p95 {p95:4.0f} ms, load average {os.getloadavg()[0]:.2f}", flush=True)
    load.stop()
    node.stop()
    errors = [line for line in node.lines if "[ERROR]" in line or "[WARN]" in line]

    print()
    for phase, rows in results.items():
        rates = [r for r, _, _ in rows]
        p95s = [p for _, _, p in rows]
        print(f"{phase:8s}: rate median {statistics.median(rates):.1f} Hz (spread {min(rates):.1f}"
              f"-{max(rates):.1f}), p95 median {statistics.median(p95s):.0f} ms (spread "
              f"{min(p95s):.0f}-{max(p95s):.0f})")
    base = statistics.median(r for r, _, _ in results["markers"])
    with_map = statistics.median(r for r, _, _ in results["map"])
    drop = 100.0 * (base - with_map) / base if base else float("nan")
    print(f"updates published: {maps.updates}; node warnings/errors: {len(errors)}")
    for line in errors[:5]:
        print("  " + line)
    stats = [line.split("]: ", 1)[-1] for line in node.lines if "images/s, grab median" in line]
    if stats:
        print("node's own statistics (DEBUG log, every 5 s):")
        for line in stats:
            print("  " + line)
    verdict = "PASS" if drop <= 10.0 else "FAIL"
    print(f"summary: {verdict}: the map phases' image rate is {with_map:.1f} Hz against "
          f"{base:.1f} Hz without it ({drop:+.1f}% lower; the limit is 10%)")
    ex.shutdown(timeout_sec=5)
    spinner.join(5)
    n.destroy_node()
    import rclpy
    rclpy.try_shutdown(context=ctx)


if __name__ == "__main__":
    main()
