"""The real node shows maps: an OccupancyGrid published transient-local (as map_server
does) in frame ``odom`` appears in /vuer/image with its corner cells where the pinhole
model from /vuer/camera_info and the camera's /tf_static put them (TF map -> odom;
centroids within 2 px); moving ``odom`` moves the map; an OccupancyGridUpdate on
``/map_updates`` changes exactly its cells. Bad maps and updates are each logged once
with the topic and the field, and skipped, while images and the good map keep coming.

``/map`` is a configured Map display (alpha 1: the palette's colours as they are);
``/bad_map`` is found in the graph (displays.auto)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from ros_helpers import tf

from vuer_ros.scene.map_palettes import palette

NODE_PARAMS = {"displays.floor.type": "Map", "displays.floor.topic": "/map",
               "displays.floor.alpha": 1.0}
TIMEOUT = 30.0
REPEATS = 3
RES, CW, CH = 0.15, 10, 8
ORIGIN = (-0.9, -0.6, 0.0)
CORNERS = {(0, 0): 101, (CW - 1, 0): -128, (0, CH - 1): -2, (CW - 1, CH - 1): -1}
COLOURS = palette("map")


def grid_msg(frame: str = "odom", width: int = CW, height: int = CH, res: float = RES,
             cells: np.ndarray | None = None):
    from nav_msgs.msg import OccupancyGrid
    m = OccupancyGrid()
    m.header.frame_id = frame
    m.info.resolution = float(res)
    m.info.width, m.info.height = int(width), int(height)
    m.info.origin.position.x, m.info.origin.position.y = ORIGIN[0], ORIGIN[1]
    m.info.origin.orientation.w = 1.0
    if cells is None:
        cells = np.zeros((CH, CW), np.int8)
        for (i, j), v in CORNERS.items():
            cells[j, i] = v
    m.data = cells.astype(np.int8).reshape(-1).tolist()
    return m


def update_msg(x: int, y: int, w: int, h: int, value: int, n: int | None = None):
    from map_msgs.msg import OccupancyGridUpdate
    u = OccupancyGridUpdate()
    u.header.frame_id = "odom"
    u.x, u.y, u.width, u.height = x, y, w, h
    u.data = [value] * (w * h if n is None else n)
    return u


class Maps:
    def __init__(self, client) -> None:
        from map_msgs.msg import OccupancyGridUpdate
        from nav_msgs.msg import OccupancyGrid
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        node = client.node
        self.map = node.create_publisher(OccupancyGrid, "/map", latched)
        self.updates = node.create_publisher(OccupancyGridUpdate, "/map_updates", 5)
        self.bad = node.create_publisher(OccupancyGrid, "/bad_map", latched)


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    c.wait_subscribers(c.tf_pub)
    c.image_after(0.0, timeout=60.0)
    return c


@pytest.fixture(scope="module")
def maps(client):
    m = Maps(client)
    client.wait_subscribers(m.map)
    client.wait_subscribers(m.updates)
    return m


def cell_centroid(camera, i: int, j: int, odom) -> np.ndarray:
    pts = np.array([[odom[0] + ORIGIN[0] + a * RES, odom[1] + ORIGIN[1] + b * RES, 0.0]
                    for a in (i, i + 1) for b in (j, j + 1)])
    return camera.project(pts).mean(axis=0)     # a square's image: a planar quad's centroid


def near(rgb: np.ndarray, colour, tol: int = 3) -> np.ndarray:
    return (np.abs(rgb.astype(int) - np.asarray(colour, int)) <= tol).all(axis=2)


def corners_where_predicted(camera, odom):
    def check(im):
        rgb = im.rgb
        for (i, j), value in CORNERS.items():
            v, u = np.nonzero(near(rgb, COLOURS[value & 0xFF, :3]))
            if len(u) < 30:
                return False
            if np.linalg.norm([u.mean() - cell_centroid(camera, i, j, odom)[0],
                               v.mean() - cell_centroid(camera, i, j, odom)[1]]) > 2.0:
                return False
        return True
    return check


def test_corner_cells_land_where_the_camera_puts_them_and_follow_the_frame(client, maps):
    camera = client.camera()
    t = time.monotonic()
    client.publish_tf(tf("map", "odom", (0.3, 0.0, 0.0), stamp=client.now()))
    maps.map.publish(grid_msg())
    client.wait_image(corners_where_predicted(camera, (0.3, 0.0)), timeout=TIMEOUT, after=t,
                      what="the map's corner cells where the camera model puts them")
    t = time.monotonic()
    client.publish_tf(tf("map", "odom", (0.1, 0.25, 0.0), stamp=client.now()))
    client.wait_image(corners_where_predicted(camera, (0.1, 0.25)), timeout=TIMEOUT, after=t,
                      what="the map moved with odom")


def test_an_update_changes_exactly_its_cells(client, maps):
    camera = client.camera()
    odom = (0.1, 0.25)
    cells = [(i, j) for i in range(2, 7) for j in range(1, 6)]

    def shows(black: set):
        def check(im):
            for i, j in cells:
                u, v = np.round(cell_centroid(camera, i, j, odom)).astype(int)
                want = (0, 0, 0) if (i, j) in black else (255, 255, 255)
                if not near(im.rgb[v:v + 1, u:u + 1], want).all():
                    return False
            return True
        return check
    t = time.monotonic()
    maps.updates.publish(update_msg(3, 2, 3, 2, 100))
    client.wait_image(shows({(i, j) for i in range(3, 6) for j in range(2, 4)}), timeout=TIMEOUT,
                      after=t, what="the update's 3 x 2 cells black, their neighbours white")
    t = time.monotonic()
    maps.updates.publish(update_msg(3, 2, 3, 2, 0))
    client.wait_image(shows(set()), timeout=TIMEOUT, after=t, what="the cells white again")


def logged_once(node, pattern: str) -> None:
    node.viewer.wait_for_line(pattern, timeout=TIMEOUT)
    n = node.viewer.count(pattern)
    assert n == 1, f"{pattern!r} logged {n} times; log tail:\n{node.viewer.tail(30)}"


def test_bad_maps_and_updates_are_logged_once_and_skipped(node, client, maps):
    bad = [grid_msg(width=CW + 1),                                  # data size
           grid_msg(res=-0.5),                                      # resolution
           grid_msg(width=100_000, height=100_000)]                 # over the limit
    client.wait_subscribers(maps.bad)
    for msg in bad:
        for _ in range(REPEATS):
            maps.bad.publish(msg)
            time.sleep(0.05)
    for _ in range(REPEATS):
        maps.updates.publish(update_msg(CW - 1, 0, 2, 1, 100))     # one column past the edge
        maps.updates.publish(update_msg(0, 0, 2, 2, 100, n=3))      # 3 cells for 2 x 2
        time.sleep(0.05)
    # a good update after the bad ones (same topic, so after them in order) still applies
    camera = client.camera()
    u, v = np.round(cell_centroid(camera, 5, 5, (0.1, 0.25))).astype(int)
    t = time.monotonic()
    maps.updates.publish(update_msg(5, 5, 1, 1, 100))
    client.wait_image(lambda im: near(im.rgb[v:v + 1, u:u + 1], (0, 0, 0)).all(), timeout=TIMEOUT,
                      after=t, what="a good update after the bad ones")
    logged_once(node, r"/bad_map: data has 80 cells, not info\.width x info\.height = 11 x 8 = 88; skipped")
    logged_once(node, r"/bad_map: info\.resolution is -0\.5, not a positive number; skipped")
    logged_once(node, r"/bad_map: info\.width x info\.height = 100000 x 100000 is over the limit")
    logged_once(node, r"/map_updates: x, y, width, height = 9, 0, 2, 1 is outside the 10 x 8 map")
    logged_once(node, r"/map_updates: data has 3 cells, not width x height = 2 x 2")
    assert math.isfinite(client.latest().stamp_ns)
