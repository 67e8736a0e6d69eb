"""Grab-back rate: our stack against the reference vuer stack (a benchmark, not a test).

    .venv/bin/python bench/grab_rate.py                  # ~150 frames ours, ~40 reference per case
    .venv/bin/python bench/grab_rate.py --quick          # a short run
    .venv/bin/python bench/grab_rate.py --frames 300 --ref-frames 60 --sizes 640x480

The loop is the seed's (shared/seeds/procedural_rendering_async.md): each
iteration moves the sphere with one UPDATE, then grabs a frame and decodes it
to a numpy array; one request in flight at a time. Timed per frame: from the
UPDATE to the decoded array (latency), the browser's own ``delta``, and the
Python decode alone. Warm-up frames are excluded.

- ours: our server (in this process) + our client in :class:`HeadlessBrowser`,
  raw (``format="rgba"`` -> rgb array) and JPEG q0.95 (``grab_render``).
- reference: the ``vuer`` package's own server and bundled client, in a
  subprocess on another free port (this file run with ``--reference-worker``),
  the seed's scene plus ``GrabRender()`` (vuer 0.1.6's DefaultScene lacks
  it), Chromium with our flags and a window sized so the canvas is exactly the
  asked-for size (new-headless counts its invisible UI in ``--window-size``).

Both stacks share this machine's 2 cores with whatever else runs: the load
average is printed with every case, so a noisy figure can be told apart.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

QUALITY = 0.95
RESULT_PREFIX = "GRAB_RATE_RESULT "


# -- the seed's scene and motion -------------------------------------------------------------------
def seed_height(i: int) -> float:
    return 0.25 - (0.00866 * (i % 120 - 60)) ** 2


def seed_scene_children(schemas: Any) -> list[Any]:
    """The seed's Plane + Sphere, from ``vuer_ros.schemas`` or ``vuer.schemas`` (same props;
    the seed's ``meterial`` typo fixed for both)."""
    return [
        schemas.Plane(key="ground-plane", args=[10, 10, 10], position=[0, 0, 0], rotation=[0, 0, 0],
                      materialType="depth", material={"color": "green", "side": 2}),
        schemas.Sphere(key="sphere", args=[0.1, 200, 200], position=[0.2, 0, 0.1], rotation=[0, 0, 0],
                       materialType="depth", outlines={"angle": 0, "thickness": 0.002, "color": "white"}),
    ]


def seed_update(schemas: Any, i: int) -> Any:
    return schemas.Sphere(key="sphere", args=[0.1, 20, 20], position=[0.2, 0.0, 0.1 + seed_height(i)],
                          rotation=[0, 0, 0], materialType="depth")


# -- figures ---------------------------------------------------------------------------------------------
@dataclass
class Case:
    stack: str
    variant: str
    size: tuple[int, int]
    frame_size: tuple[int, int] = (0, 0)
    wall_s: float = 0.0
    latency_ms: list[float] = field(default_factory=list)
    browser_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)
    frame_bytes: list[int] = field(default_factory=list)
    timeouts: int = 0
    load: tuple[float, float] = (0.0, 0.0)  # 1-min load average before, after
    note: str = ""

    @property
    def frames(self) -> int:
        return len(self.latency_ms)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Case:
        d = dict(d)
        d["size"], d["frame_size"], d["load"] = tuple(d["size"]), tuple(d["frame_size"]), tuple(d["load"])
        return cls(**d)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


class Timer:
    """Per-frame bookkeeping shared by both stacks' loops."""

    def __init__(self, case: Case, warmup: int) -> None:
        self.case, self.warmup = case, warmup
        self.started: float | None = None

    def record(self, i: int, t0: float, t1: float, t2: float, value: dict[str, Any]) -> None:
        """i: 0-based iteration; t0 before the UPDATE, t1 the answer arrived, t2 decoded."""
        if i < self.warmup:
            return
        if self.started is None:
            self.started = t0
        self.case.latency_ms.append((t2 - t0) * 1e3)
        self.case.decode_ms.append((t2 - t1) * 1e3)
        delta = value.get("delta")
        if isinstance(delta, (int, float)):
            self.case.browser_ms.append(float(delta))
        frame = value.get("frame")
        if isinstance(frame, (bytes, bytearray)):
            self.case.frame_bytes.append(len(frame))
        self.case.wall_s = t2 - self.started


def load1() -> float:
    return os.getloadavg()[0]


