"""CloudDisplay (vuer_ros/scene/cloud_display.py) through the real message kinds: a
PointCloud2 or LaserScan is placed at the TF of its stamp in the fixed frame, waits for
that TF (and gives up once, reported), follows rviz's decay, is in every SET, is cleared
by a new fixed frame; each colour transformer gives rviz's colours; bad input is logged
once per cause with the topic and the key and skipped while good clouds keep flowing;
a cloud over max_points is refused before its data is read. Events are applied to a
SceneTree as the server and the browser apply them."""

from __future__ import annotations

import logging
import math
import tracemalloc

import numpy as np
import pytest
from cloud_helpers import CloudSpec, pack_rgb, scan_rosbags, xyz_cloud
from scene_msgs import Browser, S, tf, tf_msg

from vuer_ros.displays import DISPLAY_TYPES
from vuer_ros.protocol.codec import encode
from vuer_ros.scene import SceneModel
from vuer_ros.scene.cloud_colors import rainbow
from vuer_ros.view.kinds import LASER_SCAN, POINT_CLOUD2

TOPIC, SCAN_TOPIC = "/lidar/points", "/scan"
XYZ = np.array([(1.0, 0.0, 0.0), (0.0, 2.0, 0.5), (-1.0, -1.0, 1.5)], np.float32)


def options(**kw):
    o = DISPLAY_TYPES["PointCloud2"].defaults()
    o.update(kw)
    return o


def setup(fixed="map", **kw):
    model = SceneModel(fixed)
    handler = POINT_CLOUD2.attach(model, TOPIC, options(**kw))
    return model, handler, Browser(model)


def floats(node) -> np.ndarray:
    return np.frombuffer(node["vertices"], "<f4").reshape(-1, 3)


def colours(node) -> np.ndarray:
    return np.frombuffer(node["colors"], np.uint8).reshape(len(floats(node)), -1)


def key(topic=TOPIC, n=None):
    return f"cloud:{topic}" + ("" if n is None else f":{n}")


def test_a_cloud_is_placed_at_the_tf_of_its_stamp_in_the_fixed_frame():
    model, on_cloud, b = setup()
    model.on_tf(tf_msg(tf("map", "lidar", (0, 0, 1), ns=1 * S), tf("map", "lidar", (2, 0, 1), ns=2 * S)))
    on_cloud(xyz_cloud(XYZ, stamp_ns=int(1.5 * S)).rosbags(), 3 * S)
    b.sync()
    node = b.node(key())
    assert b.parent(key()) == "tf:map"
    assert node["position"] == pytest.approx([1.0, 0.0, 1.0]) and node["quaternion"] == [0, 0, 0, 1]
    np.testing.assert_array_equal(floats(node), XYZ)     # the points stay in their frame
    assert node["style"] == "Flat Squares" and node["size"] == 0.01 and node["units"] == "metres"
    assert node["color"] == [1.0, 1.0, 1.0] and "colors" not in node   # Intensity, no channel: white
    # the frame moves on: the cloud stays where its stamp put it (placed once, as rviz)
    model.on_tf(tf_msg(tf("map", "lidar", (5, 0, 1), ns=3 * S)))
    b.sync()
    assert b.node(key())["position"] == pytest.approx([1.0, 0.0, 1.0])
    # stamp 0: the latest transform; an empty frame id: the fixed frame
    on_cloud(xyz_cloud(XYZ).rosbags(), 4 * S)
    b.sync()
    assert b.node(key())["position"] == pytest.approx([5.0, 0.0, 1.0])
    on_cloud(xyz_cloud(XYZ, frame="").rosbags(), 4 * S)
    b.sync()
    assert b.node(key())["position"] == [0.0, 0.0, 0.0]


