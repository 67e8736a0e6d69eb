"""Serve the client and an empty (or demo) scene: ``python -m vuer_ros.server``.

    python -m vuer_ros.server --port 8012 --mount meshes=/path/to/meshes --demo

Handy to try the browser client by hand; prints the URL to open.
"""

from __future__ import annotations

import argparse
import logging

from .vuer import Vuer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vuer_ros.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default 127.0.0.1; any other needs TLS and a token)")
    parser.add_argument("--port", type=int, default=8012, help="port (0: any free port)")
    parser.add_argument("--client-dir", default=None, help="built client (default: vuer_ros/client_build)")
    parser.add_argument("--mount", action="append", default=[], metavar="NAME=DIR",
                        help="serve DIR at /files/NAME/ (repeatable)")
    parser.add_argument("--token", default=None, help="access token (default: random off loopback)")
    parser.add_argument("--cert", default=None, help="TLS certificate PEM file (with --key)")
    parser.add_argument("--key", default=None, help="its private key PEM file")
    parser.add_argument("--demo", action="store_true", help="start with a small demo scene")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mounts = dict(m.split("=", 1) for m in args.mount)
    app = Vuer(args.host, args.port, client_dir=args.client_dir, mounts=mounts, token=args.token,
               cert=args.cert, key=args.key)
    if args.demo:
        from ..schemas import Box, DefaultScene, Sphere

        app.set @ DefaultScene(
            Box(key="box", args=[0.4, 0.4, 0.4], position=[0, 0, 0.2], material={"color": "red"}),
            Sphere(key="ball", args=[0.15, 32, 16], position=[0.6, 0, 0.15], material={"color": "#3070ff"}),
        )
    app.run()


if __name__ == "__main__":
    main()
