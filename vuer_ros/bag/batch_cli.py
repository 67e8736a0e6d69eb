"""``vuer-ros render-bags``: render many bags into one output folder, in parallel.

    vuer-ros render-bags fleet/ -o rendered/ --video --fixed-frame odom --jobs 8
    vuer-ros render-bags @bags.txt 'logs/**/*.mcap' -o rendered/ --ray-address auto
    vuer-ros render-bags long_run.mcap -o rendered/ --segments 16 --ray-address 10.0.0.5:6379

Each bag is rendered as ``render-bag`` renders it alone (the same scene flags apply
to every bag) into ``OUTDIR/NAME.mcap`` (``--no-bag``: none), ``OUTDIR/NAME.mp4``
(``--video``) and ``OUTDIR/NAME.frames/`` (``--frames``); ``OUTDIR/manifest.json``
lists every bag's outputs, frame counts and failures (vuer_ros/bag/batch.py).
Local worker processes do the work (``--jobs``), or a Ray cluster
(``--ray-address``). Exit codes: 0 every bag rendered (or complete already), 1
some bags failed (each named with its error), 2 bad arguments or inputs, 130
stopped by Ctrl-C (running bags stop after their current frame with readable
outputs; a second Ctrl-C cancels them at once).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from .cli import add_scene_arguments, jobs_count, options_from_args

PROG = "vuer-ros render-bags"
MAX_FAILURES_LISTED = 20


def default_jobs() -> int:
    """Worker processes by default: one per core. Renders sharing a machine are bound by
    its CPU (about 23 ms a frame at 640x480 with a bag and a video, Chromium's software
    rasteriser about half of it: bench/bag_many.py), and one render alone also by the
    grab's round trip, so a task per core keeps every core busy."""
    return max(1, os.cpu_count() or 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="bags (rosbag2 folders, .mcap or .db3 files), folders to search "
                             "for bags, quoted glob patterns ('logs/**/*.mcap'), or list files "
                             "(@bags.txt: one input a line)")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUTDIR",
                        help="folder of the outputs, named after each bag's path (relative to "
                             "the folder the bags share), and manifest.json")
    out = parser.add_argument_group("outputs of each bag")
    out.add_argument("--no-bag", action="store_true",
                     help="no output bag (by default NAME.mcap: the input's messages plus the "
                          "rendered topics, as render-bag -o writes it)")
    out.add_argument("--video", action="store_true", help="NAME.mp4, one frame per tick")
    out.add_argument("--frames", action="store_true",
                     help="NAME.frames/: a PNG per frame and timestamps.csv")
    out.add_argument("--storage", choices=("mcap", "sqlite3"),
                     help="output bag storage: NAME.mcap (default) or NAME.db3")
    out.add_argument("--overwrite", action="store_true",
                     help="replace outputs in OUTDIR that no earlier run (manifest.json) wrote")
    out.add_argument("--retry-failed", action="store_true",
                     help="render again the bags that failed on their input last time (by "
                          "default a rerun skips them, and the complete ones)")
    work = parser.add_argument_group("where the work runs")
    work.add_argument("-j", "--jobs", type=jobs_count, default=None, metavar="N",
                      help="local worker processes, each with its own browser (default: one "
                           f"per core, here {default_jobs()})")
    work.add_argument("--segments", type=jobs_count, default=1, metavar="N",
                      help="cut each bag's window into N segments, each a task, joined in order "
                           "(for a few long bags on many workers; default 1: a task per bag)")
    work.add_argument("--ray-address", metavar="ADDR",
                      help="run the tasks on Ray: a cluster's address (host:port), 'auto' (the "
                           "cluster this machine belongs to) or 'local' (a Ray started here); "
                           "every node needs vuer_ros set up and OUTDIR and the inputs at the "
                           "same paths (docs/render-bag.md)")
    work.add_argument("--cpus-per-task", type=float, default=1.0, metavar="N",
                      help="CPUs a Ray task reserves (default 1: a task per CPU keeps every "
                           "CPU busy)")
    add_scene_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def _fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    return code


