"""The OccupancyGrid and OccupancyGridUpdate decoders (vuer_ros/cdr/occupancy.py) read
what rclpy (Fast CDR, little-endian) and rosbags (big- and little-endian) serialize,
field by field, the cells as an int8 view of the bytes (no copy); truncated bytes and
sequences longer than the message are CdrError. The map_msgs definition the core
registers has the type hash of the package setup generates (rclpy's)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from map_msgs.msg import OccupancyGridUpdate
from nav_msgs.msg import OccupancyGrid
from rclpy.serialization import serialize_message

from vuer_ros.cdr import CdrError, jazzy_store
from vuer_ros.cdr.occupancy import (
    UPDATE_MSGTYPE,
    decode_occupancy_grid,
    decode_occupancy_grid_update,
)


def random_grid(rng: random.Random) -> OccupancyGrid:
    m = OccupancyGrid()
    m.header.frame_id = rng.choice(["", "map", "/odom", "ü" * rng.randrange(7), "x" * rng.randrange(9)])
    m.header.stamp.sec, m.header.stamp.nanosec = rng.randrange(-2**31, 2**31), rng.randrange(10**9)
    info = m.info
    info.map_load_time.sec, info.map_load_time.nanosec = rng.randrange(2**31), rng.randrange(10**9)
    info.resolution = rng.uniform(0.001, 2.0)
    info.width, info.height = rng.randrange(0, 40), rng.randrange(0, 30)
    p, q = info.origin.position, info.origin.orientation
    p.x, p.y, p.z = (rng.uniform(-1e5, 1e5) for _ in range(3))
    q.x, q.y, q.z, q.w = (rng.uniform(-1, 1) for _ in range(4))
    n = info.width * info.height + rng.choice([0, 0, 1, 3])   # the decoder takes any length
    m.data = [rng.randrange(-128, 128) for _ in range(n)]
    return m


def random_update(rng: random.Random) -> OccupancyGridUpdate:
    u = OccupancyGridUpdate()
    u.header.frame_id = rng.choice(["", "map", "a" * rng.randrange(6)])
    u.header.stamp.sec, u.header.stamp.nanosec = rng.randrange(2**31), rng.randrange(10**9)
    u.x, u.y = rng.randrange(-2**31, 2**31), rng.randrange(-5, 100)
    u.width, u.height = rng.randrange(0, 2**32), rng.randrange(0, 20)
    u.data = [rng.randrange(-128, 128) for _ in range(rng.randrange(0, 50))]
    return u


def grid_fields(m) -> tuple:
    i, p, q = m.info, m.info.origin.position, m.info.origin.orientation
    return (m.header.frame_id, m.header.stamp.sec, m.header.stamp.nanosec, i.map_load_time.sec,
            i.map_load_time.nanosec, np.float32(i.resolution), i.width, i.height,
            p.x, p.y, p.z, q.x, q.y, q.z, q.w, list(np.asarray(m.data, np.int8)))


def update_fields(u) -> tuple:
    return (u.header.frame_id, u.header.stamp.sec, u.header.stamp.nanosec, u.x, u.y, u.width,
            u.height, list(np.asarray(u.data, np.int8)))


def rosbags_bytes(msg, msgtype: str, little_endian: bool) -> bytes:
    """The same message serialized by rosbags (through its own deserializer of rclpy's bytes)."""
    store = jazzy_store()
    ros = store.deserialize_cdr(serialize_message(msg), msgtype)
    return bytes(store.serialize_cdr(ros, msgtype, little_endian=little_endian))


@pytest.mark.parametrize("seed", range(6))
def test_grid_equals_rclpy_and_rosbags_serialisations(seed):
    msg = random_grid(random.Random(seed))
    want = grid_fields(msg)
    assert grid_fields(decode_occupancy_grid(serialize_message(msg))) == want
    for little in (True, False):
        assert grid_fields(decode_occupancy_grid(
            rosbags_bytes(msg, "nav_msgs/msg/OccupancyGrid", little))) == want


@pytest.mark.parametrize("seed", range(6))
def test_update_equals_rclpy_and_rosbags_serialisations(seed):
    msg = random_update(random.Random(seed))
    want = update_fields(msg)
    assert update_fields(decode_occupancy_grid_update(serialize_message(msg))) == want
    for little in (True, False):
        assert update_fields(decode_occupancy_grid_update(
            rosbags_bytes(msg, UPDATE_MSGTYPE, little))) == want


def test_cells_are_a_view_of_the_received_bytes():
    m = OccupancyGrid()
    m.info.width, m.info.height = 2000, 1000
    m.data = np.tile(np.arange(-100, 100, dtype=np.int8), 10_000).tolist()
    raw = serialize_message(m)
    grid = decode_occupancy_grid(raw)
    assert grid.data.dtype == np.int8 and grid.data.size == 2_000_000
    assert grid.data.base is not None and not grid.data.flags.owndata
    assert np.array_equal(grid.data[:200], np.arange(-100, 100, dtype=np.int8))


def test_truncated_or_overlong_bytes_are_cdr_errors():
    m = OccupancyGrid()
    m.header.frame_id = "map"
    m.info.width, m.info.height = 3, 2
    m.data = [1, 2, 3, 4, 5, 6]
    raw = serialize_message(m)
    for cut in (2, 10, 20, 40, 70, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_occupancy_grid(raw[:cut])
    u = OccupancyGridUpdate(width=2, height=1, data=[1, 2])
    raw = serialize_message(u)
    for cut in (2, 15, 24, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_occupancy_grid_update(raw[:cut])


def test_the_registered_update_definition_has_the_generated_package_s_hash():
    generated = Path(sys.prefix) / "share" / "map_msgs" / "msg" / "OccupancyGridUpdate.json"
    hashes = {h["type_name"]: h["hash_string"]
              for h in json.loads(generated.read_text())["type_hashes"]}
    assert str(jazzy_store().hash_rihs01(UPDATE_MSGTYPE)) == hashes[UPDATE_MSGTYPE]
