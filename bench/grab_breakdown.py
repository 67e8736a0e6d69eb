"""Where a grab's time goes in our stack (a benchmark, not a test).

    .venv/bin/python bench/grab_breakdown.py [--size 640x480] [--frames 60]

Runs our server + client in HeadlessBrowser with the seed's scene, opens the
DevTools protocol on the page, and prints:
1. inside the page: render submit, readPixels (which waits for SwiftShader to
   finish the render), and JPEG encoding in a Worker with an OffscreenCanvas,
   both the default (GPU-backed) 2D context and ``willReadFrequently: true``
   (a CPU canvas);
2. the websocket round trip (ping);
3. the update+grab loop, raw and JPEG, with the seed's UPDATE (it restates
   ``args`` and ``materialType`` every frame, with the same values) and with
   a position-only UPDATE; then both again with the page's on-screen redraw
   turned off altogether (``viewer.requestRender`` replaced by a no-op
   through ``window.__vuerRos``; the headless client already limits it to
   once a second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from websockets.asyncio.client import connect

from vuer_ros import schemas
from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.server import VuerServer, VuerSession
from vuer_ros.server.frames import Frame

PAGE_TIMINGS_JS = r"""
(async () => {
  const v = window.__vuerRos.viewer, renderer = v.renderer, gl = renderer.getContext();
  const W = __W__, H = __H__, N = 30;
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return Math.round(s[s.length >> 1] * 100) / 100; };
  const cam = v.camera.clone(); cam.aspect = W / H; cam.updateProjectionMatrix();
  const pixels = new Uint8Array(W * H * 4);
  renderer.setSize(W, H, false);
  const submit = [], read = [];
  for (let i = 0; i < N; i++) {
    v.prepare();
    const t0 = performance.now(); renderer.render(v.scene, cam);
    const t1 = performance.now(); gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    submit.push(t1 - t0); read.push(performance.now() - t1);
  }
  renderer.setSize(v.width, v.height, false);
  v.requestRender();
  const out = { render_submit_ms: med(submit), readPixels_wait_ms: med(read),
                triangles: renderer.info.render.triangles, draw_calls: renderer.info.render.calls };
  const worker = `let c = null, x = null;
    self.onmessage = async (e) => {
      const { w, h, pixels, opts } = e.data;
      const t0 = performance.now();
      if (!c) { c = new OffscreenCanvas(w, h); x = c.getContext('2d', opts); }
      const img = x.createImageData(w, h), s = new Uint8Array(pixels), row = w * 4;
      for (let y = 0; y < h; y++) img.data.set(s.subarray((h - 1 - y) * row, (h - y) * row), y * row);
      x.putImageData(img, 0, 0);
      const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
      const buffer = await blob.arrayBuffer();
      self.postMessage({ ms: performance.now() - t0, bytes: buffer.byteLength });
    };`;
  for (const [name, opts] of [['jpeg_worker_gpu_canvas_ms', {}],
                              ['jpeg_worker_cpu_canvas_ms', { willReadFrequently: true }]]) {
    const w = new Worker(URL.createObjectURL(new Blob([worker], { type: 'text/javascript' })));
    const times = [];
    for (let i = 0; i < 20; i++) {
      const copy = pixels.slice();
      const r = await new Promise((res) => {
        w.onmessage = (e) => res(e.data);
        w.postMessage({ w: W, h: H, pixels: copy.buffer, opts }, [copy.buffer]);
      });
      if (i >= 3) times.push(r.ms);
    }
    out[name] = med(times);
    w.terminate();
  }
  return out;
})()
"""


def devtools_page(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as reply:
        return next(t for t in json.loads(reply.read()) if t["type"] == "page")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def evaluate(ws: Any, expression: str) -> Any:
    await ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                              "params": {"expression": expression, "awaitPromise": True, "returnByValue": True}}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == 1:
            result = message.get("result", {})
            if "exceptionDetails" in result:
                raise RuntimeError(f"page error: {result['exceptionDetails']}")
            return result.get("result", {}).get("value")


async def seed_loop(session: VuerSession, wire: str, frames: int, warmup: int = 5, restate: bool = True) -> str:
    latency, browser, decode = [], [], []
    start = 0.0
    for i in range(warmup + frames):
        if i == warmup:
            start = time.perf_counter()
        t0 = time.perf_counter()
        h = 0.25 - (0.00866 * ((i + 1) % 120 - 60)) ** 2
        if restate:  # the seed's UPDATE
            session.update @ schemas.Sphere(key="sphere", args=[0.1, 20, 20], position=[0.2, 0.0, 0.1 + h],
                                            rotation=[0, 0, 0], materialType="depth")
        else:
            session.update @ schemas.Sphere(key="sphere", position=[0.2, 0.0, 0.1 + h])
        event = await session.grab_render(quality=0.95, format=wire, ttl=10.0)
        t1 = time.perf_counter()
        _ = Frame.from_response(event, "rgb" if wire == "rgba" else wire).rgb
        t2 = time.perf_counter()
        if i >= warmup:
            latency.append((t2 - t0) * 1e3)
            decode.append((t2 - t1) * 1e3)
            browser.append(float(event.value.get("delta", float("nan"))))
    fps = frames / (time.perf_counter() - start)
    kind = 'seed UPDATE' if restate else 'position-only UPDATE'
    return (f"{wire:<5} {kind:<20} {fps:5.1f} fps, latency median {statistics.median(latency):5.1f} ms, "
            "browser delta "
            f"{statistics.median(browser):5.1f} ms, Python decode {statistics.median(decode):4.2f} ms")


async def main(width: int, height: int, frames: int) -> None:
    cdp_port = free_port()
    async with VuerServer(port=0) as server:
        server.set @ schemas.DefaultScene(
            schemas.Plane(key="ground-plane", args=[10, 10, 10], materialType="depth",
                          material={"color": "green", "side": 2}),
            schemas.Sphere(key="sphere", args=[0.1, 200, 200], position=[0.2, 0, 0.1], materialType="depth"),
            show_helper=False)
        async with HeadlessBrowser(server, width, height, extra_args=[f"--remote-debugging-port={cdp_port}"]) as b:
            session = b.session
            await seed_loop(session, "rgba", 5, 0)  # the seed's first UPDATE swaps the sphere's geometry
            page = await asyncio.to_thread(devtools_page, cdp_port)
            async with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
                print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {width}x{height}")
                timings = await evaluate(ws, PAGE_TIMINGS_JS.replace("__W__", str(width)).replace("__H__", str(height)))
                print("1. in the page (median ms):", json.dumps(timings))
                rtt = []
                for _ in range(20):
                    t = time.perf_counter()
                    await (await session.socket.ping())
                    rtt.append((time.perf_counter() - t) * 1e3)
                print(f"2. websocket ping round trip {statistics.median(rtt):.2f} ms")
                print("3. update + grab loop, one in flight:")
                for redraw in ("client default", "off"):
                    if redraw == "off":
                        await evaluate(ws, "window.__vuerRos.viewer.requestRender = () => {}; true")
                    for wire in ("rgba", "jpeg"):
                        for restate in (True, False):
                            result = await seed_loop(session, wire, frames, restate=restate)
                            print(f"   on-screen redraw {redraw:<14} {result}")
                print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="640x480", help="WxH (default 640x480)")
    parser.add_argument("--frames", type=int, default=60, help="timed frames per loop (default 60)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    asyncio.run(main(w, h, args.frames))