def test_a_cloud_waits_for_its_transform_and_a_hopeless_one_is_reported_once(caplog):
    model, on_cloud, b = setup()
    model.on_tf(tf_msg(tf("map", "lidar", (0, 0, 0), ns=1 * S)))
    on_cloud(xyz_cloud(XYZ, stamp_ns=2 * S).rosbags(), 2 * S)
    model.advance(2 * S)
    b.sync()
    assert b.node(key()) is None                       # TF at 2 s not there yet
    model.on_tf(tf_msg(tf("map", "lidar", (4, 0, 0), ns=3 * S)))
    model.advance(int(2.1 * S))
    b.sync()
    assert b.node(key())["position"] == pytest.approx([2.0, 0.0, 0.0])   # interpolated at 2 s
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    for i in range(3):   # a frame that never comes: given up after the timeout, logged once
        on_cloud(xyz_cloud(XYZ + 1, frame="nowhere", stamp_ns=3 * S).rosbags(), (3 + i) * S)
    model.advance(10 * S)
    b.sync()
    lines = [r.getMessage() for r in caplog.records if "nowhere" in r.getMessage()]
    assert len(lines) == 1 and TOPIC in lines[0] and "no transform" in lines[0], lines
    assert b.node(key())["position"] == pytest.approx([2.0, 0.0, 0.0])   # the last good one stays
    # older than the TF history: dropped at once, not after the timeout
    on_cloud(xyz_cloud(XYZ, stamp_ns=1).rosbags(), 10 * S)
    model.on_tf(tf_msg(tf("map", "lidar", (4, 0, 0), ns=20 * S)))
    on_cloud(xyz_cloud(XYZ * 2, stamp_ns=20 * S).rosbags(), 10 * S)
    b.sync()
    np.testing.assert_array_equal(floats(b.node(key())), XYZ * 2)


def test_decay_time_zero_replaces_in_place_and_a_decay_time_keeps_clouds_that_long():
    model, on_cloud, b = setup()
    on_cloud(xyz_cloud(XYZ, frame="map").rosbags(), 1 * S)
    b.sync()
    on_cloud(xyz_cloud(XYZ[:2] * 3, frame="map").rosbags(), 2 * S)
    (ev,) = b.sync()
    assert ev.etype == "UPSERT" and not ev.data["strict"]   # same props: refilled in place
    assert ev.coalesce_key == key()      # and a browser behind on it is sent only the newest
    np.testing.assert_array_equal(floats(b.node(key())), XYZ[:2] * 3)

    model, on_cloud, b = setup(decay_time=1.0)
    on_cloud(xyz_cloud(XYZ, frame="map").rosbags(), 1 * S)
    model.advance(1 * S)
    b.sync()
    on_cloud(xyz_cloud(XYZ + 5, frame="map").rosbags(), int(1.6 * S))
    model.advance(int(1.6 * S))
    b.sync()
    assert b.node(key(n=0)) is not None and b.node(key(n=1)) is not None
    model.advance(int(2.1 * S))                           # the first is 1.1 s old: gone
    (ev,) = b.sync()
    assert ev.etype == "REMOVE" and ev.data["keys"] == [key(n=0)]
    model.advance(int(2.7 * S))
    b.sync()
    assert b.node(key(n=1)) is None                       # rviz: a decayed last cloud goes too


def test_the_cloud_is_in_every_set_and_a_new_fixed_frame_clears_it():
    model, on_cloud, b = setup()
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    on_cloud(xyz_cloud(XYZ, frame="odom").rosbags(), S)
    b.sync()
    late = Browser(model)
    model._needs_set = True          # a browser that joins now gets one SET
    (ev,) = late.sync()
    assert ev.etype == "SET" and late.parent(key()) == "tf:map"
    np.testing.assert_array_equal(floats(late.node(key())), XYZ)
    model.set_fixed_frame("odom")
    b.sync()
    assert b.node(key()) is None
    on_cloud(xyz_cloud(XYZ, frame="odom").rosbags(), 2 * S)
    b.sync()
    assert b.parent(key()) == "tf:odom" and b.node(key())["position"] == [0.0, 0.0, 0.0]


def test_bytes_on_the_wire_are_the_positions_and_colours_only():
    _, on_cloud, b = setup()
    n = 20_000
    xyz = np.random.default_rng(1).uniform(-5, 5, (n, 3))
    on_cloud(xyz_cloud(xyz, rgb=np.full((n, 3), 200), frame="map").rosbags(), S)
    b.sync()
    on_cloud(xyz_cloud(xyz * 2, rgb=np.full((n, 3), 100), frame="map").rosbags(), 2 * S)
    (ev,) = b.sync()
    size = len(encode(ev))
    assert size <= 1.1 * n * (12 + 3), size / n   # float32 xyz + uint8 rgb a point


