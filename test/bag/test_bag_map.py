"""A map rendered offline (render-bag): a bag written with rosbags holds an
OccupancyGrid in frame ``odom`` while TF moves ``odom`` in ``map``, and an
OccupancyGridUpdate at 1 s. Each output image shows the map's corner cells where the
pinhole model from the output's /vuer/camera_info and /tf_static puts them (TF at
that tick; centroids within 2 px), so the map moves with its frame; the update's
cells change colour from the first tick after it on, and nothing else does.

The map is a configured display with ``displays.auto`` off and its own
``update_topic``: the update topic is read because the display names it."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from rosbags.typesys import get_types_from_msg

from vuer_ros.bag import RenderOptions, render_bag_async
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag
from vuer_ros.cdr.occupancy import UPDATE_DEFINITION, UPDATE_MSGTYPE
from vuer_ros.scene.map_palettes import palette

from bag_helpers import camera_from_output, image_array, predicted_centroid, read_bag

W, H, RATE = 320, 240, 10.0
RES, CW, CH = 0.2, 10, 8                       # 10 x 8 cells of 0.2 m
ORIGIN, YAW = (0.2, 0.3, 0.0), math.radians(10)
CORNERS = {(0, 0): 101, (CW - 1, 0): -128, (0, CH - 1): -2, (CW - 1, CH - 1): -1}
UPDATE_AT, PATCH = 1.0, (4, 3, 2, 2)           # x, y, width, height: white -> black at 1 s
COLOURS = palette("map")


def odom_x(t_s: float) -> float:
    return 0.5 * t_s


def cells() -> np.ndarray:
    c = np.zeros((CH, CW), np.int8)            # free: white
    for (i, j), v in CORNERS.items():
        c[j, i] = v
    return c


def write_map_bag(path):
    store = typestore()
    store.register(get_types_from_msg(UPDATE_DEFINITION, UPDATE_MSGTYPE))
    m = MessageFactory(store)
    T = store.types
    msgs = []
    for k in range(41):                        # /tf at 20 Hz for 2 s: map -> odom moves along x
        t = T0_NS + k * 50_000_000
        msgs.append((t, "/tf", m.tf_message(m.tf(t, "map", "odom", (odom_x(k * 0.05), 0.0, 0.0)))))
    info = T["nav_msgs/msg/MapMetaData"](
        map_load_time=m.stamp(T0_NS), resolution=RES, width=CW, height=CH,
        origin=T["geometry_msgs/msg/Pose"](
            position=T["geometry_msgs/msg/Point"](x=ORIGIN[0], y=ORIGIN[1], z=ORIGIN[2]),
            orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=math.sin(YAW / 2),
                                                          w=math.cos(YAW / 2))))
    msgs.append((T0_NS, "/map", T["nav_msgs/msg/OccupancyGrid"](
        header=m.header(T0_NS, "odom"), info=info, data=cells().reshape(-1))))
    x, y, w, h = PATCH
    at = T0_NS + round(UPDATE_AT * 1e9)
    msgs.append((at, "/map_patch", T[UPDATE_MSGTYPE](
        header=m.header(at, "odom"), x=x, y=y, width=w, height=h,
        data=np.full(w * h, 100, np.int8))))
    msgs.sort(key=lambda e: e[0])
    return write_bag(path, msgs, store, types={"/map": "nav_msgs/msg/OccupancyGrid",
                                               "/map_patch": UPDATE_MSGTYPE})


def cell_corners(i: int, j: int, odom: float) -> np.ndarray:
    """World (map frame) corners of cell (i, j) with odom at x = ``odom``."""
    c, s = math.cos(YAW), math.sin(YAW)
    out = []
    for a, b in ((i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1)):
        x, y = a * RES, b * RES
        out.append([odom + ORIGIN[0] + c * x - s * y, ORIGIN[1] + s * x + c * y, 0.0])
    return np.array(out)


def near(rgb: np.ndarray, colour, tol: int = 6) -> np.ndarray:
    return (np.abs(rgb.astype(int) - np.asarray(colour, int)) <= tol).all(axis=2)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    d = tmp_path_factory.mktemp("bag-map")
    bag = write_map_bag(d / "in.mcap")
    options = RenderOptions.create(
        params={"displays.auto": False, "displays.floor.type": "Map",
                "displays.floor.topic": "/map", "displays.floor.alpha": 1.0,
                "displays.floor.update_topic": "/map_patch", "grid": False},
        fixed_frame="map", eye=(1.5, -2.0, 4.0), target=(1.5, 1.0, 0.0), width=W, height=H,
        fov=50.0, rate=RATE)
    summary = asyncio.run(asyncio.wait_for(render_bag_async(bag, d / "out.mcap", options=options), 180))
    assert summary.frames == 20
    return read_bag(d / "out.mcap")


def test_corner_cells_land_where_the_camera_puts_them_as_the_frame_moves(rendered):
    images = rendered["/vuer/image"]
    camera = camera_from_output(rendered, fixed="map")
    moved = []
    for k, (t, img, _, _) in enumerate(images):
        rgb = image_array(img)
        odom = odom_x((t - T0_NS) / 1e9)       # TF at 20 Hz: a sample at every tick
        for (i, j), value in CORNERS.items():
            mask = near(rgb, COLOURS[value & 0xFF, :3])
            v, u = np.nonzero(mask)
            assert len(u) > 20, (k, value)
            got = np.array([u.mean(), v.mean()])
            want = predicted_centroid(camera, cell_corners(i, j, odom))
            assert np.linalg.norm(got - want) <= 2.0, (k, (i, j), got, want)
            if (i, j) == (0, 0):
                moved.append(got[0])
    assert moved[-1] - moved[0] > 20           # 1 m of odom motion moved the map across


def test_the_update_changes_its_cells_from_its_time_on(rendered):
    camera = camera_from_output(rendered, fixed="map")
    x, y, w, h = PATCH
    for t, img, _, _ in rendered["/vuer/image"]:
        rgb = image_array(img)
        s = (t - T0_NS) / 1e9
        odom = odom_x(s)
        for i in range(x - 1, x + w + 1):
            for j in range(y - 1, y + h + 1):
                u, v = np.round(predicted_centroid(camera, cell_corners(i, j, odom))).astype(int)
                inside = x <= i < x + w and y <= j < y + h
                black = inside and s >= UPDATE_AT
                want = (0, 0, 0) if black else (255, 255, 255)
                assert near(rgb[v:v + 1, u:u + 1], want, 2).all(), (s, i, j, rgb[v, u])
