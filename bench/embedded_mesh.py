"""How a mesh carried in a message (Marker.mesh_file) should reach the browser: inline in
the scene event (``src`` = a ``data:`` URL of the file's bytes, which three's loaders
read) or served over HTTP by the server from memory (``/blobs/<sha256>.stl``, what
vuer_ros does: vuer_ros/server/blobs.py). Prints figures; not a test.

    .venv/bin/python bench/embedded_mesh.py

For each size (binary STL of 10 kB, 1 MB, 10 MB) and each count of markers that carry
the same mesh (1, 20), a fresh mesh is shown (an UPSERT of N Stl elements) and the time
until a grab returns with it drawn is measured (the client's grab waits for pending
loads), three times each, median. Also: the server-side costs an in-memory mount adds
per new mesh (SHA-256 of the bytes) and what inline costs the server (msgpack encoding
of the event).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vuer_ros.protocol import encode  # noqa: E402
from vuer_ros.protocol.elements import Group, Stl  # noqa: E402
from vuer_ros.protocol.events import Remove, Set, Upsert  # noqa: E402
from vuer_ros.protocol.elements import DefaultScene  # noqa: E402
from vuer_ros.render.browser import HeadlessBrowser  # noqa: E402
from vuer_ros.server import VuerServer  # noqa: E402

SIZES = (10_000, 1_000_000, 10_000_000)
COUNTS = (1, 20)
REPEATS = 3
CAMERA = {"position": [0.0, -4.0, 2.0], "quaternion": [0.5, 0.0, 0.0, 0.866], "fov": 50}


class Holder:
    pass


def stl_bytes(size: int, seed: int) -> bytes:
    """A binary STL of about ``size`` bytes: random small triangles in a 1 m cube."""
    n = max(1, (size - 84) // 50)
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    centres = rng.uniform(-0.5, 0.5, (n, 1, 3))
    rec["v"] = centres + rng.uniform(-0.02, 0.02, (n, 3, 3))
    rec["n"] = (0.0, 0.0, 1.0)
    return b"bench".ljust(80, b" ") + np.uint32(n).tobytes() + rec.tobytes()


async def main() -> None:
    async with VuerServer(port=0) as server:
        server.broadcast(Set(DefaultScene(Group(key="meshes"))))
        async with HeadlessBrowser(server, 320, 240) as browser:
            sess = browser.session
            await sess.grab(format="rgb", camera=CAMERA)
            seed = 0
            print(f"{'size':>10} {'N':>3} {'inline ms':>10} {'served ms':>10} "
                  f"{'encode inline ms':>17} {'event MB':>9} {'sha256 ms':>10}")
            for size in SIZES:
                for count in COUNTS:
                    times: dict[str, list[float]] = {"inline": [], "served": []}
                    encode_ms: list[float] = []
                    hash_ms: list[float] = []
                    event_mb = 0.0
                    for _ in range(REPEATS):
                        for mode in ("inline", "served"):
                            seed += 1
                            data = stl_bytes(size, seed)
                            t = time.perf_counter()
                            hashlib.sha256(data).hexdigest()
                            hash_ms.append((time.perf_counter() - t) * 1e3)
                            holder = Holder()   # the blob is served while this lives
                            if mode == "served":
                                src = server.static.blobs.hold(data, ".stl", holder)
                            else:
                                src = "data:model/stl;base64," + base64.b64encode(data).decode()
                            nodes = [Stl(key=f"m{seed}-{i}", src=src, position=[i * 0.01, 0, 0],
                                         material={"color": "#ff0000"}) for i in range(count)]
                            event = Upsert(*nodes, to="meshes")
                            t = time.perf_counter()
                            wire = encode(event)
                            if mode == "inline":
                                encode_ms.append((time.perf_counter() - t) * 1e3)
                                event_mb = len(wire) / 1e6
                            t = time.perf_counter()
                            server.broadcast(event)
                            frame = await sess.grab(format="rgb", camera=CAMERA, ttl=60.0)
                            times[mode].append((time.perf_counter() - t) * 1e3)
                            red = (frame.rgb[..., 0] > 120) & (frame.rgb[..., 1] < 80)
                            assert red.sum() > 20, f"{mode} {size} x{count}: mesh not drawn"
                            server.broadcast(Remove(*[n.key for n in nodes]))
                    print(f"{size:>10} {count:>3} {statistics.median(times['inline']):>10.1f} "
                          f"{statistics.median(times['served']):>10.1f} "
                          f"{statistics.median(encode_ms):>17.2f} {event_mb:>9.2f} "
                          f"{statistics.median(hash_ms):>10.2f}")


if __name__ == "__main__":
    asyncio.run(main())
