"""The real viewer node under a point cloud stream: image rate, publish-to-image latency, CPU.

Run:  . scripts/env.sh && .venv/bin/python bench/cloud_rate.py [--points 100000] [--rate 20]
      .venv/bin/python bench/cloud_rate.py --points 1000000
      .venv/bin/python bench/cloud_rate.py --points 1000000 --shm-segment-mb 128
      .venv/bin/python bench/cloud_rate.py --scan 1080 --cloud-rate 40

Starts the node as bench/node_rate.py does (``python -m vuer_ros.cli viewer``, headless
Chromium, port 0, a private ROS_DOMAIN_ID) and, from this process over Fast DDS,
publishes sensor_msgs/PointCloud2 (float32 x, y, z and a packed rgb: 16 bytes a point,
as a lidar driver with colour sends them) on /bench/points at ``--cloud-rate``, shown
by ``displays.auto`` with rviz's defaults (Flat Squares of 1 cm). Every cloud differs
(its points jitter); a dense magenta patch in it jumps between the left and the right
of the view every ~0.4 s. With ``--scan N`` it publishes a sensor_msgs/LaserScan of N
rays instead (a magenta arc, 5 cm squares, turning left and right). Messages are
serialised before the measurement, so this process spends little CPU on them.

Prints the image rate against render.rate; the latency from publishing a cloud whose
patch moved to the first received /vuer/image showing it there (median, p95, max);
CPU of the node, its Chromium and this process (% of one core); the load average of
the machine (shared: compare runs taken in one sitting); bytes a point on the wire
(the node's Cloud element, measured by encoding one); and a summary line, PASS or FAIL
against the targets (100,000 points at 10 Hz: 95% of render.rate 20 and p95 < 150 ms;
1,000,000 points: 5 images/s and p95 < 400 ms; a scan: 95% of render.rate and p95
< 150 ms). ``--shm-segment-mb`` gives Fast DDS (the node and this process) a shared-memory
transport with a segment that holds whole clouds: with its defaults a 16 MB cloud
took 90 ms median to cross (p95 157 ms) here, with a 128 MB segment 41 ms (p95 49 ms).
Figures, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "test"))

from cloud_helpers import scan_rclpy, xyz_cloud  # noqa: E402
from node_rate import CpuWindow, Node, percentile  # noqa: E402

PATCH = (1.2, 0.0, 1.3)      # the magenta patch at -x or +x (left or right in the view)
MAGENTA = (255, 0, 255)


def cloud_variants(n: int, jitters: int) -> list[list[bytes]]:
    """[side][jitter] serialised PointCloud2s of n points: a 4 x 4 x 1 m box of random
    colours (never magenta) and a 0.4 m magenta patch of 2% of the points on one side."""
    from rclpy.serialization import serialize_message
    rng = np.random.default_rng(0)
    probe = max(500, n // 50)
    rest = n - probe
    xyz = rng.uniform((-2.0, -2.0, 0.0), (2.0, 2.0, 1.0), (rest, 3))
    rgb = rng.integers(0, 256, (rest, 3))
    rgb[:, 1] = np.maximum(rgb[:, 1], 100)              # green enough never to read as magenta
    side = math.ceil(math.sqrt(probe))
    g = (np.arange(probe) % side, np.arange(probe) // side)
    patch = np.column_stack([g[0] / side * 0.4 - 0.2, np.zeros(probe), g[1] / side * 0.4 - 0.2])
    out: list[list[bytes]] = []
    for sign in (-1.0, 1.0):
        row = []
        for _ in range(jitters):
            pts = np.vstack([xyz + rng.normal(0, 0.003, xyz.shape),
                             patch + (sign * PATCH[0], PATCH[1], PATCH[2])])
            colours = np.vstack([rgb, np.tile(MAGENTA, (probe, 1))])
            row.append(serialize_message(xyz_cloud(pts, rgb=colours, frame="map").rclpy()))
        out.append(row)
    return out


def scan_variants(rays: int, jitters: int) -> list[list[bytes]]:
    """[side][jitter] serialised LaserScans of ``rays`` rays over 270 degrees centred on -x
    (left in the view) or +x (right): the middle 90 degrees at 1.5 m, the rest beyond
    range_max (not drawn)."""
    from rclpy.serialization import serialize_message
    rng = np.random.default_rng(0)
    span = 1.5 * math.pi
    offsets = np.linspace(-span / 2, span / 2, rays)
    out: list[list[bytes]] = []
    for centre in (math.pi, 0.0):
        row = []
        for _ in range(jitters):
            ranges = np.where(np.abs(offsets) <= math.pi / 4, 1.5 + rng.normal(0, 0.01, rays), 100.0)
            row.append(serialize_message(scan_rclpy(
                ranges=ranges, angle_min=centre - span / 2, angle_increment=span / (rays - 1),
                range_max=30.0, intensities=rng.uniform(0, 100, rays), frame="laser")))
        out.append(row)
    return out


FASTDDS_PROFILE = """<?xml version="1.0" encoding="UTF-8" ?>
<profiles xmlns="http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles">
  <transport_descriptors>
    <transport_descriptor>
      <transport_id>shm_big</transport_id>
      <type>SHM</type>
      <segment_size>{segment}</segment_size>
      <maxMessageSize>{message}</maxMessageSize>
    </transport_descriptor>
    <transport_descriptor>
      <transport_id>udp</transport_id>
      <type>UDPv4</type>
    </transport_descriptor>
  </transport_descriptors>
  <participant profile_name="default" is_default_profile="true">
    <rtps>
      <userTransports>
        <transport_id>shm_big</transport_id>
        <transport_id>udp</transport_id>
      </userTransports>
      <useBuiltinTransports>false</useBuiltinTransports>
    </rtps>
  </participant>
