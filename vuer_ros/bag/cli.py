"""``vuer-ros render-bag``: render a recorded bag into a new bag, a video, PNGs.

    vuer-ros render-bag run.mcap -o rendered.mcap --video run.mp4 --rate 10 --size 640x480
    vuer-ros render-bag run/ --config config/viewer.yaml --frames frames/ --start 5 --end 15

    vuer-ros render-bag long.mcap -o rendered.mcap --jobs 4       # 4 processes, 4 browsers

``add_arguments(parser)`` and ``run(args)`` plug into the ``vuer-ros`` command;
``python -m vuer_ros.bag ...`` runs it alone. Exit codes: 0 done, 1 rendering
failed, 2 bad input/arguments (one line on stderr says what to do), 130
stopped by Ctrl-C (the outputs hold every frame rendered so far and are
closed properly; a second Ctrl-C aborts faster, still closing them; with
``--jobs``, the bag and video end at the first tick not rendered and the PNGs
past it stay).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Any, Sequence

import yaml

if TYPE_CHECKING:
    from ..view.options import RenderOptions

PROG = "vuer-ros render-bag"


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: write WIDTHxHEIGHT, e.g. 640x480") from None


def jobs_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"--jobs {text!r}: a number of worker processes, 1 or more")
    return n


def _vec3(values: Sequence[str], flag: str) -> list[float] | None:
    if values is None:
        return None
    parts = [p for v in values for p in v.replace(",", " ").split()]
    try:
        out = [float(p) for p in parts]
    except ValueError:
        out = []
    if len(out) != 3:
        raise argparse.ArgumentTypeError(f"{flag} {' '.join(values)!r}: give x y z "
                                         f"(e.g. {flag} -3 -3 2.5 or {flag}=-3,-3,2.5)")
    return out


def _param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"-p {text!r}: write NAME=VALUE, e.g. -p render.near=0.1")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return name.strip().rstrip(":"), parsed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The render-bag flags, on ``parser`` (a subcommand's or a standalone one)."""
    parser.add_argument("input", metavar="IN",
                        help="ROS 2 bag: a folder with metadata.yaml, a .db3 file, or an MCAP file "
                             "from any writer (ros2 bag, the Foxglove SDK, ...)")
    out = parser.add_argument_group("outputs (at least one)")
    out.add_argument("-o", "--output", metavar="OUT",
                     help="new bag: the input's messages plus /vuer/image, /vuer/image/compressed, "
                          "/vuer/camera_info and the camera's TF (with --cameras: "
                          "/vuer/<name>/image, ... per camera). OUT.mcap or OUT.db3: one file; "
                          "another name: a rosbag2 folder (sqlite3, or --storage mcap)")
    out.add_argument("--video", metavar="OUT.mp4", help="H.264 MP4, one frame per tick "
                     "(with --cameras: OUT_<name>.mp4 per camera)")
    out.add_argument("--frames", metavar="DIR",
                     help="a PNG per frame (frame_NNNNNN.png) and timestamps.csv (with --cameras: "
                          "in DIR/<name>/ per camera)")
    out.add_argument("--storage", choices=("sqlite3", "mcap"),
                     help="storage of a folder output bag (default sqlite3)")
    out.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_scene_arguments(parser)
    parser.add_argument("-j", "--jobs", type=jobs_count, default=1, metavar="N",
                        help="render in N worker processes at once, each with its own browser: "
                             "the window is cut into N runs of ticks, joined in order (the same "
                             "bag, video and PNGs as one job; default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """The time, camera and scene flags (render-bag's, and render-bags' for every bag)."""
    when = parser.add_argument_group("time")
    when.add_argument("--rate", type=float, metavar="HZ",
                      help="frames per second of bag time (default: render.rate, 10)")
    when.add_argument("--start", type=float, metavar="S",
                      help="first frame at this many seconds after the bag's first message (default 0)")
    when.add_argument("--end", type=float, metavar="S",
                      help="no frame at or after this many seconds from the bag's first message "
                           "(default: the last message)")
    cam = parser.add_argument_group("camera and scene (default: the viewer node's parameters)")
    cam.add_argument("--config", metavar="YAML",
                     help="the viewer node's parameter file (ROS 2 --params-file format), so the "
                          "bag renders as the live node shows it; flags override it")
    cam.add_argument("--size", type=_size, metavar="WxH", help="image size (default 640x480)")
    cam.add_argument("--fov", type=float, metavar="DEG", help="vertical field of view (default 45, as rviz)")
    cam.add_argument("--fixed-frame", metavar="FRAME", help="frame the scene is drawn in (default map)")
    cam.add_argument("--camera-frame", metavar="FRAME",
                     help="TF frame the camera rides on, looking along its +X with +Z up "
                          "(with --optical: along +Z, an optical frame)")
    cam.add_argument("--optical", action="store_true",
                     help="--camera-frame is an optical frame (Z forward, X right, Y down)")
    cam.add_argument("--eye", nargs="+", metavar="X", help="fixed camera position in the fixed "
                     "frame: --eye -3 -3 2.5 (or --eye=-3,-3,2.5)")
    cam.add_argument("--target", nargs="+", metavar="X", help="point the fixed camera looks at")
    cam.add_argument("--target-frame", metavar="FRAME",
                     help="the fixed camera follows this TF frame's origin (rviz's Orbit view "
                          "Target Frame): --eye and --target are offsets from it, the view does "
                          "not turn with it; the camera's pose goes in the output bag's /tf")
    cam.add_argument("--camera-path", metavar="YAML",
                     help="a camera path file: keyframes of eye/target/fov in seconds from the "
                          "bag's first message, smoothly interpolated, or an orbit around a frame "
                          "(docs/render-bag.md, \"Camera paths\"); the camera's pose goes in the "
                          "output bag's /tf with each image")
    cam.add_argument("--cameras", metavar="YAML",
                     help="a file listing several cameras by name, each with its own size, fov, "
                          "placement or path (docs/parameters.md, \"Several cameras\"): each gets "
                          "/vuer/<name>/image, ... in the output bag, OUT_<name>.mp4 and DIR/<name>/")
    cam.add_argument("--topics", nargs="+", metavar="TOPIC",
                     help="marker topics to show (Marker or MarkerArray; default: the config's "
                          "marker_topics and marker_array_topics)")
    cam.add_argument("--urdf", metavar="FILE",
                     help="show this URDF as the robot model instead of the bag's "
                          "/robot_description (links follow the bag's TF)")
    cam.add_argument("--depth", action="store_true", help="also write /vuer/depth (32FC1 metres)")
    cam.add_argument("--jpeg-quality", type=int, metavar="Q",
                     help="JPEG quality of /vuer/image/compressed (default 90)")
    cam.add_argument("-p", "--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                     help="any other viewer parameter, e.g. -p render.near=0.1 -p grid=false")


def _fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return code


def options_from_args(args: argparse.Namespace) -> "RenderOptions":
    """The render's options from the scene flags (:func:`add_scene_arguments`'s) and
    ``--storage``; raises ConfigError or ArgumentTypeError with a one-line message."""
    from ..view.options import RenderOptions

    eye = _vec3(args.eye, "--eye")
    target = _vec3(args.target, "--target")
    width, height = args.size if args.size else (None, None)
    topics = [t for v in args.topics for t in v.split(",") if t] if args.topics else None
    return RenderOptions.create(
        args.config, dict(args.param), rate=args.rate, width=width, height=height,
        fov=args.fov, fixed_frame=args.fixed_frame, camera_frame=args.camera_frame,
        camera_frame_is_optical=True if args.optical else None, eye=eye, target=target,
        target_frame=args.target_frame, camera_path=args.camera_path, cameras_file=args.cameras,
        topics=topics, depth=True if args.depth else None, jpeg_quality=args.jpeg_quality,
        start=args.start, end=args.end, storage=args.storage, urdf=args.urdf)


def run(args: argparse.Namespace) -> int:
    """Run the render described by parsed ``args``; returns the exit code."""
    from .errors import BagRenderError
    from .progress import StderrProgress, log_above
    from .render import render_bag_async
    from ..config import ConfigError

    if not (args.output or args.video or args.frames):
        return _fail("nothing to write: give -o OUT (a bag), --video OUT.mp4 and/or --frames DIR")
    try:
        options = options_from_args(args)
    except (ConfigError, argparse.ArgumentTypeError) as e:
        return _fail(str(e))

    progress = StderrProgress()
    unlog = log_above(progress)
    interrupts = 0

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            nonlocal interrupts
            interrupts += 1
            progress.clear()
            if interrupts == 1:
                print(f"{PROG}: {signal.Signals(signum).name}: stopping after the current frame "
                      "(again to abort at once)", file=sys.stderr, flush=True)
            elif task is not None:
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            return await render_bag_async(
                args.input, args.output, video=args.video, frames=args.frames, options=options,
                progress=None if args.quiet else progress, should_stop=lambda: interrupts > 0,
                overwrite=args.overwrite)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def in_jobs() -> Any:
        from .parallel import render_bag_jobs

        def on_signal(signum: int, frame: Any) -> None:
            nonlocal interrupts
            interrupts += 1
            progress.clear()
            if interrupts == 1:
                print(f"{PROG}: {signal.Signals(signum).name}: stopping every worker after its "
                      "current frame (again to abort at once)", file=sys.stderr, flush=True)

        saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return render_bag_jobs(
                args.input, args.output, video=args.video, frames=args.frames, options=options,
                jobs=args.jobs, progress=None if args.quiet else progress,
                should_stop=lambda: interrupts > 0, should_abort=lambda: interrupts > 1,
                overwrite=args.overwrite)
        finally:
            for sig, old in saved.items():
                signal.signal(sig, old)

    try:
        summary = in_jobs() if args.jobs > 1 else asyncio.run(main())
    except BagRenderError as e:
        progress.clear()
        return _fail(str(e), e.exit_code)
    except (asyncio.CancelledError, KeyboardInterrupt):
        progress.clear()
        print(f"{PROG}: aborted; the outputs were closed and hold the frames written so far",
              file=sys.stderr, flush=True)
        return 130
    finally:
        unlog()
    progress.clear()
    outputs = ", ".join(summary.outputs.values())
    t0 = summary.bag_start_ns
    window = f"{(summary.start_ns - t0) / 1e9:.3f}-{(summary.end_ns - t0) / 1e9:.3f} s"
    skipped = f", {summary.skipped} ticks without a camera pose" if summary.skipped else ""
    if summary.interrupted:
        print(f"{PROG}: interrupted after {summary.frames} of {summary.total} frames{skipped}; "
              f"{outputs} are closed and readable", file=sys.stderr, flush=True)
        return 130
    size = f"{summary.width}x{summary.height}" if list(summary.cameras) in ([], [""]) else \
        "cameras " + ", ".join(f"{name} {n}" for name, n in summary.cameras.items())
    jobs = f" by {args.jobs} jobs" if args.jobs > 1 else ""
    print(f"{PROG}: {summary.frames} frames ({size} at "
          f"{summary.rate:g} Hz, bag time {window}{skipped}) in {summary.elapsed_s:.1f} s{jobs} "
          f"({summary.fps:.1f} frames/s) -> {outputs}", file=sys.stderr, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Render a recorded ROS 2 bag (TF and markers) as the vuer_ros "
                               "viewer shows it: one frame per tick of bag time, into a new bag, "
                               "an MP4 and/or PNGs.")
    add_arguments(parser)
    sys.exit(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
