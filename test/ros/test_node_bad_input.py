"""Bad input never takes the node down: each bad message is logged once (with
its key) and skipped, while images keep coming and a good marker still shows.
Includes a 10-million-point marker (refused by max_marker_points before its
points are decoded), a TF loop, odd frame ids, and a Chromium killed while the
node grabs from it (restarted; publishing resumes).

Each bad message is published several times; a good marker published after
them on the same topic (so after them in order) proves they were processed.
"""

from __future__ import annotations

import math
import os
import re
import signal
import struct
import time

import numpy as np
import pytest
from ros_helpers import (
    box_points,
    centroid,
    colour_mask,
    hull_mask,
    marker,
    process_alive,
    tf,
    transform_points,
)

CUBE, SPHERE, POINTS, MESH = 1, 2, 8, 10
ARROW = 0
TIMEOUT = 30.0
REPEATS = 3
GREEN, RED, BLUE, YELLOW = (0, 1, 0, 1), (1, 0, 0, 1), (0, 0, 1, 1), (1, 1, 0, 1)


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    for pub in (c.marker_pub, c.tf_pub, c.tf_static_pub, c.array_pub):
        c.wait_subscribers(pub)
    c.image_after(0.0, timeout=60.0)
    return c


_good_id = iter(range(1, 1_000_000))


def good_marker_still_shows(client, colour=GREEN) -> None:
    """Publish a fresh good marker (after the bad ones, on the same topic) and see it;
    also proves images keep coming."""
    t = time.monotonic()
    n_before = client.counts["/vuer/image"]
    gid = next(_good_id)
    client.marker_pub.publish(marker("good", gid, CUBE, xyz=(-0.6, 0.6, 0), scale=(0.25,) * 3,
                                     rgba=colour))
    client.wait_image(lambda im: colour_mask(im.rgb, colour).sum() > 40, timeout=TIMEOUT, after=t,
                      what="a good marker published after the bad ones")
    client.marker_pub.publish(marker("good", gid, CUBE, action=2))
    client.wait_image(lambda im: colour_mask(im.rgb, colour).sum() < 3, timeout=TIMEOUT,
                      after=time.monotonic(), what="the good marker removed again")
    assert client.counts["/vuer/image"] > n_before


def logged_once(node, pattern: str) -> None:
    node.viewer.wait_for_line(pattern, timeout=TIMEOUT)
    n = node.viewer.count(pattern)
    assert n == 1, f"{pattern!r} logged {n} times; log tail:\n{node.viewer.tail(30)}"


def publish_repeatedly(client, msg) -> None:
    for _ in range(REPEATS):
        client.marker_pub.publish(msg)
        time.sleep(0.05)


@pytest.mark.parametrize("field,value", [
    ("position", (math.nan, 0.0, 0.0)),
    ("position", (0.0, math.inf, 0.0)),
    ("orientation", (0.0, 0.0, -math.inf, 1.0)),
], ids=["nan-position", "inf-position", "inf-orientation"])
def test_non_finite_pose_is_logged_once_and_skipped(node, client, field, value):
    ns = f"bad_{field}_{'nan' if any(map(math.isnan, value)) else 'inf'}"
    m = marker(ns, 1, CUBE, scale=(0.3,) * 3, rgba=RED)
    target = m.pose.position if field == "position" else m.pose.orientation
    for name, v in zip("xyzw", value):
        setattr(target, name, v)
    publish_repeatedly(client, m)
    good_marker_still_shows(client)
    logged_once(node, rf"marker ns={ns} id=1: pose has a non-finite value")
    assert colour_mask(client.latest().rgb, RED).sum() == 0