</profiles>
"""


def fastdds_profile(segment_mb: int) -> str:
    """A Fast DDS profile whose shared-memory transport takes whole clouds (its default
    512 kB segment splits a 16 MB cloud into fragments); returns the file's path."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="cloud_rate_")) / "fastdds.xml"
    path.write_text(FASTDDS_PROFILE.format(segment=segment_mb << 20, message=(segment_mb << 20) // 4))
    return str(path)


def wire_bytes_per_point(raw: bytes, points: int) -> float:
    """What the node sends for one cloud (its Cloud element's UPSERT, encoded), per point."""
    from vuer_ros.cdr.pointcloud import decode_point_cloud
    from vuer_ros.displays import DISPLAY_TYPES
    from vuer_ros.protocol import encode
    from vuer_ros.scene import SceneModel
    from vuer_ros.view.kinds import POINT_CLOUD2
    model = SceneModel("map")
    POINT_CLOUD2.attach(model, "/bench/points", DISPLAY_TYPES["PointCloud2"].defaults())(
        decode_point_cloud(raw), 0)
    return sum(len(encode(e)) for e in model.drain_events()) / points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=100_000, help="points a cloud")
    ap.add_argument("--scan", type=int, default=0, help="publish LaserScans of this many rays instead")
    ap.add_argument("--cloud-rate", type=float, default=None, help="messages a second (10; 40 for scans)")
    ap.add_argument("--rate", type=float, default=20.0, help="render.rate (Hz)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--duration", type=float, default=30.0, help="measurement window (s)")
    ap.add_argument("--shm-segment-mb", type=int, default=0,
                    help="give Fast DDS (the node and this process) a shared-memory segment of this "
                         "many MB (0: Fast DDS's defaults)")
    args = ap.parse_args()
    scan = args.scan > 0
    cloud_rate = args.cloud_rate or (40.0 if scan else 10.0)

    import rclpy
    from geometry_msgs.msg import TransformStamped
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image, LaserScan, PointCloud2
    from tf2_msgs.msg import TFMessage

    what = f"{args.scan}-ray LaserScan" if scan else f"{args.points:,}-point PointCloud2 (x, y, z, rgb)"
    print(f"cloud_rate: serialising {what} variants ...", flush=True)
    variants = scan_variants(args.scan, 4) if scan else cloud_variants(args.points, 3)
    per_point = None if scan else wire_bytes_per_point(variants[0][0], args.points)

    domain = random.randint(1, 101)
    env = dict(os.environ)
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    if args.shm_segment_mb:
        env["FASTRTPS_DEFAULT_PROFILES_FILE"] = os.environ["FASTRTPS_DEFAULT_PROFILES_FILE"] = \
            fastdds_profile(args.shm_segment_mb)
    w, h = args.width, args.height
    params = {"port": "0", "render.rate": str(float(args.rate)), "render.width": str(w),
              "render.height": str(h), "render.eye": "[0.0,-5.0,3.0]", "render.target": "[0.0,0.0,0.5]",
              "grid": "false"}
    if scan:
        params.update({"displays.laser.type": "LaserScan", "displays.laser.topic": "/bench/scan",
                       "displays.laser.size": "0.05", "displays.laser.color_transformer": "FlatColor",
                       "displays.laser.color": "[255.0,0.0,255.0]"})
    load_before = os.getloadavg()
    node = Node(env, params)
    ctx = Context()
    rclpy.init(context=ctx, domain_id=domain)
    n = rclpy.create_node("vuer_cloud_bench", context=ctx)
    topic = "/bench/scan" if scan else "/bench/points"
    pub = n.create_publisher(LaserScan if scan else PointCloud2, topic, 10)
    tf_pub = n.create_publisher(TFMessage, "/tf", 10)

    lock = threading.Lock()
    images: list[tuple[float, float]] = []   # (receive time, magenta centroid u or nan)

    def on_image(msg: Image) -> None:
        t = time.monotonic()
        a = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)[::2, ::2]
        mask = (a[..., 0] > 200) & (a[..., 1] < 60) & (a[..., 2] > 200)
        u = float(np.nonzero(mask)[1].mean() * 2) if mask.sum() >= 10 else math.nan
        with lock:
            images.append((t, u))

    n.create_subscription(Image, "/vuer/image", on_image,
                          QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(n)
    spinner = threading.Thread(target=ex.spin, daemon=True)
    spinner.start()

    print(f"cloud_rate: starting the node (render.rate {args.rate:g} Hz, {w}x{h}) ...", flush=True)
    if not node.ready.wait(90):
        print("\n".join(node.lines[-30:]))
        raise SystemExit("the node's renderer did not come up")
    laser = TransformStamped()
    laser.header.frame_id, laser.child_frame_id = "map", "laser"
    laser.transform.translation.z, laser.transform.rotation.w = 1.0, 1.0
    stop = threading.Event()

    def tf_loop() -> None:     # the scan's frame, at 50 Hz as a robot would send it
        while not stop.is_set():
            laser.header.stamp = n.get_clock().now().to_msg()
            tf_pub.publish(TFMessage(transforms=[laser]))
            time.sleep(0.02)
    threading.Thread(target=tf_loop, daemon=True).start()

    deadline = time.monotonic() + 60
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        pub.publish(variants[0][0])      # displays.auto finds the topic within a second
        time.sleep(0.2)

    state = {"side": 0, "changes": []}    # changes: (publish time, side)

    def publish_loop() -> None:
        period = 1.0 / cloud_rate
        next_t = time.monotonic()
        next_toggle = next_t + 1.0
        k = 0
        while not stop.is_set():
            now = time.monotonic()
            changed = now >= next_toggle
            if changed:
                state["side"] ^= 1
                next_toggle = now + 0.35 + random.random() * 0.1
            raw = variants[state["side"]][k % len(variants[0])]
            t = time.monotonic()
            pub.publish(raw)
            if changed:
                state["changes"].append((t, state["side"]))
            k += 1
            next_t += period
            time.sleep(max(0.0, next_t - time.monotonic()))

    threading.Thread(target=publish_loop, daemon=True).start()
    print("cloud_rate: warming up 5 s under load ...", flush=True)
    time.sleep(5.0)

    cpu = CpuWindow(node.proc.pid)
    t_start = time.monotonic()
    time.sleep(args.duration)
    t_end = time.monotonic()
    cpu.close()
    stop.set()
    load_after = os.getloadavg()
    with lock:
        window = [im for im in images if t_start <= im[0] <= t_end]
        all_images = list(images)

    mid = w / 2.0
    latencies = []
    for changed, side in state["changes"]:
        if not t_start <= changed <= t_end - 1.0:
            continue
        for t, u in all_images:
            if t > changed and not math.isnan(u) and (u > mid) == (side == 1):
                latencies.append((t - changed) * 1000.0)
                break
    rate = (len(window) - 1) / (window[-1][0] - window[0][0]) if len(window) > 1 else 0.0
    span = t_end - t_start
    print()
    transport = (f"Fast DDS with a {args.shm_segment_mb} MB shared-memory segment" if args.shm_segment_mb
                 else "Fast DDS defaults")
    print(f"== cloud_rate: {what} at {cloud_rate:g} Hz, {w}x{h}, render.rate {args.rate:g} Hz, "
          f"{span:.0f} s window, {os.cpu_count()} cores, {transport} ==")
    print(f"load average (1, 5, 15 min): before {', '.join(f'{v:.2f}' for v in load_before)}; "
          f"after {', '.join(f'{v:.2f}' for v in load_after)}")
    print(f"message: {len(variants[0][0]) / 1e6:.2f} MB"
          + (f"; on the wire to the browser {per_point:.2f} bytes a point" if per_point else ""))
    print(f"images received: {len(window)} in {span:.1f} s = {rate:.1f} Hz "
          f"({100.0 * rate / args.rate:.0f}% of render.rate)")
    if latencies:
        med, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(f"publish -> first image showing the change: median {med:.0f} ms, p95 {p95:.0f} ms, "
              f"max {max(latencies):.0f} ms ({len(latencies)} changes)")
    else:
        med = p95 = math.inf
        print("publish -> image: no samples (the patch was never seen)")
    print(cpu.report())
    node.stop()
    stats = [line.split("]: ", 1)[-1] for line in node.lines if "images/s, grab median" in line]
    if stats:
        print("node's own statistics (DEBUG log, every 5 s):")
        for line in stats[-4:]:
            print("  " + line)
    problems = [line for line in node.lines if "[ERROR]" in line or "[WARN]" in line]
    for line in problems[:5]:
        print("  node: " + line)
    if args.points >= 1_000_000 and not scan:
        want_rate, want_p95 = 5.0, 400.0
    else:
        want_rate, want_p95 = 0.95 * args.rate, 150.0
    ok = rate >= want_rate and p95 < want_p95
    print(f"SUMMARY {what} at {cloud_rate:g} Hz ({transport}): {rate:.1f} images/s (target >= {want_rate:g}), "
          f"p95 {p95:.0f} ms (target < {want_p95:g}), load {load_after[0]:.1f}: {'PASS' if ok else 'FAIL'}")
    ex.shutdown(timeout_sec=5)
    spinner.join(5)
    n.destroy_node()
    rclpy.try_shutdown(context=ctx)


if __name__ == "__main__":
    main()
