"""What the TF display costs for many frames (a benchmark, not a test).

    .venv/bin/python bench/tf_frames.py [--frames 200] [--names]

A TF tree of N frames (a chain of 10 under map, the rest fanned out under it; one in
ten moving), drawn by the TF display (vuer_ros/scene/tf_display.py) through the
scene model, the server and a headless browser; prints the scene model's SET and
drain times, the draw calls and triangles of one render (read through the DevTools
protocol: the axes and arrows are batched unit solids, web/src/batches.js), and the
grab time, first and after the moving frames moved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "test" / "scene"))

import scene_msgs as sm  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from vuer_ros.displays import TF  # noqa: E402
from vuer_ros.protocol.events import Set  # noqa: E402
from vuer_ros.render.browser import HeadlessBrowser  # noqa: E402
from vuer_ros.render.camera import RenderCamera  # noqa: E402
from vuer_ros.scene import SceneModel  # noqa: E402
from vuer_ros.scene.tf_display import TfDisplay  # noqa: E402
from vuer_ros.server import VuerServer  # noqa: E402

S = 1_000_000_000
DRAWS_JS = r"""
(() => {
  const v = window.__vuerRos.viewer, renderer = v.renderer;
  const cam = v.camera.clone(); cam.aspect = __W__ / __H__; cam.updateProjectionMatrix();
  renderer.info.autoReset = false; renderer.info.reset();
  v.prepare(); renderer.render(v.scene, cam);
  const out = { draw_calls: renderer.info.render.calls, triangles: renderer.info.render.triangles };
  renderer.info.autoReset = true;
  return out;
})()
"""


def tree(n: int, t_ns: int, phase: float) -> list[Any]:
    out = []
    for i in range(n):
        if i < 10:
            parent, xyz = ("map" if i == 0 else f"f{i - 1}"), (0.3, 0.0, 0.1)
        else:
            a = 2 * math.pi * i / n
            parent, xyz = "f9", (2.0 * math.cos(a), 2.0 * math.sin(a), 0.2 * (i % 5))
        if i % 10 == 5:
            xyz = (xyz[0] + 0.2 * math.sin(phase), xyz[1], xyz[2])
        out.append(sm.tf(parent, f"f{i}", xyz, ns=t_ns))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def evaluate(ws: Any, expression: str) -> Any:
    await ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                              "params": {"expression": expression, "returnByValue": True}}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == 1:
            return message.get("result", {}).get("result", {}).get("value")


async def main(n: int, names: bool, width: int, height: int) -> None:
    model = SceneModel("map", grid=False)
    model.add_display(TfDisplay(model.frames, model.problems,
                                {**TF.defaults(), "show_names": names}))
    model.advance(S)
    model.on_tf(sm.tf_msg(*tree(n, S, 0.0)))
    t = time.perf_counter()
    scene = model.initial_scene()
    print(f"{n} frames: scene model SET {1e3 * (time.perf_counter() - t):.1f} ms")
    camera = RenderCamera.look_at([4.0, -6.0, 6.0], [1.0, 0.0, 0.0], width=width, height=height,
                                  fov_y=50.0)
    cdp = free_port()
    async with VuerServer(port=0) as server:
        server.broadcast(Set(scene))
        async with HeadlessBrowser(server, width, height,
                                   extra_args=[f"--remote-debugging-port={cdp}"]) as browser:
            session = browser.session
            t = time.perf_counter()
            await session.grab(format="rgb", width=width, height=height, camera=camera)
            print(f"first grab (applies the scene, renders) {1e3 * (time.perf_counter() - t):.0f} ms")
            t = time.perf_counter()
            await session.grab(format="rgb", width=width, height=height, camera=camera)
            print(f"next grab {1e3 * (time.perf_counter() - t):.0f} ms")
            with urllib.request.urlopen(f"http://127.0.0.1:{cdp}/json") as reply:
                page = next(p for p in json.loads(reply.read()) if p["type"] == "page")
            async with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
                draws = await evaluate(ws, DRAWS_JS.replace("__W__", str(width))
                                       .replace("__H__", str(height)))
            print(f"one render: {draws['draw_calls']} draw calls, {draws['triangles']} triangles")
            for k in range(1, 4):
                model.on_tf(sm.tf_msg(*[tf for i, tf in enumerate(tree(n, (k + 1) * S, k))
                                        if i % 10 == 5]))
                model.advance((k + 1) * S)
                t = time.perf_counter()
                events = model.drain_events()
                drain_ms = 1e3 * (time.perf_counter() - t)
                for event in events:
                    server.broadcast(event)
                t = time.perf_counter()
                await session.grab(format="rgb", width=width, height=height, camera=camera)
                print(f"{n // 10} frames moved: drain {drain_ms:.1f} ms ({len(events)} events), "
                      f"grab {1e3 * (time.perf_counter() - t):.0f} ms")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--names", action="store_true", help="show_names on")
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    asyncio.run(main(args.frames, args.names, w, h))
