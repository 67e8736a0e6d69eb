"""Where the time of a big marker scene goes, without ROS: scene model, sending,
the browser applying it, the browser drawing it.

Run:  . scripts/env.sh && .venv/bin/python bench/node_scene_cost.py

For a MarkerArray of N markers (rosbags messages, decoded already) through the
node's own pipeline pieces (SceneModel -> VuerServer ->
HeadlessBrowser, 640x480 grabs from the bench camera), prints:
- first time: scene model (on_marker_array + drain), broadcast (encode + send),
  first grab after it (browser applies the scene, then renders), next grab
  (render only);
- every marker moved a little: the grab after the update (the scene model sends
  a marker whose geometry is unchanged as a pose UPDATE of its group, or of its
  MarkerList's poses);
each with MarkerLists (marker_lists, the node's default) and with an element per marker.
Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "test"))

import scene_msgs as sm  # noqa: E402

from vuer_ros.protocol import encode  # noqa: E402
from vuer_ros.render.browser import HeadlessBrowser  # noqa: E402
from vuer_ros.render.camera import RenderCamera  # noqa: E402
from vuer_ros.scene import SceneModel  # noqa: E402
from vuer_ros.server import VuerServer  # noqa: E402

MIXED = (1, 2, 3, 0, 1, 2, 9)


def array(n: int, types, shift: float = 0.0):
    side = int(math.ceil(math.sqrt(n)))
    s = 4.0 / side * 0.6
    ms = []
    for i in range(n):
        t = types[i % len(types)]
        ms.append(sm.marker(type=t, ns="bench", id=i, frame="map",
                            xyz=((i % side) / side * 4 - 2 + shift * math.sin(i), (i // side) / side * 4 - 2, 0.0),
                            scale=(s, s / 4 if t == 0 else s, s / 4 if t == 0 else s),
                            rgba=(0.2, 0.7, 0.3, 1.0), text=str(i)))
    return sm.MarkerArray(markers=ms)


async def grab_ms(session, cam) -> float:
    t = time.perf_counter()
    await session.grab(format="rgb", width=640, height=480, camera=cam, ttl=120)
    return (time.perf_counter() - t) * 1000.0


async def run(n: int, types, label: str, moves: int, lists: bool) -> None:
    cam = RenderCamera.look_at((-3, -3, 2.5), (0, 0, 0.5), width=640, height=480, fov_y=50)
    label += ", MarkerLists" if lists else ", an element per marker"
    async with VuerServer(port=0) as server:
        model = SceneModel("map", marker_lists=lists)
        for ev in model.drain_events():
            server.broadcast(ev)
        async with HeadlessBrowser(server, 640, 480) as browser:
            session = browser.session
            await grab_ms(session, cam)
            t0 = time.perf_counter()
            model.on_marker_array(array(n, types), 0)
            events = model.drain_events()
            t1 = time.perf_counter()
            for ev in events:
                server.broadcast(ev)
            t2 = time.perf_counter()
            first = await grab_ms(session, cam)
            renders = sorted([await grab_ms(session, cam) for _ in range(5)])
            print(f"{label}: scene model {1000 * (t1 - t0):.0f} ms, broadcast {1000 * (t2 - t1):.0f} ms, "
                  f"first grab (apply + render) {first:.0f} ms, then render-only grabs median "
                  f"{renders[2]:.0f} ms", flush=True)
            times, sizes = [], []
            for k in range(moves):
                model.on_marker_array(array(n, types, shift=0.01 * (k + 1)), 0)
                events = model.drain_events()
                sizes.append(sum(len(encode(e.to_wire())) for e in events))
                for ev in events:
                    server.broadcast(ev)
                times.append(await grab_ms(session, cam))
            times.sort()
            print(f"{label}: every marker moved, sent as {'/'.join(sorted({e.etype for e in events}))}: "
                  f"grab after the update median {times[len(times) // 2]:.0f} ms "
                  f"({sizes[-1] / 1000:.0f} kB of events)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=5)
    args = ap.parse_args()
    for n, types, label in ((1000, (1,), "1,000 cubes"), (1000, MIXED, "1,000 mixed"),
                            (10000, (1,), "10,000 cubes"), (10000, MIXED, "10,000 mixed")):
        for lists in (True, False):
            asyncio.run(run(n, types, label, args.moves if n <= 1000 else 1, lists))


if __name__ == "__main__":
    main()