def test_zero_quaternion_is_identity(node, client):
    """rviz: an all-zero quaternion is the identity (warned once); the marker shows."""
    cam = client.camera()
    t = time.monotonic()
    # an arrow along +X: with the identity it points along the map's X axis
    publish_repeatedly(client, marker("zero_q", 1, CUBE, xyz=(0.4, 0.0, 0.0), q=(0, 0, 0, 0),
                                      scale=(0.6, 0.1, 0.1), rgba=YELLOW))
    expected = centroid(hull_mask(cam, [transform_points(box_points((0.6, 0.1, 0.1)), (0.4, 0, 0))]))
    client.wait_image(lambda im: (m := colour_mask(im.rgb, YELLOW)).sum() > 40 and math.hypot(
        *np.subtract(centroid(m), expected)) <= 2.0, timeout=TIMEOUT, after=t,
        what="the zero-quaternion box drawn with the identity")
    logged_once(node, r"marker ns=zero_q id=1: orientation is all zeros; using the identity")
    client.marker_pub.publish(marker("zero_q", 1, CUBE, action=2))


def test_non_unit_quaternion_is_normalised(node, client):
    cam = client.camera()
    t = time.monotonic()
    half = math.pi / 4   # 90 degrees about Z, scaled by 3: the long side turns onto Y
    q = (0.0, 0.0, 3 * math.sin(half), 3 * math.cos(half))
    publish_repeatedly(client, marker("long_q", 1, CUBE, xyz=(0.0, 0.4, 0.0), q=q,
                                      scale=(0.6, 0.1, 0.1), rgba=BLUE))
    unit = (0.0, 0.0, math.sin(half), math.cos(half))
    expected = hull_mask(cam, [transform_points(box_points((0.6, 0.1, 0.1)), (0, 0.4, 0), unit)])
    client.wait_image(lambda im: (m := colour_mask(im.rgb, BLUE)).sum() > 40 and math.hypot(
        *np.subtract(centroid(m), centroid(expected))) <= 2.0 and
        0.6 < m.sum() / expected.sum() < 1.5, timeout=TIMEOUT, after=t,
        what="the box turned by the normalised quaternion")
    logged_once(node, r"marker ns=long_q id=1: orientation has length 3, not 1; normalised")
    client.marker_pub.publish(marker("long_q", 1, CUBE, action=2))


def test_colour_count_mismatch(node, client):
    pts = [(0.1 * i, 0, 0) for i in range(4)]
    publish_repeatedly(client, marker("bad_colors", 2, POINTS, points=pts, scale=(0.05, 0.05, 0),
                                      colors=[(1, 0, 0, 1)] * 3))
    good_marker_still_shows(client)
    logged_once(node, r"marker ns=bad_colors id=2: colors has 3 entries for 4 points")


def test_unknown_type(node, client):
    publish_repeatedly(client, marker("bad_type", 3, 42, scale=(0.3,) * 3))
    good_marker_still_shows(client)
    logged_once(node, r"marker ns=bad_type id=3: unknown type 42")


def test_ten_million_points_refused_by_the_limit(node, client):
    """240 MB of points on the wire: refused by its point count before decoding."""
    from rclpy.serialization import serialize_message
    sentinel = 1.2345e-300
    raw = serialize_message(marker("huge", 5, POINTS, points=[(sentinel, 0, 0)], scale=(0.01, 0.01, 0)))
    idx = raw.find(struct.pack("<d", sentinel))
    count_at = idx - 4 if raw[idx - 4:idx] == b"\x01\0\0\0" else idx - 8
    assert raw[count_at:count_at + 4] == b"\x01\0\0\0"
    n = 10_000_000
    big = raw[:count_at] + struct.pack("<I", n) + raw[count_at + 4:idx] + bytes(24 * n) + raw[idx + 24:]
    client.marker_pub.publish(big)   # rclpy publishes serialized bytes as they are
    del big
    logged_once(node, r"marker ns=huge id=5: POINTS has 10000000 points, more than the limit "
                      r"of 1000000")
    good_marker_still_shows(client)


