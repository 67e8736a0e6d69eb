"""render-bag draws PointCloud2 and LaserScan topics where the pinhole model puts them, frame
by frame in bag time: a cloud in a moving frame, stamped at each tick, lands where its
frame was at its stamp (so it moves with it); a scan's rays; Intensity's rainbow at
known points; RGB8, RGBF32 and AxisColor by pixels; a cloud topic nobody configured is shown with
rviz's defaults (displays.auto). Real bags (rosbags writer: MCAP with Jazzy's
definitions, sqlite3 with Humble's), real Chromium, outputs read back with rosbags."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bag_helpers import camera_from_output, image_array, read_bag
from cloud_helpers import CloudSpec, scan_rosbags, xyz_cloud

from vuer_ros.bag import Renderer, RenderOptions, render_bag_async
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, mover_position, typestore, write_bag
from vuer_ros.scene.cloud_colors import rainbow

W, H, FOV, RATE = 320, 240, 60.0, 10.0
EYE, TARGET = (0.0, -4.0, 2.5), (0.0, 0.0, 0.3)
FRAMES = 10
GREEN, YELLOW = (0, 255, 0), (255, 255, 0)
# the moving cloud's colours: none of the rainbows' nor the others'
WHITE, MAROON, NAVY = (255, 255, 255), (128, 0, 0), (0, 0, 128)
MOVING = np.array([(0.0, 0.0, 0.3), (0.0, 0.5, 0.3), (0.0, -0.5, 0.3)])      # in mover
RAYS = (-2.4, 0.5, 0.8)                       # angle_min, angle_increment, range (m)
SCAN_AT = np.array([(0.8 * np.cos(a), 0.8 * np.sin(a), 0.0) for a in (-2.4, -1.9, -1.4)]) + (1.2, 1.0, 0.1)
INTENSE = np.array([(x, 1.5, 1.2) for x in (-1.2, -0.6, 0.0, 0.6, 1.2)])        # in world
INTENSITY = [0.0, 25.0, 50.0, 75.0, 100.0]
AXIS = np.array([(x, 1.0, z) for x, z in ((-1.5, -0.2), (-1.0, 0.3), (-0.5, 0.8))])   # AxisColor by z
RGBF = np.array([(x, -0.6, 1.6) for x in (0.6, 1.0, 1.4)])                   # float r, g, b fields
RGBF_COLOURS = [(0.2, 0.4, 0.6), (1.0, 0.5, 0.0), (0.0, 0.75, 1.0)]
PATCH_CENTRE = np.array([1.3, -1.2, 0.0])
PARAMS = {
    "displays.tf.enabled": False,   # the frames' axes would mix with the colours measured
    "displays.moving.type": "PointCloud2", "displays.moving.topic": "/moving/points",
    "displays.moving.size": 0.15,
    "displays.scan.type": "LaserScan", "displays.scan.topic": "/scan", "displays.scan.size": 0.12,
    "displays.scan.color_transformer": "FlatColor", "displays.scan.color": [255.0, 255.0, 0.0],
    "displays.intense.type": "PointCloud2", "displays.intense.topic": "/intense/points",
    "displays.intense.size": 0.15,
    "displays.axis.type": "PointCloud2", "displays.axis.topic": "/axis/points", "displays.axis.size": 0.15,
    "displays.axis.color_transformer": "AxisColor",
    "displays.rgbf.type": "PointCloud2", "displays.rgbf.topic": "/rgbf/points", "displays.rgbf.size": 0.15,
    "displays.rgbf.color_transformer": "RGBF32",
}
TYPES = {"/moving/points": "sensor_msgs/msg/PointCloud2", "/intense/points": "sensor_msgs/msg/PointCloud2",
         "/axis/points": "sensor_msgs/msg/PointCloud2", "/auto/points": "sensor_msgs/msg/PointCloud2",
         "/rgbf/points": "sensor_msgs/msg/PointCloud2", "/scan": "sensor_msgs/msg/LaserScan"}


def messages(store):
    m = MessageFactory(store)
    out = []
    for i in range(int(FRAMES / RATE * 50) + 1):                 # /tf at 50 Hz
        t = T0_NS + i * 20_000_000
        out.append((t, "/tf", m.tf_message(m.tf(t, "world", "mover", mover_position((t - T0_NS) / 1e9)))))
    for k in range(FRAMES):                                     # a cloud at every tick, stamped then
        t = T0_NS + k * 100_000_000
        out.append((t, "/moving/points", xyz_cloud(MOVING, rgb=[WHITE, MAROON, NAVY], frame="mover",
                                                   stamp_ns=t).rosbags()))
    a0, da, r = RAYS
    out.append((T0_NS, "/tf_static", m.tf_message(m.tf(T0_NS, "world", "laser", (1.2, 1.0, 0.1)))))
    out.append((T0_NS, "/scan", scan_rosbags(ranges=[r, r, r, 99.0], angle_min=a0, angle_increment=da,
                                             frame="laser", stamp_ns=T0_NS)))
    out.append((T0_NS, "/intense/points", xyz_cloud(INTENSE, intensity=INTENSITY, frame="world").rosbags()))
    out.append((T0_NS, "/axis/points", xyz_cloud(AXIS, frame="world").rosbags()))
    rgb = np.array(RGBF_COLOURS)
    out.append((T0_NS, "/rgbf/points", CloudSpec(
        [("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("r", "f4", 12), ("g", "f4", 16), ("b", "f4", 20)],
        24, {"x": RGBF[:, 0], "y": RGBF[:, 1], "z": RGBF[:, 2], "r": rgb[:, 0], "g": rgb[:, 1], "b": rgb[:, 2]},
        len(RGBF), frame="world").rosbags()))
    g = np.linspace(-0.2, 0.2, 41)
    patch = np.array([(x, y, 0.0) for x in g for y in g]) + PATCH_CENTRE
    out.append((T0_NS, "/auto/points", xyz_cloud(patch, rgb=np.tile(GREEN, (len(patch), 1)),
                                                 frame="world").rosbags()))
    out.sort(key=lambda e: e[0])
    return out


@pytest.fixture(scope="module", params=[("in.mcap", "jazzy"), ("in.db3", "humble")], ids=["mcap", "sqlite3"])
def rendered(request, tmp_path_factory):
    name, distro = request.param
    d = tmp_path_factory.mktemp("bag-clouds")
    store = typestore(distro)
    bag = write_bag(d / name, messages(store), store, types=TYPES)
    out = d / ("out" + bag.suffix)

    async def main():
        async with Renderer(W, H) as renderer:
            return await render_bag_async(bag, out, renderer=renderer, options=RenderOptions.create(
                params=PARAMS, fixed_frame="world", eye=EYE, target=TARGET, width=W, height=H,
                fov=FOV, rate=RATE))
    summary = asyncio.run(asyncio.wait_for(main(), 180))
    assert summary.frames == FRAMES and not summary.problems, summary.problems
    result = read_bag(out)
    return result, [image_array(msg) for _, msg, _, _ in result["/vuer/image"]]


def squares(rgb, camera, world, colours, size, tol=3):
    """Each point's flat square (its colour, near where it projects): centroid error, width error."""
    errors = []
    for p, colour in zip(world, colours):
        (u, v), = camera.project(np.asarray(p, float))
        side = size * camera.focal_length / camera.world_to_optical(np.asarray(p, float))[0, 2]
        r = int(side) + 5
        m = np.zeros(rgb.shape[:2], bool)
        m[int(v) - r:int(v) + r + 1, int(u) - r:int(u) + r + 1] = True
        m &= (np.abs(rgb.astype(int) - np.asarray(colour)) <= tol).all(axis=2)
        vs, us = np.nonzero(m)
        assert len(us) >= 0.5 * side * side, (p, colour, len(us), side)
        errors.append((np.hypot(us.mean() - u, vs.mean() - v), abs(np.ptp(us) + 1 - side)))
    return np.array(errors)