# -- colour transformers -------------------------------------------------------------------------
def shown_colours(spec: CloudSpec, pose_xyz=(0.0, 0.0, 0.0), **kw) -> np.ndarray:
    model, on_cloud, b = setup(**kw)
    model.on_tf(tf_msg(tf("map", "lidar", pose_xyz, ns=S)))
    on_cloud(spec.rosbags(), S)
    b.sync()
    node = b.node(key())
    if "colors" not in node:
        return np.tile(np.rint(np.array(node["color"]) * 255), (len(floats(node)), 1)).astype(np.uint8)
    return colours(node)


def rviz_rainbow_bytes(value) -> np.ndarray:
    return np.rint(rainbow(np.asarray(value)) * 255).astype(np.uint8)


def assert_colours(got, want):
    """Equal within one level: the colours come from a 65,536-entry table of the rainbow."""
    assert np.abs(np.asarray(got, int) - np.asarray(want, int)).max() <= 1, (got, want)


def test_rainbow_is_rviz_s_hue_table():
    want = {0.0: (255, 0, 255), 0.2: (0, 0, 255), 0.4: (0, 255, 255), 0.6: (0, 255, 0),
            0.8: (255, 255, 0), 1.0: (255, 0, 0), 0.5: (0, 255, 128)}
    for value, rgb in want.items():
        assert tuple(rviz_rainbow_bytes([value])[0]) == rgb, value


def test_rgb8_reads_packed_rgb_and_rgba_with_its_alpha():
    rgb = np.array([(255, 0, 0), (10, 20, 30), (0, 0, 255)])
    got = shown_colours(xyz_cloud(XYZ, rgb=rgb, intensity=[1, 2, 3]))     # RGB8 picked over Intensity
    np.testing.assert_array_equal(got, rgb)
    spec = CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("rgba", "u4", 12)], 16,
                     {"x": XYZ[:, 0], "y": XYZ[:, 1], "z": XYZ[:, 2], "rgba": pack_rgb(rgb, [255, 128, 0])},
                     3, big=True)
    np.testing.assert_array_equal(shown_colours(spec), np.column_stack([rgb, [255, 128, 0]]))


def test_rgbf32_reads_float_channels():
    spec = CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("r", "f4", 12), ("g", "f4", 16),
                      ("b", "f4", 20)], 24, {"x": XYZ[:, 0], "y": XYZ[:, 1], "z": XYZ[:, 2],
                                             "r": [1.0, 0.5, 0.0], "g": [0.0, 0.5, 2.0], "b": [0.0, 0.0, -1.0]}, 3)
    np.testing.assert_array_equal(shown_colours(spec, color_transformer="RGBF32"),
                                  [(255, 0, 0), (128, 128, 0), (0, 255, 0)])


def test_intensity_rainbow_grey_fixed_bounds_and_fallbacks():
    inten = [0.0, 50.0, 100.0]
    spec = xyz_cloud(XYZ, intensity=inten)
    # auto bounds 0 .. 100: the minimum red, the middle green-cyan, the maximum magenta
    assert_colours(shown_colours(spec), rviz_rainbow_bytes([1.0, 0.5, 0.0]))
    assert_colours(shown_colours(spec, invert_rainbow=True), rviz_rainbow_bytes([0.0, 0.5, 1.0]))
    assert_colours(
        shown_colours(spec, use_rainbow=False, min_color=[0, 0, 100], max_color=[200, 100, 100]),
        [(0, 0, 100), (100, 50, 100), (200, 100, 100)])
    assert_colours(
        shown_colours(spec, autocompute_intensity_bounds=False, min_intensity=50.0, max_intensity=150.0),
        rviz_rainbow_bytes([1.0, 1.0, 0.5]))
    # another channel by name; the default channel falls back to "intensities"
    spec = CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("intensities", "u2", 12),
                      ("reflectivity", "i1", 14)], 16,
                     {"x": XYZ[:, 0], "y": XYZ[:, 1], "z": XYZ[:, 2], "intensities": [0, 10, 20],
                      "reflectivity": [-5, 5, -5]}, 3)
    assert_colours(shown_colours(spec), rviz_rainbow_bytes([1.0, 0.5, 0.0]))
    assert_colours(shown_colours(spec, channel_name="reflectivity"),
                                  rviz_rainbow_bytes([1.0, 0.0, 1.0]))
    # equal bounds: everything as the minimum (rviz divides by 1e20)
    assert_colours(shown_colours(xyz_cloud(XYZ, intensity=[7, 7, 7])),
                                  rviz_rainbow_bytes([1.0, 1.0, 1.0]))


