"""Scene model throughput: markers and TF in, protocol events out.

Run: .venv/bin/python bench/bench_scene_model.py
Prints the best CPU time of several runs for:
- a 1,000-marker MarkerArray (mixed types) re-sent as at 10 Hz, and the CPU share that is;
  its CDR decoding (vuer_ros/cdr/markers.py), in full and when only the poses changed;
- /tf at 100 Hz (50 transforms a message), on_tf + drain;
- a 10,000-marker MarkerArray, converted and drained (and msgpack-encoded, separately);
- POINTS markers of 100k and 1M points; a 10M-point marker refused;
- the node's own path (marker_lists, the default): CDR bytes decoded as columns
  (cdr/marker_columns.py) into a model with MarkerLists, the 1,000-marker array moved
  and a 10,000-marker array first time, each step apart and per 10 Hz.
Messages are rosbags typestore classes (what the bag renderer reads); the sections
before the last use one element per marker (marker_lists false).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from rosbags.typesys import Stores, get_typestore

from vuer_ros.protocol import encode
from vuer_ros.cdr import ArrayDecoder, decode_marker_array
from vuer_ros.scene import SceneModel

TS_STORE = get_typestore(Stores.ROS2_JAZZY)
TS = TS_STORE.types
S = 1_000_000_000
Time, Duration, Header = TS["builtin_interfaces/msg/Time"], TS["builtin_interfaces/msg/Duration"], \
    TS["std_msgs/msg/Header"]
Point, Vector3, Quaternion = TS["geometry_msgs/msg/Point"], TS["geometry_msgs/msg/Vector3"], \
    TS["geometry_msgs/msg/Quaternion"]
Pose, ColorRGBA = TS["geometry_msgs/msg/Pose"], TS["std_msgs/msg/ColorRGBA"]
TransformStamped, TransformMsg = TS["geometry_msgs/msg/TransformStamped"], \
    TS["geometry_msgs/msg/Transform"]
TFMessage, Marker, MarkerArray = TS["tf2_msgs/msg/TFMessage"], TS["visualization_msgs/msg/Marker"], \
    TS["visualization_msgs/msg/MarkerArray"]
MeshFile, CompressedImage = TS["visualization_msgs/msg/MeshFile"], TS["sensor_msgs/msg/CompressedImage"]


def stamp(ns):
    return Time(sec=ns // S, nanosec=ns % S)


def make_marker(i, mtype, frame="base_link", n_points=0, ns_stamp=0):
    pts = [Point(x=float(k), y=float(i), z=0.0) for k in range(n_points)]
    return Marker(
        header=Header(stamp=stamp(ns_stamp), frame_id=frame), ns="bench", id=i, type=mtype,
        action=0,
        pose=Pose(position=Point(x=float(i % 100), y=float(i // 100), z=0.0),
                  orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0)),
        scale=Vector3(x=0.1, y=0.1, z=0.1), color=ColorRGBA(r=0.2, g=0.6, b=1.0, a=1.0),
        lifetime=Duration(sec=0, nanosec=0), frame_locked=bool(i % 2), points=pts, colors=[],
        texture_resource="", texture=CompressedImage(header=Header(stamp=stamp(0), frame_id=""),
                                                     format="", data=np.zeros(0, np.uint8)),
        uv_coordinates=[], text=f"m{i}", mesh_resource="",
        mesh_file=MeshFile(filename="", data=np.zeros(0, np.uint8)), mesh_use_embedded_materials=False)


def mixed_array(n):
    """Cubes, spheres, cylinders, pose arrows, 10-point line strips, text."""
    types = [1, 2, 3, 0, 4, 9]
    return MarkerArray(markers=[make_marker(i, types[i % len(types)],
                                            n_points=10 if types[i % len(types)] == 4 else 0)
                                for i in range(n)])


def tf_message(n, t_ns):
    out = []
    for k in range(n):
        a = t_ns / S + k
        out.append(TransformStamped(
            header=Header(stamp=stamp(t_ns), frame_id="base_link" if k == 0 else f"link{k - 1}"),
            child_frame_id=f"link{k}",
            transform=TransformMsg(translation=Vector3(x=0.1, y=0.0, z=0.0),
                                   rotation=Quaternion(x=0.0, y=0.0, z=math.sin(a / 2),
                                                       w=math.cos(a / 2)))))
    return TFMessage(transforms=out)


def timed(fn, runs=7):
    """Best CPU time of the process over ``runs`` (time.process_time, as timeit
    takes the best): on a shared machine the median mostly measures the
    neighbours; single-threaded code, so CPU time is the cost."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def new_model(lists=False):
    model = SceneModel("map", marker_lists=lists)
    model.on_tf(TFMessage(transforms=[TransformStamped(
        header=Header(stamp=stamp(S), frame_id="map"), child_frame_id="base_link",
        transform=TransformMsg(translation=Vector3(x=0.0, y=0.0, z=0.0),
                               rotation=Quaternion(x=0.0, y=0.0, z=0.0, w=1.0)))]), static=True)
    model.drain_events()
    return model


def moved(arr, dz):
    """The same array with every marker's pose changed (a worst case at 10 Hz)."""
    out = []
    for m in arr.markers:
        p = m.pose.position
        out.append(Marker(**{**m.__dict__, "pose": Pose(
            position=Point(x=p.x, y=p.y, z=p.z + dz), orientation=m.pose.orientation)}))
    return MarkerArray(markers=out)


