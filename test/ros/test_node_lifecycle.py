"""The node as a process: clean stop on SIGTERM and Ctrl-C with nothing left
running, also when more signals arrive during the stop (Ctrl-C twice, SIGINT then
SIGTERM, the whole process group signalled as launch without a tty does; the demo
too), use_sim_time stamps, the YAML config through --params-file (a missing one
refused), the bound port read back as a parameter, runtime parameter changes,
rendering from a browser the user opened (render.headless false), and
`vuer-ros demo --duration`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ros_helpers import REPO, RosClient, ViewerProcess, process_alive, ros_env

TIMEOUT = 45.0


def call(client: RosClient, srv_type, name: str, request, timeout: float = TIMEOUT):
    cli = client.node.create_client(srv_type, name)
    try:
        if not cli.wait_for_service(timeout_sec=timeout):
            raise AssertionError(f"service {name} did not appear within {timeout} s")
        future = cli.call_async(request)
        client.wait_for(lambda: future.done(), timeout, f"an answer from {name}")
        return future.result()
    finally:
        client.node.destroy_client(cli)


def get_params(client: RosClient, names: list[str]) -> dict:
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python
    res = call(client, GetParameters, "/vuer_viewer/get_parameters", GetParameters.Request(names=names))
    return {n: parameter_value_to_python(v) for n, v in zip(names, res.values)}


def set_param(client: RosClient, name: str, value):
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter
    res = call(client, SetParameters, "/vuer_viewer/set_parameters",
               SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()]))
    return res.results[0]


def chromium_profiles(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        out += [a.decode().split("=", 1)[1] for a in args if a.startswith(b"--user-data-dir=")]
    return sorted(set(out))


@pytest.mark.parametrize("how", ["sigterm-console-script", "sigint-module"])
def test_stops_cleanly_on_signals_and_stamps_with_sim_time(tmp_path, how):
    from rosgraph_msgs.msg import Clock
    domain = random.randint(1, 101)
    env = ros_env(tmp_path / "log", domain)
    command = [str(Path(sys.prefix) / "bin" / "viewer")] if how.startswith("sigterm") else None
    if command:
        assert Path(command[0]).is_file(), "console script `viewer` missing: run scripts/setup.sh"
    viewer = ViewerProcess(env, {"port": 0, "render.width": 320, "render.height": 240,
                                 "use_sim_time": True}, command=command)
    client = None
    try:
        viewer.wait_started()
        client = RosClient(domain)
        clock_pub = client.node.create_publisher(Clock, "/clock", 10)
        client.wait_subscribers(clock_pub)
        # sim time runs from 1000 s; the images must carry it
        sim = [1000.0]

        def tick():
            sim[0] += 0.05
            clock_pub.publish(Clock(clock=_time(sim[0])))
        timer = client.node.create_timer(0.05, tick)
        im = client.image_after(time.monotonic(), timeout=60.0, min_stamp_ns=1000 * 10**9)
        assert 1000 * 10**9 <= im.stamp_ns <= int((sim[0] + 1.0) * 1e9)
        client.node.destroy_timer(timer)
        children = viewer.children()
        profiles = chromium_profiles(children)
        assert children and profiles, "no Chromium under the node"
        rc = viewer.stop(signal.SIGTERM if how.startswith("sigterm") else signal.SIGINT)
        assert rc == 0, f"exit code {rc}; log:\n{viewer.tail()}"
        deadline = time.monotonic() + 10
        while any(process_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in children if process_alive(p)], "processes left behind"
        assert not [p for p in profiles if os.path.exists(p)], "Chromium profile left behind"
        assert "Traceback" not in viewer.log, viewer.log
    finally:
        if client is not None:
            client.close()
        viewer.stop(signal.SIGKILL)


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still running after waiting up to ``timeout`` for all of them to end."""
    deadline = time.monotonic() + timeout
    while any(process_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if process_alive(p)]