def test_axis_color_in_the_fixed_frame_or_the_cloud_s_and_flat_color():
    spec = xyz_cloud(XYZ)          # z = 0, 0.5, 1.5 in the cloud's frame
    assert_colours(shown_colours(spec, (0, 0, 10), color_transformer="AxisColor"),
                                  rviz_rainbow_bytes([1.0, 1 - 0.5 / 1.5, 0.0]))
    assert_colours(   # fixed bounds -10 .. 10 along the fixed frame's Z (z + 5)
        shown_colours(spec, (0, 0, 5), color_transformer="AxisColor", autocompute_value_bounds=False),
        rviz_rainbow_bytes([1 - 15 / 20, 1 - 15.5 / 20, 1 - 16.5 / 20]))
    assert_colours(
        shown_colours(spec, (0, 0, 5), color_transformer="AxisColor", autocompute_value_bounds=False,
                      use_fixed_frame=False, axis="Y"),
        rviz_rainbow_bytes([1 - 10 / 20, 1 - 12 / 20, 1 - 9 / 20]))
    got = shown_colours(spec, color_transformer="FlatColor", color=[10, 200, 30])
    assert_colours(got, np.tile([10, 200, 30], (3, 1)))


def test_nan_points_are_skipped_with_their_colours(caplog):
    xyz = np.array([(1, 0, 0), (math.nan, 0, 0), (0, math.inf, 0), (2, 0, 0)], np.float32)
    spec = xyz_cloud(xyz, rgb=[(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4)], dense=False, frame="map")
    _, on_cloud, b = setup()
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    on_cloud(spec.rosbags(), S)
    b.sync()
    node = b.node(key())
    np.testing.assert_array_equal(floats(node), xyz[[0, 3]])
    np.testing.assert_array_equal(colours(node), [(1, 1, 1), (4, 4, 4)])
    assert not caplog.records                    # is_dense false: NaN points are expected
    for stamp in (2, 3):                          # is_dense true and NaN points: said once
        on_cloud(xyz_cloud(xyz, dense=True, frame="map").rosbags(), stamp * S)
        b.sync()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and TOPIC in lines[0] and "is_dense" in lines[0] and "2 of 4" in lines[0]


# -- bad input ---------------------------------------------------------------------------------------
GOOD = dict(fields=[("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8)], point_step=12,
            values={"x": XYZ[:, 0], "y": XYZ[:, 1], "z": XYZ[:, 2]}, width=3)


def bad_clouds():
    """(name, message, words the log line names)."""
    ok = CloudSpec(**GOOD)
    out = [
        ("field past point_step", CloudSpec(**GOOD, extra_fields=[("intensity", 10, 7, 1)]),
         ["'intensity'", "ends at byte 14", "point_step 12"]),
        ("row_step too small", ok.rosbags(), ["row_step 30", "width 3"]),
        ("data too short", ok.rosbags(data=ok.data()[:-5]), ["data has 31 bytes", "need 36"]),
        ("unknown datatype", CloudSpec(**GOOD, extra_fields=[("rgb", 12, 9, 1)]), ["'rgb'", "datatype 9"]),
        ("no z", CloudSpec(**{**GOOD, "fields": GOOD["fields"][:2]}), ["no z field"]),
    ]
    out[1][1].row_step = 30
    return out


@pytest.mark.parametrize("name,msg,words", bad_clouds(), ids=[c[0] for c in bad_clouds()])
def test_bad_clouds_are_logged_once_with_topic_and_key_and_good_ones_keep_flowing(caplog, name, msg, words):
    if isinstance(msg, CloudSpec):
        msg = msg.rosbags()
    _, on_cloud, b = setup()
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    for i in range(3):
        on_cloud(msg, (i + 1) * S)
        on_cloud(xyz_cloud(XYZ * (i + 1), frame="map").rosbags(), (i + 1) * S)
        b.sync()
        np.testing.assert_array_equal(floats(b.node(key())), XYZ * (i + 1))   # the good ones flow
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert lines[0].startswith(TOPIC) and all(w in lines[0] for w in words), lines[0]


def test_a_cloud_over_max_points_is_refused_before_its_data_is_read(caplog):
    _, on_cloud, b = setup(max_points=1_000_000)
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    # declares 50,000,000 points of 16 bytes (800 MB) over 1 MB of data: nothing of that size
    # may be allocated, and the data not be read
    spec = CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("rgb", "u4", 12)], 16,
                     {k: np.zeros(50_000) for k in ("x", "y", "z", "rgb")}, 50_000)
    msg = spec.rosbags()
    msg.width, msg.height, msg.row_step = 10_000, 5_000, 160_000
    tracemalloc.start()
    try:
        for i in range(3):
            on_cloud(msg, (i + 1) * S)
            b.sync()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak
    assert b.node(key()) is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(TOPIC), lines
    assert "10000 x 5000 = 50000000 points" in lines[0] and "max_points 1000000" in lines[0]