@pytest.mark.parametrize("uri", [
    "file://{mesh_dir}/missing.stl",
    "package://vuer_test_meshes/meshes/missing.stl",
    "package://no_such_package/meshes/cube.stl",
    "file:///etc/passwd.stl",
], ids=["missing-file", "missing-in-package", "unknown-package", "outside-roots"])
def test_mesh_that_cannot_be_served(node, client, uri):
    uri = uri.format(mesh_dir=node.mesh_dir)
    ns = "bad_mesh_" + re.sub(r"\W", "_", uri)[-20:]
    publish_repeatedly(client, marker(ns, 4, MESH, scale=(1, 1, 1), rgba=RED, mesh_resource=uri))
    good_marker_still_shows(client)
    logged_once(node, rf"marker ns={ns} id=4: cannot load mesh_resource '{re.escape(uri)}'")


def test_package_mesh_is_served_from_the_ament_index(node, client):
    t = time.monotonic()
    client.marker_pub.publish(marker("pkg_mesh", 1, MESH, scale=(0.3,) * 3, rgba=BLUE,
                                     mesh_resource="package://vuer_test_meshes/meshes/cube.stl"))
    client.wait_image(lambda im: colour_mask(im.rgb, BLUE).sum() > 100, timeout=TIMEOUT, after=t,
                      what="the package:// mesh")
    client.marker_pub.publish(marker("pkg_mesh", 1, MESH, action=2))


def test_tf_loop_is_refused_once(node, client):
    for _ in range(REPEATS):
        client.publish_tf(tf("loop_a", "loop_b", stamp=client.now()),
                          tf("loop_b", "loop_a", stamp=client.now()))
        time.sleep(0.05)
    logged_once(node, r"tf: refusing transform 'loop_b' -> 'loop_a': it would close a loop")
    good_marker_still_shows(client)


def test_frame_ids_with_odd_characters_work(node, client):
    """Frame ids and namespaces are escaped in scene keys: any string works."""
    cam = client.camera()
    frame = "odd frame:#1/ü%20\"x\""
    client.publish_tf(tf("map", frame, (0.5, -0.5, 0.0), stamp=client.now()))
    t = time.monotonic()
    client.marker_pub.publish(marker("odd ns:#%", 1, CUBE, frame=frame, scale=(0.25,) * 3,
                                     rgba=YELLOW, frame_locked=True))
    expected = centroid(hull_mask(cam, [box_points((0.25,) * 3) + [0.5, -0.5, 0.0]]))
    client.wait_image(lambda im: (m := colour_mask(im.rgb, YELLOW)).sum() > 40 and math.hypot(
        *np.subtract(centroid(m), expected)) <= 2.0, timeout=TIMEOUT, after=t,
        what="the marker in the oddly named frame")
    client.marker_pub.publish(marker("odd ns:#%", 1, CUBE, action=3))
    good_marker_still_shows(client)


def test_marker_in_a_frame_that_never_appears_is_reported_once(node, client):
    publish_repeatedly(client, marker("lost", 1, CUBE, frame="no_such_frame", frame_locked=True,
                                      scale=(0.3,) * 3, rgba=RED))
    good_marker_still_shows(client)
    logged_once(node, r"frame 'no_such_frame' does not exist in TF")


def test_malformed_cdr_is_logged_and_skipped(node, client):
    for _ in range(REPEATS):
        client.marker_pub.publish(b"\x00\x01\x00\x00" + b"\x07" * 50)
    good_marker_still_shows(client)
    logged_once(node, r"/visualization_marker: cannot decode a Marker of \d+ bytes")


def test_chromium_killed_mid_grab_is_restarted(node, client):
    chromium = [pid for pid in node.viewer.children()
                if "chromium" in _cmdline(pid) and "--type=" not in _cmdline(pid)]
    assert chromium, "no Chromium under the node"
    before = node.viewer.count(r"headless Chromium: process exited")
    for pid in chromium:
        os.kill(pid, signal.SIGKILL)
    node.viewer.wait_for_line(r"headless Chromium: process exited", timeout=TIMEOUT)
    assert node.viewer.count(r"headless Chromium: process exited") == before + 1
    t = time.monotonic()
    client.image_after(t, timeout=60.0)   # publishing resumes
    assert not any(process_alive(p) for p in chromium)
    good_marker_still_shows(client)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