@pytest.mark.parametrize("second, whole_group", [
    (signal.SIGINT, False),    # Ctrl-C twice
    (signal.SIGTERM, False),   # SIGINT, then launch's escalation to SIGTERM
    (signal.SIGINT, True),     # the terminal's SIGINT to the group, then launch forwarding one
], ids=["sigint-twice", "sigint-then-sigterm", "sigint-twice-to-the-group"])
def test_more_signals_during_the_stop_cannot_cut_it_short(tmp_path, second, whole_group):
    env = ros_env(tmp_path / "log", random.randint(1, 101))
    viewer = ViewerProcess(env, {"port": 0, "render.width": 320, "render.height": 240},
                           new_session=whole_group)
    try:
        viewer.wait_for_line(r"headless renderer ready", 90)
        children = viewer.children()
        profiles = chromium_profiles(children)
        assert profiles, "no Chromium under the node"

        def send(sig: int) -> None:
            if whole_group:
                os.killpg(viewer.proc.pid, sig)
            else:
                viewer.proc.send_signal(sig)
        send(signal.SIGINT)
        viewer.wait_for_line(r"^vuer_ros viewer: SIGINT: stopping$", TIMEOUT)
        send(second)
        rc = viewer.proc.wait(TIMEOUT)
        viewer.stop()
        assert rc == 0, f"exit code {rc}; log:\n{viewer.tail()}"
        # the second signal reached the node while it was stopping, and was let be
        assert viewer.count(rf"^vuer_ros viewer: {signal.Signals(second).name} while stopping "
                            r"\(after SIGINT\): finishing the cleanup first$") == 1, viewer.tail()
        assert not wait_gone(children), "processes left behind"
        assert not [p for p in profiles if os.path.exists(p)], "Chromium profile left behind"
        assert "Traceback" not in viewer.log and "KeyboardInterrupt" not in viewer.log, viewer.log
    finally:
        viewer.stop(signal.SIGKILL)


def test_a_missing_params_file_is_refused_before_anything_starts(tmp_path):
    env = ros_env(tmp_path / "log", random.randint(1, 101))
    missing = tmp_path / "nowhere.yaml"
    viewer = ViewerProcess(env, {"port": 0}, extra_args=["--params-file", str(missing)])
    try:
        rc = viewer.proc.wait(TIMEOUT)
        viewer.stop()
        assert rc == 2, viewer.log
        assert viewer.lines == [f"vuer_ros viewer: --params-file {missing}: no such file; give "
                                "the path of a parameters YAML (e.g. the package's "
                                "config/viewer.yaml)"], viewer.log
    finally:
        viewer.stop(signal.SIGKILL)


def test_the_demo_stops_cleanly_on_sigint_twice(tmp_path):
    env = ros_env(tmp_path / "log", random.randint(1, 101))
    # ViewerProcess adds --ros-args: after `--` it goes to the demo's ROS arguments
    demo = ViewerProcess(env, command=[sys.executable, "-m", "vuer_ros.cli", "demo", "--port", "0",
                                       "--width", "320", "--height", "240", "--"])
    try:
        demo.wait_for_line(r"headless renderer ready", 90)
        children = demo.children()
        profiles = chromium_profiles(children)
        assert profiles, "no Chromium under the demo"
        demo.proc.send_signal(signal.SIGINT)
        demo.wait_for_line(r"^vuer-ros demo: SIGINT: stopping$", TIMEOUT)
        demo.proc.send_signal(signal.SIGINT)
        rc = demo.proc.wait(TIMEOUT)
        demo.stop()
        assert rc == 0, f"exit code {rc}; log:\n{demo.tail()}"
        assert demo.count(r"^vuer-ros demo: SIGINT while stopping") == 1, demo.tail()
        demo.wait_for_line(r"vuer-ros demo: stopped after .* images published", 1)
        assert not wait_gone(children), "processes left behind"
        assert not [p for p in profiles if os.path.exists(p)], "Chromium profile left behind"
        assert "Traceback" not in demo.log, demo.log
    finally:
        demo.stop(signal.SIGKILL)