# -- laser scans ------------------------------------------------------------------------------------
def scan_setup(**kw):
    model = SceneModel("map")
    o = DISPLAY_TYPES["LaserScan"].defaults()
    o.update(kw)
    return model, LASER_SCAN.attach(model, SCAN_TOPIC, o), Browser(model)


def test_a_scan_is_projected_as_laser_geometry_does_with_its_range_limits(caplog):
    model, on_scan, b = scan_setup()
    model.on_tf(tf_msg(tf("map", "laser", (1, 2, 0.3), (0, 0, math.sin(0.25), math.cos(0.25)), ns=S)))
    ranges = [0.05, 1.0, math.nan, 2.0, math.inf, -math.inf, 30.0, -2.0, 29.9]
    inten = [float(i) for i in range(len(ranges))]
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    for stamp in (1, 1):
        on_scan(scan_rosbags(ranges=ranges, intensities=inten, angle_min=-0.5, angle_increment=0.25,
                             range_min=0.1, range_max=30.0, stamp_ns=stamp * S), 2 * S)
        b.sync()
    node = b.node(key(SCAN_TOPIC))
    assert b.parent(key(SCAN_TOPIC)) == "tf:map" and node["position"] == pytest.approx([1, 2, 0.3])
    kept = [1, 3, 8]     # 0.1 <= r < 30, not NaN, not negative
    angles = -0.5 + np.array(kept) * np.float64(np.float32(0.25))
    r = np.array([ranges[i] for i in kept])
    want = np.column_stack([r * np.cos(angles), r * np.sin(angles), np.zeros(3)]).astype(np.float32)
    np.testing.assert_allclose(floats(node), want, rtol=1e-6)
    # the intensity channel: 1, 3, 8 -> auto bounds 1 .. 8
    np.testing.assert_array_equal(colours(node), rviz_rainbow_bytes([1.0, 1 - 2 / 7, 0.0]))
    lines = sorted(r.getMessage() for r in caplog.records)
    assert len(lines) == 2, lines                  # once each, however many scans
    assert "1 of 9 ranges are NaN" in lines[0] and "2 of 9 ranges are negative" in lines[1]
    assert all(line.startswith(SCAN_TOPIC) for line in lines)


def test_bad_scans_are_logged_once_and_skipped(caplog):
    _, on_scan, b = scan_setup(max_points=100)
    caplog.set_level(logging.WARNING, "vuer_ros.scene")
    bad = [scan_rosbags(ranges=[1.0, 2.0], intensities=[1.0], frame="map"),
           scan_rosbags(ranges=np.ones(101), frame="map")]
    for i in range(2):
        for msg in bad:
            on_scan(msg, (i + 1) * S)
        on_scan(scan_rosbags(ranges=[1.0] * (i + 1), frame="map"), (i + 1) * S)
        b.sync()
        assert len(floats(b.node(key(SCAN_TOPIC)))) == i + 1
    lines = sorted(r.getMessage() for r in caplog.records)
    assert len(lines) == 2, lines
    assert "101 ranges is over max_points 100" in lines[0]
    assert "intensities has 1 entries for 2 ranges" in lines[1]