def run(args: argparse.Namespace) -> int:
    """Run the renders described by parsed ``args``; returns the exit code."""
    from ..config import ConfigError
    from ..view.errors import RenderError
    from .batch import OutputKinds, render_bags
    from .executors import RAY_MISSING, LocalPool, Pool, RayPool
    from .inputs import find_bags
    from .progress import StderrProgress, format_batch, log_above

    kinds = OutputKinds(bag=not args.no_bag, video=args.video, frames=args.frames,
                        storage=args.storage or "mcap")
    if not (kinds.bag or kinds.video or kinds.frames):
        return _fail("nothing to write: --no-bag needs --video and/or --frames")
    if args.ray_address is not None and args.jobs is not None:
        return _fail("--jobs is for local workers; on Ray, --cpus-per-task sets how many tasks "
                     "run at once")
    outdir = Path(args.output_dir)
    try:
        options = options_from_args(args)
        bags = find_bags(args.inputs, exclude=outdir)
    except (ConfigError, argparse.ArgumentTypeError) as e:
        return _fail(str(e))
    except RenderError as e:
        return _fail(str(e), e.exit_code)

    if args.ray_address is not None:
        try:
            import ray  # noqa: F401
        except ImportError:
            return _fail(RAY_MISSING)

    def make_pool() -> Pool:
        if args.ray_address is not None:
            return RayPool(args.ray_address, args.cpus_per_task)
        return LocalPool(min(args.jobs or default_jobs(), len(bags) * args.segments))

    progress = StderrProgress(format=format_batch)
    unlog = log_above(progress)
    interrupts = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupts
        interrupts += 1
        progress.clear()
        if interrupts == 1:
            print(f"{PROG}: {signal.Signals(signum).name}: stopping every bag after its current "
                  "frame (again to stop at once)", file=sys.stderr, flush=True)

    def log(name: str, level: int, message: str) -> None:
        logging.getLogger("vuer_ros.bag").log(level, "%s: %s", name, message)

    saved = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = render_bags(
            bags, outdir, options, kinds, pool=make_pool, segments=args.segments,
            retry_failed=args.retry_failed, overwrite=args.overwrite, inputs=list(args.inputs),
            progress=None if args.quiet else progress, should_stop=lambda: interrupts > 0,
            should_abort=lambda: interrupts > 1, log=log)
    except RenderError as e:
        progress.clear()
        return _fail(str(e), e.exit_code)
    except Exception as e:   # the pool could not start (Ray unreachable, ...)
        progress.clear()
        return _fail(f"{type(e).__name__}: {' '.join(str(e).split())[:300]}", 1)
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)
        unlog()
    progress.clear()
    skipped = []
    if summary.complete:
        skipped.append(f"{summary.complete} complete already")
    if summary.failed_before:
        skipped.append(f"{summary.failed_before} failed before on the same input "
                       "(--retry-failed to try again)")
    rendered = (f"{summary.rendered} rendered ({summary.frames} frames in "
                f"{summary.elapsed_s:.1f} s, {summary.fps:.1f} frames/s)")
    parts = [rendered, *skipped]
    if summary.interrupted:
        parts.append(f"{summary.interrupted} stopped")
    if summary.failed:
        parts.append(f"{len(summary.failed)} failed")
    print(f"{PROG}: {summary.bags} bags: {', '.join(parts)} -> {outdir} (manifest "
          f"{summary.manifest})", file=sys.stderr, flush=True)
    for entry in summary.failed[:MAX_FAILURES_LISTED]:
        print(f"{PROG}: failed: {entry.name} ({entry.input}): {entry.error}", file=sys.stderr,
              flush=True)
    if len(summary.failed) > MAX_FAILURES_LISTED:
        print(f"{PROG}: ... and {len(summary.failed) - MAX_FAILURES_LISTED} more failures in "
              f"{summary.manifest}", file=sys.stderr, flush=True)
    if interrupts or summary.interrupted:
        return 130
    return 1 if summary.failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Render many recorded ROS 2 bags as the vuer_ros viewer shows "
                               "them, in parallel on this machine or a Ray cluster.")
    add_arguments(parser)
    sys.exit(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
