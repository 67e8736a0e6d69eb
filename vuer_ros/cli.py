"""The ``vuer-ros`` command.

    vuer-ros viewer [--ros-args ...]     the viewer node (same as `ros2 run vuer_ros viewer`)
    vuer-ros demo [--duration S] ...     the viewer with a built-in moving robot, a headless
                                         renderer and images published; prints the browser
                                         URL and the achieved image rate
    vuer-ros render-bag IN -o OUT ...    render a recorded bag into a new bag, an MP4 and/or
                                         PNGs (vuer_ros/bag/cli.py; no ROS needed)
    vuer-ros render-bags IN... -o DIR    render many bags, in parallel here or on a Ray
                                         cluster (vuer_ros/bag/batch_cli.py)

Also runnable as ``python -m vuer_ros.cli ...``. ROS is imported only by the
subcommand that needs it, so ``vuer-ros --help`` works anywhere.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vuer-ros",
        description="ROS 2 TF and markers in a browser 3D view, rendered back as "
                    "sensor_msgs/Image.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("viewer", help="run the viewer node (ROS arguments after --ros-args)",
                   description="Run the viewer node. Everything after the command goes to "
                               "rclpy, e.g. `vuer-ros viewer --ros-args -p port:=0 "
                               "--params-file config/viewer.yaml`.",
                   add_help=False)
    demo = sub.add_parser(
        "demo", help="the viewer with a built-in moving robot and a headless renderer",
        description="Run the viewer node and a demo robot (a TF tree of a few links and "
                    "markers of every kind) in one process, render it headless and publish "
                    "the images. Prints the browser URL and the achieved image rate.")
    demo.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                      help="exit cleanly after this many seconds (default: run until Ctrl-C)")
    demo.add_argument("--port", type=int, default=8012,
                      help="browser port (0: any free port; default 8012)")
    demo.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    demo.add_argument("--rate", type=float, default=10.0, help="image rate in Hz (default 10)")
    demo.add_argument("--width", type=int, default=640, help="image width (default 640)")
    demo.add_argument("--height", type=int, default=480, help="image height (default 480)")
    demo.add_argument("--no-headless", action="store_true",
                      help="do not start a headless renderer: images come from the browser "
                           "you open at the printed URL")
    demo.add_argument("--depth", action="store_true", help="also publish vuer/depth")
    demo.add_argument("ros_args", nargs=argparse.REMAINDER,
                      help="--ros-args ... passed to rclpy (remappings, more -p overrides)")
    from .bag.cli import add_arguments as add_render_bag_arguments   # no ROS, no browser

    add_render_bag_arguments(sub.add_parser(
        "render-bag", help="render a recorded bag into a new bag, an MP4 and/or PNGs",
        description="Render a recorded ROS 2 bag (TF and markers) as the viewer shows it: one "
                    "frame per tick of bag time, into a new bag, an MP4 and/or PNGs."))
    from .bag.batch_cli import add_arguments as add_render_bags_arguments

    add_render_bags_arguments(sub.add_parser(
        "render-bags", help="render many bags into a folder, in parallel (local processes or Ray)",
        description="Render many recorded ROS 2 bags as render-bag renders each, in parallel "
                    "on this machine or a Ray cluster, into one folder with a manifest."))
    return parser


def _viewer_help() -> str:
    from .params import PARAMS

    lines = ["usage: vuer-ros viewer [--ros-args -p NAME:=VALUE ... --params-file FILE ...]",
             "",
             "The vuer_ros viewer node (also `ros2 run vuer_ros viewer`). Parameters",
             "(docs/parameters.md has the full table):", ""]
    for p in PARAMS:
        lines.append(f"  {p.name} ({p.type_name}, default {p.default!r}"
                     f"{'' if p.dynamic else ', read at start'})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "viewer":
        before_ros = argv[1:argv.index("--ros-args")] if "--ros-args" in argv else argv[1:]
        if "-h" in before_ros or "--help" in before_ros:
            print(_viewer_help())
            sys.exit(0)
        from .ros.viewer_node import run

        sys.exit(run(["vuer-ros-viewer", *argv[1:]]))
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .ros.demo_node import run_demo

        ros_args = [a for a in args.ros_args if a != "--"]
        sys.exit(run_demo(duration=args.duration, port=args.port, host=args.host,
                          rate=args.rate, width=args.width, height=args.height,
                          headless=not args.no_headless, depth=args.depth, ros_args=ros_args))
    if args.command == "render-bag":
        from .bag.cli import run as run_render_bag

        sys.exit(run_render_bag(args))
    if args.command == "render-bags":
        from .bag.batch_cli import run as run_render_bags

        sys.exit(run_render_bags(args))
    parser.print_help()
    sys.exit(2)


if __name__ == "__main__":
    main()