# -- our stack ---------------------------------------------------------------------------------------------
async def run_ours(sizes: list[tuple[int, int]], frames: int, warmup: int, reference: Any,
                   save_dir: Path | None = None) -> list[Case]:
    """Our server + client; ``reference(size)`` is called after each size's own cases so
    the stacks alternate (drift in the machine's load then hits both alike)."""
    from vuer_ros import schemas
    from vuer_ros.render.browser import HeadlessBrowser
    from vuer_ros.server import VuerServer
    from vuer_ros.server.frames import Frame

    cases: list[Case] = []
    async with VuerServer(port=0) as server:
        server.set @ schemas.DefaultScene(*seed_scene_children(schemas), show_helper=False)
        for size in sizes:
            async with HeadlessBrowser(server, *size) as browser:
                session = browser.session
                for variant, wire in (("raw rgb", "rgba"), (f"jpeg q{QUALITY}", "jpeg")):
                    case = Case("ours", variant, size, load=(load1(), 0.0))
                    timer = Timer(case, warmup)
                    for i in range(warmup + frames):
                        t0 = time.perf_counter()
                        session.update @ seed_update(schemas, i + 1)
                        try:
                            event = await session.grab_render(quality=QUALITY, downsample=1, ttl=10.0, format=wire)
                        except TimeoutError:
                            case.timeouts += 1
                            continue
                        t1 = time.perf_counter()
                        frame = Frame.from_response(event, "rgb" if wire == "rgba" else wire)
                        rgb = frame.rgb  # jpeg: cv2.imdecode + BGR->RGB; raw: flip + RGBA->RGB
                        t2 = time.perf_counter()
                        case.frame_size = (rgb.shape[1], rgb.shape[0])
                        timer.record(i, t0, t1, t2, event.value)
                    case.load = (case.load[0], load1())
                    if save_dir is not None and case.frames:
                        save_frame(save_dir, case, rgb)
                    cases.append(case)
                    print(f"  {row(case)}", flush=True)
            cases.extend(await reference(size))
    return cases


def save_frame(folder: Path, case: Case, rgb: np.ndarray) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    name = f"{case.stack}_{case.variant.split()[0]}_{case.size[0]}x{case.size[1]}.png"
    cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


