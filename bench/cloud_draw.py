"""What drawing a point cloud costs the browser, without ROS: the Cloud element's ways.

Run:  . scripts/env.sh && .venv/bin/python bench/cloud_draw.py [--points 100000 1000000]

For clouds of N random points (x, y, z in a 4 x 4 x 1 m box, random colours), set once
in the real server and client (headless Chromium, SwiftShader), prints the browser's
drawing time of 640x480 grabs whose camera moves a little each time (so every grab
draws the cloud anew) for: Flat Squares of 1 cm, opaque (splatted in JavaScript,
web/src/splat.js); the same at alpha 0.99 (drawn by GL as point sprites, the way the
opaque ones were drawn before splatting); Boxes (one draw of 36 vertices a point);
and a grab with the camera still (the splat kept). Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics

import numpy as np

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.schemas import Cloud, DefaultScene
from vuer_ros.server import VuerServer

GRABS = 8


def camera(i: int) -> RenderCamera:
    return RenderCamera.look_at((-3 + 0.01 * i, -3, 2.5), (0, 0, 0.5), width=640, height=480, fov_y=50)


async def draw_ms(session, cloud: Cloud, server, moving: bool = True) -> list[float]:
    server.set @ DefaultScene(cloud)
    await session.grab(format="rgb", width=640, height=480, camera=camera(0), ttl=300)
    out = []
    for i in range(GRABS):
        frame = await session.grab(format="rgb", width=640, height=480,
                                   camera=camera(i + 1 if moving else 0), ttl=300)
        out.append(frame.timing["render"])
    return out


async def main(points: list[int], boxes_max: int) -> None:
    print(f"cloud_draw: load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          f"{os.cpu_count()} cores; browser drawing time of a 640x480 grab, ms "
          f"(median, min-max of {GRABS})")
    rng = np.random.default_rng(0)
    async with VuerServer(port=0) as server:
        async with HeadlessBrowser(server, 640, 480) as browser:
            session = browser.session
            for n in points:
                xyz = rng.uniform((-2, -2, 0), (2, 2, 1), (n, 3)).astype(np.float32)
                rgb = rng.integers(0, 256, (n, 3)).astype(np.uint8)
                cases = [("Flat Squares, splatted", dict(style="Flat Squares", size=0.01), True),
                         ("the same, camera still", dict(style="Flat Squares", size=0.01), False),
                         ("Flat Squares, GL sprites (alpha 0.99)",
                          dict(style="Flat Squares", size=0.01, alpha=0.99), True)]
                if n <= boxes_max:
                    cases.append(("Boxes of 1 cm", dict(style="Boxes", size=0.01), True))
                for label, props, moving in cases:
                    ms = await draw_ms(session, Cloud(key="c", vertices=xyz, colors=rgb, **props),
                                       server, moving)
                    print(f"  {n:>9,} points, {label}: median {statistics.median(ms):.0f} "
                          f"({min(ms):.0f}-{max(ms):.0f})", flush=True)
    print(f"cloud_draw: load average after {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--boxes-max", type=int, default=100_000, help="largest cloud drawn as Boxes")
    args = ap.parse_args()
    asyncio.run(main(args.points, args.boxes_max))
