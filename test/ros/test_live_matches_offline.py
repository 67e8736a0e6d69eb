"""One pipeline: the same scripted scene rendered by the live node (sim time, played
at bag rate with /clock, as `ros2 bag play --clock` does) and by `render-bag` gives
identical images at the same stamps.

The script changes the scene every 0.5 s of bag time and re-publishes it every
0.1 s (TF, a MarkerArray, a marker placed at its stamp's TF): the live node's
images are compared where the scene has been settled for two ticks (a message
published at tick t may reach the node just after its image of t; nothing else
may differ), pixel for pixel with the offline frame of the same stamp."""

from __future__ import annotations

import csv
import math
import random

import cv2
import numpy as np

from ros_helpers import RosClient, ViewerProcess, play_bag, ros_env
from vuer_ros.bag import RenderOptions, render_bag
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag

W, H, FOV = 200, 150, 55.0
EYE, TARGET = (0.5, -4.0, 2.5), (0.5, 0.0, 0.3)
TICK_NS = 100_000_000
TICKS = 36                    # 3.6 s of bag time
PER_STATE = 5                 # the scene changes every 5 ticks (0.5 s)


def state_of(k: int) -> int:
    return k // PER_STATE


def settled(k: int) -> bool:
    return k >= 3 and k % PER_STATE >= 2


def scripted_bag(path):
    store = typestore()
    m = MessageFactory(store)

    def yaw(deg: float) -> tuple[float, float, float, float]:
        a = math.radians(deg) / 2
        return (0.0, 0.0, math.sin(a), math.cos(a))

    def messages():
        yield T0_NS, "/tf_static", m.tf_message(m.tf(T0_NS, "world", "table", (0.0, 0.0, 0.0)))
        yield T0_NS, "/visualization_marker", m.marker(T0_NS, "cube", 0, 1, "mover", (0, 0, 0),
                                                       (0.4, 0.4, 0.4), (1.0, 0.1, 0.1, 1.0))
        for k in range(TICKS + 1):
            t, s = T0_NS + k * TICK_NS, state_of(k)
            yield t, "/tf", m.tf_message(m.tf(t, "world", "mover", (-1.0 + 0.5 * s, 0.3 * (s % 2), 0.2),
                                              yaw(25.0 * s)))
            ring = [m.marker(t, "ring", i, 2, "world",
                             (1.6 * math.cos(i + 0.4 * s), 1.6 * math.sin(i + 0.4 * s), 0.3),
                             (0.25, 0.25, 0.25), (0.1, 0.3 + 0.1 * s, 1.0, 1.0)) for i in range(6)]
            line = m.marker(t, "line", 0, 4, "world", (0, 0, 0), (0.05, 0, 0), (0.1, 0.9, 0.2, 1.0),
                            points=[(-2.0, -1.0, 0.0), (0.0, 0.5 * s, 0.5), (2.0, -1.0, 0.0)])
            # placed once at the TF of its stamp (frame_locked false)
            tag = m.marker(t, "tag", 0, 3, "mover", (0.0, 0.0, 0.5), (0.2, 0.2, 0.3),
                           (1.0, 0.8, 0.0, 1.0), frame_locked=False)
            yield t, "/visualization_marker_array", m.marker_array(*ring, line, tag)

    return write_bag(path, messages(), store)


def offline_frames(bag, tmp_path) -> dict[int, np.ndarray]:
    frames = tmp_path / "frames"
    options = RenderOptions.create(fixed_frame="world", eye=EYE, target=TARGET, width=W, height=H,
                                   fov=FOV, rate=1e9 / TICK_NS)
    render_bag(bag, frames=frames, options=options)
    out = {}
    with open(frames / "timestamps.csv") as f:
        for row in csv.DictReader(f):
            bgr = cv2.imread(str(frames / row["file"]), cv2.IMREAD_COLOR)
            out[int(row["stamp_ns"])] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return out


def test_live_sim_time_images_equal_render_bag_frames_at_the_same_stamps(tmp_path):
    bag = scripted_bag(tmp_path / "script.mcap")
    offline = offline_frames(bag, tmp_path)
    assert sorted(offline) == [T0_NS + k * TICK_NS for k in range(TICKS)]

    domain = random.randint(1, 101)
    viewer = ViewerProcess(ros_env(tmp_path / "log", domain), {
        "port": 0, "use_sim_time": True, "fixed_frame": "world", "render.width": W,
        "render.height": H, "render.fov": FOV, "render.rate": 10.0,
        "render.eye": list(EYE), "render.target": list(TARGET)})
    client = None
    try:
        viewer.wait_started()
        client = RosClient(domain, keep=400)
        play_bag(client, bag)

        compared, states = 0, set()
        for im in list(client.images["/vuer/image"]):
            k, rest = divmod(im.stamp_ns - T0_NS, TICK_NS)
            if rest or not 0 <= k < TICKS or not settled(k):
                continue
            want = offline[im.stamp_ns]
            got = im.rgb
            differ = np.any(got != want, axis=2)
            assert not differ.any(), (
                f"bag time {k / 10:.1f} s: {int(differ.sum())} pixels differ between the live "
                f"image and the render-bag frame")
            compared += 1
            states.add(state_of(k))
        assert compared >= 6 and len(states) >= 3, (compared, sorted(states), viewer.tail())
    finally:
        if client is not None:
            client.close()
        viewer.stop()
