"""Idle CPU of the server with connected, idle clients (a benchmark, not a test).

    .venv/bin/python bench/idle_cpu.py [--clients 3] [--seconds 5]

Starts ``python -m vuer_ros.server --port 0 --demo`` in a subprocess, connects
N websocket clients that send INIT and then stay idle, and prints the server
process's CPU use over the window (the reference vuer server polls with
sleep(0): about half a core per idle client).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time

import msgpack
import psutil
from websockets.asyncio.client import connect


async def measure(url: str, pid: int, clients: int, seconds: float) -> float:
    ws_url = "ws" + url[4:]
    conns = []
    for i in range(clients):
        ws = await connect(ws_url, compression=None, max_size=None)
        await ws.send(msgpack.packb({"ts": 0, "etype": "INIT", "value": {"id": f"idle-{i}"}}))
        await ws.recv()  # the SET
        conns.append(ws)
    await asyncio.sleep(1.0)  # settle
    proc = psutil.Process(pid)
    before, start = proc.cpu_times(), time.monotonic()
    await asyncio.sleep(seconds)
    after, wall = proc.cpu_times(), time.monotonic() - start
    for ws in conns:
        await ws.close()
    return ((after.user + after.system) - (before.user + before.system)) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "vuer_ros.server", "--port", "0", "--demo"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"http://\S+", line)
        if not match:
            sys.exit(f"server did not print its URL: {line!r}")
        cpu = asyncio.run(measure(match.group(0), server.pid, args.clients, args.seconds))
        print(f"server CPU with {args.clients} idle clients over {args.seconds:.0f} s: "
              f"{100 * cpu:.2f} % of one core")
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    main()