def test_a_cloud_in_a_moving_frame_lands_where_its_frame_was_at_its_stamp(rendered):
    bag, images = rendered
    camera = camera_from_output(bag)
    firsts = []
    for k, rgb in enumerate(images):
        world = MOVING + mover_position(k / RATE)
        err = squares(rgb, camera, world, [WHITE, MAROON, NAVY], 0.15)
        assert err[:, 0].max() <= 2.0 and err[:, 1].max() <= 1.5, (k, err)
        firsts.append(camera.project(world[0]))
    assert firsts[-1][0][0] - firsts[0][0][0] > 30      # it moved with its frame


def test_a_scan_s_rays_land_where_they_point(rendered):
    bag, images = rendered
    err = squares(images[-1], camera_from_output(bag), SCAN_AT, [YELLOW] * 3, 0.12)
    assert err[:, 0].max() <= 2.0 and err[:, 1].max() <= 1.5, err


def test_rgbf32_colours_by_pixels(rendered):
    bag, images = rendered
    want = [tuple(round(c * 255) for c in rgb) for rgb in RGBF_COLOURS]
    err = squares(images[-1], camera_from_output(bag), RGBF, want, 0.15)
    assert err[:, 0].max() <= 2.0, err


def test_intensity_and_axis_colours_by_pixels(rendered):
    bag, images = rendered
    camera = camera_from_output(bag)
    want = [tuple(c) for c in np.rint(rainbow(1.0 - np.array(INTENSITY) / 100.0) * 255).astype(int)]
    err = squares(images[-1], camera, INTENSE, want, 0.15)
    assert err[:, 0].max() <= 2.0, err
    # AxisColor along the fixed frame's Z: -0.2 red (the minimum) .. 0.8 magenta (the maximum)
    want = [tuple(c) for c in np.rint(rainbow([1.0, 0.5, 0.0]) * 255).astype(int)]
    err = squares(images[-1], camera, AXIS, want, 0.15)
    assert err[:, 0].max() <= 2.0, err


def test_a_cloud_topic_nobody_configured_is_shown_with_rviz_s_defaults(rendered):
    bag, images = rendered
    camera = camera_from_output(bag)
    rgb = images[0]
    m = (np.abs(rgb.astype(int) - GREEN) <= 3).all(axis=2)
    m[:, :camera.width // 2] = False                        # the patch is right of the centre
    (u, v), = camera.project(PATCH_CENTRE)
    vs, us = np.nonzero(m)
    assert len(us) > 100 and np.hypot(us.mean() - u, vs.mean() - v) <= 2.0, (len(us), us.mean(), vs.mean(), u, v)