def _time(seconds: float):
    from builtin_interfaces.msg import Time
    ns = int(round(seconds * 1e9))
    return Time(sec=ns // 10**9, nanosec=ns % 10**9)


def test_params_file_port_readback_runtime_params_and_a_user_browser(tmp_path):
    """--params-file config/viewer.yaml (what the launch file loads) with port:=0 and
    render.headless:=false: the node warns once while no browser is connected, then
    renders from the browser that connects (here a Chromium we start, as a user would)."""
    from render_user_browser import UserBrowser
    domain = random.randint(1, 101)
    env = ros_env(tmp_path / "log", domain)
    viewer = ViewerProcess(env, {},
                           extra_args=["--params-file", str(REPO / "config" / "viewer.yaml"),
                                       "-p", "port:=0", "-p", "render.headless:=false",
                                       "-p", "render.width:=320", "-p", "render.height:=240"])
    client = browser = None
    try:
        port = viewer.wait_started()
        assert port > 0
        client = RosClient(domain)
        got = get_params(client, ["port", "fixed_frame", "render.rate", "marker_topics",
                                  "mesh_roots", "render.width", "render.headless"])
        assert got == {"port": port, "fixed_frame": "map", "render.rate": 10.0,
                       "marker_topics": ["/visualization_marker"], "mesh_roots": [],
                       "render.width": 320, "render.headless": False}
        # runtime changes: dynamic ones apply, read-only and out-of-range ones are refused
        assert not set_param(client, "render.width", 800).successful
        assert not set_param(client, "port", 9999).successful
        assert not set_param(client, "render.rate", -1.0).successful
        assert not set_param(client, "render.eye", [0.0, 0.0, 0.0]).successful  # eye == target
        assert set_param(client, "render.eye", [2.0, 1.0, 3.0]).successful
        client.wait_for(lambda: (t := client.static_tf.get("vuer_camera_optical")) is not None and
                        [t.transform.translation.x, t.transform.translation.y,
                         t.transform.translation.z] == [2.0, 1.0, 3.0], TIMEOUT,
                        "the camera's /tf_static at the new eye")
        # nobody is connected and we want images: one warning, no images
        viewer.wait_for_line(r"render.headless is false and no browser is connected", TIMEOUT)
        time.sleep(1.0)
        assert viewer.count(r"no browser is connected") == 1
        assert client.counts["/vuer/image"] == 0
        # a browser opens the page: images come, rendered at the node's size and camera
        browser = UserBrowser(f"http://127.0.0.1:{port}/", tmp_path / "profile")
        im = client.image_after(0.0, timeout=60.0)
        assert (im.msg.width, im.msg.height) == (320, 240)
        assert viewer.count(r"no browser is connected") == 1
    finally:
        if browser is not None:
            browser.close()
        if client is not None:
            client.close()
        assert viewer.stop() == 0, viewer.tail()


def test_demo_runs_for_its_duration_and_publishes_images(tmp_path):
    domain = random.randint(1, 101)
    env = ros_env(tmp_path / "log", domain)
    client = RosClient(domain)
    proc = subprocess.Popen([sys.executable, "-m", "vuer_ros.cli", "demo", "--duration", "10",
                             "--port", "0", "--width", "320", "--height", "240"],
                            env=env, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        client_images = client.counts["/vuer/image"]
        client.close()
    assert proc.returncode == 0, out
    assert "vuer-ros demo: open http://127.0.0.1:" in out, out
    assert "images/s (target 10 Hz)" in out, out
    last = [line for line in out.splitlines() if "images published" in line][-1]
    assert int(last.split(";")[1].split()[0]) > 0, last
    assert client_images > 0, "no demo image reached a subscriber in another process"
    assert "Traceback" not in out, out
