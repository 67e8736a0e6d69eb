"""The PointCloud2 and LaserScan decoders (vuer_ros/cdr/pointcloud.py, laser_scan.py) read
what rclpy (Fast CDR) and rosbags (either encapsulation) serialize, field by field;
``data``, ``ranges`` and ``intensities`` are views of the received bytes (no copy); and
scene/cloud_fields.py reads the same points from the fast decoder's, rclpy's and
rosbags' messages alike for every layout: float32 and float64 x/y/z at any offsets,
padding, organised clouds with padded rows, either byte order of the data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cloud_helpers import CloudSpec, pack_rgb, scan_cdr, scan_rclpy, scan_rosbags
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import LaserScan, PointCloud2

from vuer_ros.cdr import CdrError, UnsupportedEncoding
from vuer_ros.cdr.laser_scan import LAYOUT as SCAN_LAYOUT
from vuer_ros.cdr.laser_scan import decode_laser_scan
from vuer_ros.cdr.pointcloud import LAYOUT as CLOUD_LAYOUT
from vuer_ros.cdr.pointcloud import decode_point_cloud
from vuer_ros.scene.cloud_fields import read_cloud

STORE = get_typestore(Stores.ROS2_JAZZY)
RNG = np.random.default_rng(7)


def layouts() -> dict[str, CloudSpec]:
    """Clouds of 60 points (organised 6 x 10 where said), values known."""
    n = 60
    xyz = RNG.uniform(-50, 50, (n, 3))
    rgb = RNG.integers(0, 256, (n, 3))
    inten = RNG.uniform(0, 1000, n)
    v = {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], "rgb": pack_rgb(rgb), "intensity": inten,
         "ring": np.arange(n) % 16}
    return {
        "packed xyz rgb": CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("rgb", "u4", 12)], 16, v, n),
        # PCL's PointXYZI: 4 bytes padding after z, intensity at 16, point_step 32
        "pcl padding": CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("intensity", "f4", 16)],
                                 32, v, n),
        "float64 xyz": CloudSpec([("x", "f8", 0), ("y", "f8", 8), ("z", "f8", 16), ("ring", "u2", 24)], 26, v, n),
        "scattered offsets": CloudSpec([("z", "f4", 1), ("intensity", "f8", 5), ("x", "f4", 13), ("y", "f4", 21)],
                                       27, v, n),
        "organised with padded rows": CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8),
                                                 ("rgb", "f4", 12)], 16, v | {"rgb": v["rgb"].view(np.float32)},
                                                10, height=6, row_pad=12),
        "big-endian data": CloudSpec([("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8), ("intensity", "u2", 12),
                                      ("rgb", "u4", 16)], 20, v | {"intensity": (inten).astype(np.uint16)},
                                     n, big=True),
        "big-endian float64, organised": CloudSpec([("x", "f8", 8), ("y", "f8", 16), ("z", "f8", 0)], 24, v, 12,
                                                   height=5, row_pad=3, big=True),
    }


LAYOUTS = layouts()


def header_fields(c) -> tuple:
    return (c.header.frame_id, c.header.stamp.sec, c.header.stamp.nanosec, c.height, c.width,
            [(f.name, f.offset, f.datatype, f.count) for f in c.fields], bool(c.is_bigendian),
            c.point_step, c.row_step, bool(c.is_dense))


def test_the_layouts_decoded_are_jazzy_s():
    assert dict(PointCloud2.get_fields_and_field_types()) == CLOUD_LAYOUT
    assert dict(LaserScan.get_fields_and_field_types()) == SCAN_LAYOUT


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_point_cloud_decodes_rclpy_and_rosbags_bytes_of_both_endians(name):
    spec = dataclasses.replace(LAYOUTS[name], frame="velodyne/top ü", stamp_ns=1_700_000_000_123_456_789,
                               dense=name != "pcl padding")
    msg = spec.rclpy()
    want = header_fields(msg)
    for raw in (serialize_message(msg), spec.cdr(little=True), spec.cdr(little=False)):
        c = decode_point_cloud(raw)
        assert header_fields(c) == want
        assert c.data.tobytes() == spec.data()
        assert not c.data.flags.writeable and c.data.base is not None   # a view of the bytes, not a copy


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_points_read_alike_from_the_fast_decoder_rclpy_and_rosbags(name):
    spec = LAYOUTS[name]
    n = spec.width * spec.height
    want = np.stack([spec.values[k][:n] for k in "xyz"], axis=1).astype(np.float32)
    sources = {"fast": decode_point_cloud(spec.cdr(little=False)),
               "rclpy": deserialize_message(serialize_message(spec.rclpy()), PointCloud2),
               "rosbags": spec.rosbags()}
    for source, msg in sources.items():
        points = read_cloud(msg, "/cloud", 10_000, ("rgb", "intensity"))
        np.testing.assert_array_equal(points.xyz(), want, err_msg=source)
        names = [f for f, _, _ in spec.fields]
        if "intensity" in names:
            code = next(c for f, c, _ in spec.fields if f == "intensity")
            np.testing.assert_array_equal(points.channel("intensity"),
                                          spec.values["intensity"][:n].astype(code).astype(np.float32))
        if "rgb" in names:
            rgb = spec.values["rgb"][:n].view(np.uint32)
            want_rgb = np.stack([(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255], axis=1)
            np.testing.assert_array_equal(points.packed_rgb(), want_rgb.astype(np.uint8))


def test_point_cloud_truncated_and_foreign_bytes_are_refused():
    raw = serialize_message(dataclasses.replace(LAYOUTS["pcl padding"], frame="lidar").rclpy())
    for cut in (3, 10, 40, 80, len(raw) // 2, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_point_cloud(raw[:cut])
    with pytest.raises(UnsupportedEncoding):
        decode_point_cloud(b"\x00\x07\x00\x00" + raw[4:])
    # the field count: after the stamp, "lidar" (a length, 6 bytes with its NUL, padded to 12), height, width
    at = 4 + 8 + 12 + 8
    assert int.from_bytes(raw[at:at + 4], "little") == 4
    with pytest.raises(CdrError, match="claims"):   # a field count the bytes cannot hold
        decode_point_cloud(raw[:at] + (10**6).to_bytes(4, "little") + raw[at + 4:])


SCANS = {
    "plain": dict(ranges=[1.0, 2.5, float("nan"), float("inf"), 0.05, 31.0, -1.0, 7.25]),
    "with intensities": dict(ranges=np.linspace(0.2, 20, 1080), intensities=np.linspace(0, 1e4, 1080),
                             angle_min=-2.35, angle_increment=0.00436, stamp_ns=12 * 10**9 + 5,
                             time_increment=1e-5),
    "empty": dict(ranges=[]),
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_laser_scan_decodes_rclpy_and_rosbags_bytes_of_both_endians(name):
    kw = SCANS[name]
    msg = scan_rclpy(**kw)
    for raw in (serialize_message(msg), scan_cdr(little=True, **kw), scan_cdr(little=False, **kw)):
        s = decode_laser_scan(raw)
        assert (s.header.frame_id, s.header.stamp.sec, s.header.stamp.nanosec) == \
            (msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec)
        for f in ("angle_min", "angle_max", "angle_increment", "time_increment", "scan_time",
                  "range_min", "range_max"):
            assert getattr(s, f) == pytest.approx(getattr(msg, f), rel=1e-7), f
        np.testing.assert_array_equal(s.ranges, np.asarray(msg.ranges, np.float32))
        np.testing.assert_array_equal(s.intensities, np.asarray(msg.intensities, np.float32))
        assert s.ranges.size == 0 or not s.ranges.flags.writeable


def test_laser_scan_truncated_bytes_are_refused():
    raw = scan_cdr(**SCANS["with intensities"])
    for cut in (3, 10, 30, 60, len(raw) // 2, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_laser_scan(raw[:cut])
    assert scan_rosbags(ranges=[1.0]).ranges.tolist() == [1.0]