# -- the reference stack (vuer's server + bundled client), in a subprocess ----------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_reference(size: tuple[int, int], frames: int, warmup: int, window_extra: tuple[int, int],
                        timeout: float, save_dir: Path | None = None) -> list[Case]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--reference-worker",
               "--port", str(port), "--sizes", f"{size[0]}x{size[1]}", "--ref-frames", str(frames),
               "--ref-warmup", str(warmup), "--window-extra", f"{window_extra[0]},{window_extra[1]}"]
    if save_dir is not None:
        command += ["--save-frames", str(save_dir)]
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGTERM)  # the worker kills its Chromium group on SIGTERM
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        case = Case("reference", f"jpeg q{QUALITY}", size, note=f"worker timed out after {timeout:.0f} s")
        print(f"  {row(case)}", flush=True)
        return [case]
    text = output.decode(errors="replace")
    results = [line[len(RESULT_PREFIX):] for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
    if not results:
        tail = "\n    ".join(text.splitlines()[-25:])
        case = Case("reference", f"jpeg q{QUALITY}", size, note=f"worker failed (exit {proc.returncode})")
        print(f"  {row(case)}\n    worker output (last lines):\n    {tail}", flush=True)
        return [case]
    cases = [Case.from_json(json.loads(r)) for r in results]
    for case in cases:
        print(f"  {row(case)}", flush=True)
    return cases


_chromium: subprocess.Popen[bytes] | None = None  # the worker's Chromium, killed on SIGTERM too


def launch_chromium(url: str, window: tuple[int, int], profile: str) -> subprocess.Popen[bytes]:
    """Chromium with HeadlessBrowser's flags, in its own process group."""
    global _chromium
    from vuer_ros.render.browser import CHROMIUM_FLAGS, find_chromium

    with open(Path(profile) / "chromium.log", "ab") as log:
        _chromium = subprocess.Popen([find_chromium(), *CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}",
                                      f"--user-data-dir={profile}", url],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
    return _chromium


def kill_chromium(proc: subprocess.Popen[bytes] | None) -> None:
    global _chromium
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(5)
    if proc is _chromium:
        _chromium = None


def _on_sigterm(signum: int, frame: Any) -> None:
    kill_chromium(_chromium)
    os._exit(143)


def reference_worker(args: argparse.Namespace) -> None:
    """In the subprocess: vuer's server on ``args.port``, its client in Chromium, the seed loop."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    size = parse_sizes(args.sizes)[0]
    extra = tuple(int(v) for v in args.window_extra.split(","))
    t_import = time.perf_counter()
    from vuer import Vuer, VuerSession
    from vuer import schemas as vschemas

    from vuer_ros.server.frames import decode_image

    import_s = time.perf_counter() - t_import
    app = Vuer(host="127.0.0.1", port=args.port)

    async def main() -> Case:
        sessions: asyncio.Queue[VuerSession] = asyncio.Queue()

        @app.spawn
        async def seed(sess: VuerSession) -> None:
            sess.set @ vschemas.DefaultScene(*seed_scene_children(vschemas), bgChildren=[vschemas.GrabRender()],
                                             show_helper=False)
            await sessions.put(sess)
            await sess.forever()

        app.start()  # inside a running loop: schedules the aiohttp server on it
        url = f"http://127.0.0.1:{args.port}/?ws=ws://127.0.0.1:{args.port}"
        window = (size[0] + extra[0], size[1] + extra[1])
        chromium: subprocess.Popen[bytes] | None = None
        profile = tempfile.mkdtemp(prefix="grab_rate-vuer-chromium-")
        case = Case("reference", f"jpeg q{QUALITY}", size)
        try:
            for attempt in range(2):
                await asyncio.sleep(0.2)
                chromium = launch_chromium(url, window, profile)
                sess = await asyncio.wait_for(sessions.get(), 60.0)
                await asyncio.sleep(1.0)  # let the scene mount (the seed loop starts at once; warm-up covers the rest)
                first = await sess.grab_render(quality=QUALITY, downsample=1, ttl=30.0)
                got = (int(first.value["width"]), int(first.value["height"]))
                if got == size or attempt == 1:
                    break
                window = (window[0] + size[0] - got[0], window[1] + size[1] - got[1])
                kill_chromium(chromium)
                chromium = None
            case.note = f"window {window[0]}x{window[1]}, vuer import {import_s:.1f} s"
            case.load = (load1(), 0.0)
            timer = Timer(case, args.ref_warmup)
            for i in range(args.ref_warmup + args.ref_frames):
                t0 = time.perf_counter()
                sess.update @ seed_update(vschemas, i + 1)
                try:
                    response = await sess.grab_render(quality=QUALITY, downsample=1, ttl=10.0)
                except TimeoutError:
                    case.timeouts += 1
                    continue
                t1 = time.perf_counter()
                rgb = decode_image(response.value["frame"])
                t2 = time.perf_counter()
                case.frame_size = (rgb.shape[1], rgb.shape[0])
                timer.record(i, t0, t1, t2, response.value)
            case.load = (case.load[0], load1())
            if args.save_frames and case.frames:
                save_frame(Path(args.save_frames), case, rgb)
            return case
        finally:
            kill_chromium(chromium)
            shutil.rmtree(profile, ignore_errors=True)

    case = asyncio.run(main())
    print(RESULT_PREFIX + json.dumps(case.to_json()), flush=True)
    os._exit(0)  # vuer's server tasks do not wind down by themselves


# -- decode cost alone ----------------------------------------------------------------------------------
def decode_costs(sizes: list[tuple[int, int]], repeat: int = 50) -> list[str]:
    """Python-side cost per frame of each decode path, on a rendered-looking image."""
    import cv2
    from PIL import Image

    from vuer_ros.server.frames import decode_image, rgba_bottom_up_to_rgb

    lines = []
    for w, h in sizes:
        yy, xx = np.mgrid[0:h, 0:w]
        image = np.dstack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) % 256)]).astype(np.uint8)
        cv2.circle(image, (w // 2, h // 2), h // 5, (255, 255, 255), -1)
        jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(QUALITY * 100)])[1].tobytes()
        rgba = np.dstack([image, np.full((h, w), 255, np.uint8)]).tobytes()

        def cost(fn: Any) -> float:
            fn()
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            return (time.perf_counter() - t) / repeat * 1e3

        raw_cv2 = cost(lambda rgba=rgba, w=w, h=h: rgba_bottom_up_to_rgb(rgba, w, h))
        raw_numpy = cost(lambda rgba=rgba, w=w, h=h: np.ascontiguousarray(
            np.frombuffer(rgba, np.uint8).reshape(h, w, 4)[::-1, :, :3]))
        jpeg_cv2 = cost(lambda jpeg=jpeg: decode_image(jpeg))
        jpeg_pil = cost(lambda jpeg=jpeg: np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")))
        lines.append(f"  {w}x{h}: raw rgba -> rgb (cv2 flip+cvtColor) {raw_cv2:.2f} ms; "
                     f"numpy slicing {raw_numpy:.2f} ms; JPEG ({len(jpeg) // 1024} KiB) cv2.imdecode "
                     f"{jpeg_cv2:.2f} ms; PIL (the seed's way) {jpeg_pil:.2f} ms")
    return lines


# -- output ----------------------------------------------------------------------------------------------
HEADER = (f"{'stack':<10} {'variant':<10} {'size':>9} {'frame':>9} {'n':>4} {'fps':>6} "
          f"{'lat med':>8} {'lat p95':>8} {'browser':>8} {'decode':>7} {'KiB':>6} {'load':>9}  note")


def row(c: Case) -> str:
    size = f"{c.size[0]}x{c.size[1]}"
    frame = f"{c.frame_size[0]}x{c.frame_size[1]}" if c.frame_size[0] else "-"
    kib = median([b / 1024 for b in c.frame_bytes]) if c.frame_bytes else float("nan")
    note = "; ".join(filter(None, [c.note, f"{c.timeouts} timeouts" if c.timeouts else ""]))
    return (f"{c.stack:<10} {c.variant:<10} {size:>9} {frame:>9} {c.frames:>4} {c.fps:>6.1f} "
            f"{median(c.latency_ms):>8.1f} {p95(c.latency_ms):>8.1f} {median(c.browser_ms):>8.1f} "
            f"{median(c.decode_ms):>7.2f} {kib:>6.0f} {c.load[0]:>4.1f}>{c.load[1]:<4.1f}  {note}")


def client_identity() -> str:
    """Which build of our client ran (it changes while the client is worked on)."""
    import hashlib

    from vuer_ros.server.static import default_client_dir

    bundle = default_client_dir() / "client.js"
    if not bundle.is_file():
        return f"{bundle} missing"
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()[:12]
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(bundle.stat().st_mtime))
    return f"{bundle} sha256 {digest}, built {built}"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        w, h = part.lower().split("x")
        sizes.append((int(w), int(h)))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=None, help="timed frames per case, ours (default 150)")
    parser.add_argument("--ref-frames", type=int, default=None, help="timed frames per case, reference (default 40)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed frames first, ours (default 10)")
    parser.add_argument("--ref-warmup", type=int, default=None, help="untimed frames first, reference (default 5)")
    parser.add_argument("--quick", action="store_true", help="short run: 30 / 10 frames, 3 / 2 warm-up")
    parser.add_argument("--sizes", default="640x480,1280x720", help="comma-separated WxH (default 640x480,1280x720)")
    parser.add_argument("--no-reference", action="store_true", help="only our stack")
    parser.add_argument("--ref-timeout", type=float, default=300.0, help="seconds for one reference case")
    parser.add_argument("--save-frames", default=None, metavar="DIR", help="save each case's last frame as PNG here")
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--window-extra", default="0,0", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    args.frames = args.frames or (30 if quick else 150)
    args.ref_frames = args.ref_frames or (10 if quick else 40)
    args.warmup = args.warmup if args.warmup is not None else (3 if quick else 10)
    args.ref_warmup = args.ref_warmup if args.ref_warmup is not None else (2 if quick else 5)
    if args.reference_worker:
        reference_worker(args)
        return

    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from vuer_ros.render import browser as browser_module

    sizes = parse_sizes(args.sizes)
    save_dir = Path(args.save_frames).resolve() if args.save_frames else None
    print(f"our client: {client_identity()}")
    print(f"grab_rate: {os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"ours {args.frames} frames (+{args.warmup} warm-up), reference {args.ref_frames} (+{args.ref_warmup}); "
          f"sequential update -> grab -> decode, one request in flight")
    print(HEADER)

    async def reference(size: tuple[int, int]) -> list[Case]:
        if args.no_reference:
            return []
        exe = browser_module.find_chromium()
        extra = browser_module._window_extra.get(exe, (0, 0))  # learnt by HeadlessBrowser from our page
        return await run_reference(size, args.ref_frames, args.ref_warmup, extra, args.ref_timeout, save_dir)

    cases = asyncio.run(run_ours(sizes, args.frames, args.warmup, reference, save_dir))

    print("\nall cases:")
    print(HEADER)
    for case in cases:
        print(row(case))
    print("\nratio ours / reference (frames per second, same run):")
    for size in sizes:
        ref = next((c for c in cases if c.stack == "reference" and c.size == size and c.frames), None)
        for case in (c for c in cases if c.stack == "ours" and c.size == size):
            if ref is None:
                print(f"  {size[0]}x{size[1]} ours {case.variant} vs reference jpeg: no reference figure")
            else:
                print(f"  {size[0]}x{size[1]} ours {case.variant:<10} / reference {ref.variant}: "
                      f"{case.fps / ref.fps:5.2f}x  ({case.fps:.1f} / {ref.fps:.1f} fps; "
                      f"median latency {median(case.latency_ms):.1f} / {median(ref.latency_ms):.1f} ms)")
    print("\nPython-side decode cost per frame (this machine, now):")
    for line in decode_costs(sizes):
        print(line)
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("columns: lat = UPDATE sent -> decoded array (ms); browser = the client's own 'delta' (ms, "
          "request received -> answer sent; vuer's meaning is its own); decode = Python decode alone (ms); "
          "KiB = median frame on the wire; load = 1-min load average before>after the case")


if __name__ == "__main__":
    main()