def main() -> None:
    logging.disable(logging.CRITICAL)
    print("scene model benchmark (best CPU time of several runs, time.process_time)")

    arr = mixed_array(1000)
    t = timed(lambda: (lambda m: (m.on_marker_array(arr, S), m.drain_events()))(new_model()))
    print(f"  1,000-marker MarkerArray, first time, apply + drain:    {t * 1e3:7.1f} ms")
    model = new_model()
    model.on_marker_array(arr, S)
    model.drain_events()
    t = timed(lambda: (model.on_marker_array(arr, S), model.drain_events()))
    print(f"  ... re-sent unchanged (nothing emitted):                {t * 1e3:7.1f} ms "
          f"(at 10 Hz: {t * 10 * 100:.0f}% of one core)")
    variants = [moved(arr, 0.01 * k) for k in range(1, 8)]
    it = iter(variants)
    t = timed(lambda: (model.on_marker_array(next(it), S), model.drain_events()))
    print(f"  ... re-sent with every pose changed:                    {t * 1e3:7.1f} ms "
          f"(at 10 Hz: {t * 10 * 100:.0f}% of one core)")

    # the node's CDR decoding of the same arrays (raw bytes, as it subscribes)
    raw = [TS_STORE.serialize_cdr(a, "visualization_msgs/msg/MarkerArray") for a in [arr, *variants]]
    t = timed(lambda: decode_marker_array(raw[0]))
    print(f"  ... CDR decode of the array, in full:                   {t * 1e3:7.1f} ms")
    decoder = ArrayDecoder()
    decoder.decode(raw[0])
    raw_it = iter(raw[1:])
    t = timed(lambda: decoder.decode(next(raw_it)))
    print(f"  ... CDR decode when only poses changed (ArrayDecoder):  {t * 1e3:7.1f} ms")

    model = new_model()
    msgs = [tf_message(50, S + k * S // 100) for k in range(100)]
    model.on_tf(msgs[0])
    model.drain_events()
    tf_iter = iter(msgs[1:] * 10)

    def tf_step():
        for _ in range(50):
            model.on_tf(next(tf_iter))
            model.drain_events()
    t = timed(tf_step, runs=3) / 50
    print(f"  /tf message of 50 transforms, on_tf + drain:            {t * 1e3:7.3f} ms "
          f"(at 100 Hz: {t * 100 * 100:.1f}% of one core)")

    arr = mixed_array(10_000)
    models = [new_model() for _ in range(7)]
    it_m = iter(models)
    t = timed(lambda: next(it_m).on_marker_array(arr, S), runs=7)
    print(f"  10,000-marker MarkerArray, convert (on_marker_array):   {t * 1e3:7.1f} ms")
    it_m = iter(models)
    holder = {}
    t = timed(lambda: holder.__setitem__("events", next(it_m).drain_events()), runs=7)
    print(f"    its drain_events (elements -> wire-form events):      {t * 1e3:7.1f} ms")
    t = timed(lambda: [encode(e) for e in holder["events"]], runs=5)
    size = sum(len(encode(e)) for e in holder["events"])
    print(f"    msgpack encode of those events (server side):         {t * 1e3:7.1f} ms, "
          f"{size / 1e6:.2f} MB")

    print("the node's path: CDR -> columns (ArrayDecoder) -> MarkerLists (marker_lists true)")
    from vuer_ros.server.shared_scene import SharedScene

    def through_lists(raws, runs):
        """Per array: (decode, apply, drain + server scene and encode) CPU ms, best of runs."""
        best = [math.inf, math.inf, math.inf]
        decoder, model, scene = ArrayDecoder(), new_model(lists=True), SharedScene()
        for k in range(runs):
            t0 = time.process_time()
            msg = decoder.decode(raws[k % len(raws)])
            t1 = time.process_time()
            model.on_marker_array(msg, S)
            t2 = time.process_time()
            for ev in model.drain_events():
                scene.apply(ev)
            t3 = time.process_time()
            if k:   # the first is the array's first time
                best = [min(b, t) for b, t in zip(best, (t1 - t0, t2 - t1, t3 - t2))]
        return best
    d, a, e = through_lists(raw, 8)
    print(f"  1,000-marker array, every pose changed: decode {d * 1e3:.1f} ms, apply {a * 1e3:.1f} ms, "
          f"drain + send {e * 1e3:.1f} ms: {(d + a + e) * 1e3:.1f} ms "
          f"(at 10 Hz: {(d + a + e) * 10 * 100:.0f}% of one core)")
    big = [TS_STORE.serialize_cdr(mixed_array(10_000), "visualization_msgs/msg/MarkerArray")]
    firsts = []
    for _ in range(5):
        decoder, model, scene = ArrayDecoder(), new_model(lists=True), SharedScene()
        t0 = time.process_time()
        msg = decoder.decode(big[0])
        t1 = time.process_time()
        model.on_marker_array(msg, S)
        t2 = time.process_time()
        size = sum(len(scene.apply(ev)) for ev in model.drain_events())
        t3 = time.process_time()
        firsts.append((t1 - t0, t2 - t1, t3 - t2))
    d, a, e = min(firsts, key=sum)
    print(f"  10,000-marker array, first time: decode {d * 1e3:.1f} ms, apply {a * 1e3:.1f} ms, "
          f"drain + send {e * 1e3:.1f} ms ({size / 1e6:.2f} MB): {(d + a + e) * 1e3:.0f} ms")

    for n in (100_000, 1_000_000):
        msg = make_marker(1, 8, n_points=n)
        model = new_model()
        t = timed(lambda model=model, msg=msg: (model.on_marker(msg, S), model.drain_events()),
                  runs=3)
        print(f"  POINTS marker of {n:>9,} points, on_marker + drain:     {t * 1e3:7.1f} ms")

    msg = make_marker(1, 8)
    msg.points = [Point(x=0.0, y=0.0, z=0.0)] * 10_000_000
    model = new_model()
    t = timed(lambda: model.on_marker(msg, S), runs=3)
    print(f"  10,000,000-point marker refused:                        {t * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
