"""The Marker decoder (vuer_ros/cdr/markers.py) decodes what rclpy (Fast CDR) and rosbags serialize, field by field,
refuses malformed bytes with CdrError, and never decodes an over-limit list."""

from __future__ import annotations

import math
import random
from copy import deepcopy

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from visualization_msgs.msg import Marker as RosMarker
from visualization_msgs.msg import MarkerArray as RosMarkerArray
from visualization_msgs.msg import UVCoordinate
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA

from vuer_ros.cdr import ArrayDecoder, CdrError, UnsupportedEncoding, decode_marker, decode_marker_array
from vuer_ros.scene import SceneModel


def random_marker(rng: random.Random, i: int) -> RosMarker:
    m = RosMarker()
    m.header.frame_id = rng.choice(["", "map", "base_link", "odd frame:#ü/1"])
    m.header.stamp.sec = rng.randrange(0, 2**31)
    m.header.stamp.nanosec = rng.randrange(0, 10**9)
    m.ns = rng.choice(["", "a", "nämespace with spaces", "x" * rng.randrange(0, 9)])
    m.id = rng.randrange(-2**31, 2**31)
    m.type = rng.randrange(0, 13)
    m.action = rng.choice([0, 2, 3])
    p, o = m.pose.position, m.pose.orientation
    p.x, p.y, p.z = (rng.uniform(-1e3, 1e3) for _ in range(3))
    o.x, o.y, o.z, o.w = (rng.uniform(-1, 1) for _ in range(4))
    m.scale.x, m.scale.y, m.scale.z = (rng.uniform(0, 3) for _ in range(3))
    m.color.r, m.color.g, m.color.b, m.color.a = (rng.random() for _ in range(4))
    m.lifetime.sec, m.lifetime.nanosec = rng.randrange(0, 100), rng.randrange(0, 10**9)
    m.frame_locked = rng.random() < 0.5
    n = rng.choice([0, 1, 2, 5, 33])
    m.points = [Point(x=rng.uniform(-9, 9), y=rng.uniform(-9, 9), z=rng.uniform(-9, 9))
                for _ in range(n)]
    if rng.random() < 0.5:
        m.colors = [ColorRGBA(r=rng.random(), g=rng.random(), b=rng.random(), a=rng.random())
                    for _ in range(rng.choice([0, n, 3]))]
    m.texture_resource = rng.choice(["", "package://p/t.png", "embedded://t.png"])
    m.texture.header.frame_id = rng.choice(["", "tex"])
    m.texture.header.stamp.sec = rng.randrange(0, 2**31)
    m.texture.header.stamp.nanosec = rng.randrange(0, 10**9)
    m.texture.format = rng.choice(["", "png"])
    m.texture.data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 3, 17])))
    # odd lengths before and after, so the float32 list starts at every alignment
    m.uv_coordinates = [UVCoordinate(u=rng.uniform(-1, 2), v=rng.uniform(-1, 2))
                        for _ in range(rng.choice([0, 1, n, 7]))]
    m.text = rng.choice(["", "hello", "ünïcode ✓"])
    m.mesh_resource = rng.choice(["", "package://vuer_ros/x.stl", "file:///tmp/a b.obj"])
    m.mesh_file.filename = rng.choice(["", "m.stl"])
    m.mesh_file.data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 5])))
    m.mesh_use_embedded_materials = rng.random() < 0.5
    return m


def same(ros: RosMarker, got) -> None:
    assert got.header.frame_id == ros.header.frame_id
    assert (got.header.stamp.sec, got.header.stamp.nanosec) == (ros.header.stamp.sec,
                                                                ros.header.stamp.nanosec)
    assert (got.ns, got.id, got.type, got.action) == (ros.ns, ros.id, ros.type, ros.action)
    for a, b in ((got.pose.position, ros.pose.position), (got.scale, ros.scale)):
        assert (a.x, a.y, a.z) == (b.x, b.y, b.z)
    q, r = got.pose.orientation, ros.pose.orientation
    assert (q.x, q.y, q.z, q.w) == (r.x, r.y, r.z, r.w)
    c, d = got.color, ros.color
    assert np.array_equal(np.float32([c.r, c.g, c.b, c.a]), np.float32([d.r, d.g, d.b, d.a]))
    assert (got.lifetime.sec, got.lifetime.nanosec) == (ros.lifetime.sec, ros.lifetime.nanosec)
    assert got.frame_locked == ros.frame_locked
    assert len(got.points) == len(ros.points)
    assert np.array_equal(np.asarray(got.points).reshape(-1, 3),
                          np.array([[p.x, p.y, p.z] for p in ros.points]).reshape(-1, 3))
    assert len(got.colors) == len(ros.colors)
    assert np.array_equal(np.asarray(got.colors, dtype=np.float32).reshape(-1, 4),
                          np.float32([[c.r, c.g, c.b, c.a] for c in ros.colors]).reshape(-1, 4))
    assert got.texture_resource == ros.texture_resource
    t, r = got.texture, ros.texture
    assert (t.header.frame_id, t.header.stamp.sec, t.header.stamp.nanosec, t.format) == \
        (r.header.frame_id, r.header.stamp.sec, r.header.stamp.nanosec, r.format)
    assert isinstance(t.data, np.ndarray) and t.data.dtype == np.uint8
    assert t.data.tobytes() == bytes(r.data)
    uv = got.uv_coordinates
    assert isinstance(uv, np.ndarray) and uv.dtype.kind == "f" and uv.shape == (len(ros.uv_coordinates), 2)
    assert np.array_equal(uv.astype(np.float32),
                          np.float32([[c.u, c.v] for c in ros.uv_coordinates]).reshape(-1, 2))
    assert got.text == ros.text
    assert got.mesh_resource == ros.mesh_resource
    assert got.mesh_file.filename == ros.mesh_file.filename
    assert isinstance(got.mesh_file.data, np.ndarray) and got.mesh_file.data.dtype == np.uint8
    assert got.mesh_file.data.tobytes() == bytes(ros.mesh_file.data)
    assert got.mesh_use_embedded_materials == ros.mesh_use_embedded_materials


@pytest.mark.parametrize("seed", range(5))
def test_marker_round_trip_against_rclpy(seed):
    rng = random.Random(seed)
    for i in range(40):
        m = random_marker(rng, i)
        same(m, decode_marker(serialize_message(m)))


def test_marker_array_round_trip_against_rclpy():
    rng = random.Random(7)
    markers = [random_marker(rng, i) for i in range(60)]
    got = decode_marker_array(serialize_message(RosMarkerArray(markers=markers)))
    assert len(got.markers) == 60
    for a, b in zip(markers, got.markers):
        same(a, b)
    assert decode_marker_array(serialize_message(RosMarkerArray())).markers == []


def test_big_endian_from_rosbags():
    from rosbags.typesys import Stores, get_typestore
    ts = get_typestore(Stores.ROS2_JAZZY)
    rng = random.Random(3)
    for _ in range(10):
        m = random_marker(rng, 0)
        rb = ts.deserialize_cdr(serialize_message(m), "visualization_msgs/msg/Marker")
        be = ts.serialize_cdr(rb, "visualization_msgs/msg/Marker", little_endian=False)
        assert be[:2] == b"\x00\x00"
        same(m, decode_marker(be))


def test_truncated_and_garbage_bytes_raise_cdr_error():
    m = random_marker(random.Random(1), 0)
    m.points = [Point(x=1.0, y=2.0, z=3.0)] * 10
    raw = serialize_message(m)
    for cut in (0, 3, 10, 40, len(raw) // 2, len(raw) - 1):
        with pytest.raises(CdrError):
            decode_marker(raw[:cut])
    with pytest.raises(UnsupportedEncoding):
        decode_marker(b"\x00\x07\x00\x00" + raw[4:])          # XCDR2: the middleware decodes it
    with pytest.raises(CdrError):
        decode_marker_array(b"\x00\x01\x00\x00\xff\xff\xff\x7f")  # absurd count


def test_over_limit_points_are_counted_not_decoded():
    """A marker claiming many points is refused by the scene model by its length."""
    m = RosMarker(ns="big", id=4, type=8)
    m.points = [Point(x=1.0)] * 20
    raw = bytearray(serialize_message(m))
    got = decode_marker(bytes(raw), max_points=10)
    assert len(got.points) == 20
    with pytest.raises(CdrError):
        list(got.points)
    model = SceneModel("map", max_marker_points=10)
    found = model.on_marker(got, 0)
    assert found and "ns=big id=4" in found[0] and "limit of 10" in found[0]


def test_decoded_markers_drive_the_scene_model_like_rclpy_ones():
    rng = random.Random(11)
    a, b = SceneModel("map"), SceneModel("map")
    for i in range(100):
        m = random_marker(rng, i)
        m.action = 0
        m.header.frame_id = "map"
        if m.type == 10:
            m.mesh_resource = ""
        fa = a.on_marker(m, 0)
        fb = b.on_marker(decode_marker(serialize_message(m)), 0)
        assert fa == fb
    ea, eb = a.drain_events(), b.drain_events()
    assert [e.to_wire() for e in ea][0].keys() == [e.to_wire() for e in eb][0].keys()
    assert len(a.markers) == len(b.markers)
    assert not math.isnan(len(a.markers))


# -- ArrayDecoder: the same markers moved reuse the previous decode ---------------------

def moved_copy(markers: list[RosMarker], rng: random.Random) -> list[RosMarker]:
    """The markers with new stamps and poses, nothing else changed."""
    out = []
    for m in markers:
        c = deepcopy(m)
        c.header.stamp.sec = rng.randrange(0, 2**31)
        c.header.stamp.nanosec = rng.randrange(0, 10**9)
        p, o = c.pose.position, c.pose.orientation
        p.x, p.y, p.z = (rng.uniform(-1e3, 1e3) for _ in range(3))
        o.x, o.y, o.z, o.w = (rng.uniform(-1, 1) for _ in range(4))
        out.append(c)
    return out


def test_array_decoder_moved_markers_equal_a_full_decode():
    rng = random.Random(21)
    first = [random_marker(rng, i) for i in range(80)]
    decoder = ArrayDecoder()
    got1 = decoder.decode(serialize_message(RosMarkerArray(markers=first)))
    second = moved_copy(first, rng)
    got2 = decoder.decode(serialize_message(RosMarkerArray(markers=second)))
    for a, b in zip(second, got2.markers):
        same(a, b)
    # the shortcut was taken: the unchanged fields are the previous decode's objects
    assert all(b.points is a.points and b.color is a.color for a, b in zip(got1.markers, got2.markers))
    # and the previous decode is untouched
    for a, b in zip(first, got1.markers):
        same(a, b)


def test_array_decoder_any_other_change_decodes_in_full():
    rng = random.Random(22)
    base = [random_marker(rng, i) for i in range(30)]
    for m in base:
        m.points = [Point(x=1.0, y=2.0, z=3.0)] * 3
        m.colors = []
        m.uv_coordinates = [UVCoordinate(u=0.25, v=0.5) for _ in range(3)]
        m.texture.data = b"\x89PNG tex"
    changes = {
        "color": lambda m: setattr(m.color, "g", 0.123),
        "scale": lambda m: setattr(m.scale, "x", 9.5),
        "text (same length)": lambda m: setattr(m, "text", "X" * len(m.text) if m.text else "Y"),
        "a point": lambda m: m.points.__setitem__(1, Point(x=7.0, y=2.0, z=3.0)),
        "id": lambda m: setattr(m, "id", m.id ^ 1),
        "a uv": lambda m: m.uv_coordinates.__setitem__(2, UVCoordinate(u=0.75, v=0.5)),
        "a texture byte": lambda m: setattr(m.texture, "data", b"\x89PNG teX"),
        "action": lambda m: setattr(m, "action", 2 if m.action != 2 else 0),
        "frame_id (longer)": lambda m: setattr(m.header, "frame_id", m.header.frame_id + "abcd"),
    }
    for name, change in changes.items():
        decoder = ArrayDecoder()
        got1 = decoder.decode(serialize_message(RosMarkerArray(markers=base)))
        changed = moved_copy(base, rng)
        change(changed[17])
        got2 = decoder.decode(serialize_message(RosMarkerArray(markers=changed)))
        for a, b in zip(changed, got2.markers):
            same(a, b)
        assert got2.markers[0].points is not got1.markers[0].points, name


def test_array_decoder_ignores_padding_bytes_and_reads_big_endian():
    """Alignment padding holds whatever the serialiser's buffer held: garbage there is
    no change; rosbags' big-endian arrays take the shortcut too."""
    from rosbags.typesys import Stores, get_typestore
    ts = get_typestore(Stores.ROS2_JAZZY)
    rng = random.Random(23)
    first = [random_marker(rng, i) for i in range(40)]
    second = moved_copy(first, rng)
    for little in (True, False):
        raw = [ts.serialize_cdr(ts.deserialize_cdr(serialize_message(RosMarkerArray(markers=ms)),
                                                   "visualization_msgs/msg/MarkerArray"),
                                "visualization_msgs/msg/MarkerArray", little_endian=little)
               for ms in (first, second)]
        decoder = ArrayDecoder()
        got1 = decoder.decode(raw[0])
        noisy = bytearray(raw[1])
        pads = ~decoder._fixed
        pads[decoder._stamp_bytes.ravel()] = False
        pads[decoder._pose_bytes.ravel()] = False
        for off in np.flatnonzero(pads):
            noisy[off] = rng.randrange(256)
        assert pads.any()
        got2 = decoder.decode(bytes(noisy))
        for a, b in zip(second, got2.markers):
            same(a, b)
        assert all(b.color is a.color for a, b in zip(got1.markers, got2.markers))


# -- MarkerArrays as columns (vuer_ros/cdr/marker_columns.py) ------------------------------

def plain_marker(rng: random.Random, i: int) -> RosMarker:
    """A marker with every list, the texture and the mesh empty (a cube, a label): the
    kind the columns describe alone."""
    m = random_marker(rng, i)
    m.points, m.colors, m.uv_coordinates = [], [], []
    m.texture_resource, m.mesh_resource = "", ""
    m.texture = type(m.texture)()
    m.mesh_file = type(m.mesh_file)()
    m.mesh_use_embedded_materials = False
    m.text = rng.choice(["", "7", "hello", "ünïcode ✓", "x" * rng.randrange(0, 9)])
    return m


def mixed_markers(rng: random.Random, n: int) -> list[RosMarker]:
    out = [plain_marker(rng, i) if rng.random() < 0.7 else random_marker(rng, i) for i in range(n)]
    # almost plain: one field each that the columns do not hold
    for k, change in enumerate([lambda m: setattr(m, "mesh_use_embedded_materials", True),
                                lambda m: setattr(m.texture.header.stamp, "sec", 5),
                                lambda m: setattr(m, "mesh_resource", "package://p/m.stl"),
                                lambda m: setattr(m.texture, "format", "png")]):
        m = plain_marker(rng, 1000 + k)
        change(m)
        out.insert(rng.randrange(len(out)), m)
    return out


def columns_match(markers: list[RosMarker], cols) -> None:
    """Every column holds the messages' values; a plain marker is flagged plain."""
    assert cols.n == len(markers)
    assert cols.ids.tolist() == [m.id for m in markers]
    assert cols.types.tolist() == [m.type for m in markers]
    assert cols.actions.tolist() == [m.action for m in markers]
    assert cols.ns == [m.ns for m in markers] and cols.frame_ids == [m.header.frame_id for m in markers]
    assert cols.texts == [m.text for m in markers]
    assert cols.poses.tolist() == [[m.pose.position.x, m.pose.position.y, m.pose.position.z,
                                    m.pose.orientation.x, m.pose.orientation.y, m.pose.orientation.z,
                                    m.pose.orientation.w] for m in markers]
    assert cols.scales.tolist() == [[m.scale.x, m.scale.y, m.scale.z] for m in markers]
    assert np.array_equal(cols.colors, np.float32([[m.color.r, m.color.g, m.color.b, m.color.a] for m in markers]))
    assert cols.lifetimes.tolist() == [m.lifetime.sec * 10**9 + m.lifetime.nanosec for m in markers]
    assert cols.locked.tolist() == [m.frame_locked for m in markers]
    assert cols.stamps.tolist() == [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in markers]
    plain = [not (m.points or m.colors or m.uv_coordinates or m.texture_resource or m.mesh_resource
                  or m.texture.header.frame_id or m.texture.format or len(m.texture.data)
                  or m.texture.header.stamp.sec or m.texture.header.stamp.nanosec
                  or m.mesh_file.filename or len(m.mesh_file.data) or m.mesh_use_embedded_materials)
             for m in markers]
    assert cols.plain.tolist() == plain


@pytest.mark.parametrize("seed", range(4))
def test_array_columns_and_markers_equal_what_rclpy_serialized(seed):
    rng = random.Random(100 + seed)
    markers = mixed_markers(rng, 70)
    got = decode_marker_array(serialize_message(RosMarkerArray(markers=markers)))
    columns_match(markers, got.columns)
    assert 0 < got.columns.plain.sum() < len(markers)
    for a, b in zip(markers, got.markers):
        same(a, b)


def test_moved_columns_share_everything_but_stamps_and_poses():
    rng = random.Random(24)
    first = mixed_markers(rng, 50)
    decoder = ArrayDecoder()
    got1 = decoder.decode(serialize_message(RosMarkerArray(markers=first)))
    second = moved_copy(first, rng)
    got2 = decoder.decode(serialize_message(RosMarkerArray(markers=second)))
    columns_match(second, got2.columns)
    for a, b in zip(second, got2.markers):
        same(a, b)
    c1, c2 = got1.columns, got2.columns
    assert all(getattr(c1, n) is getattr(c2, n) for n in ("ids", "scales", "colors", "texts", "plain", "ns"))
    columns_match(first, c1)   # the previous decode is untouched


def test_plain_markers_padding_garbage_and_big_endian_take_the_shortcut():
    from rosbags.typesys import Stores, get_typestore
    ts = get_typestore(Stores.ROS2_JAZZY)
    rng = random.Random(25)
    first = [plain_marker(rng, i) for i in range(40)]
    second = moved_copy(first, rng)
    for little in (True, False):
        raw = [ts.serialize_cdr(ts.deserialize_cdr(serialize_message(RosMarkerArray(markers=ms)),
                                                   "visualization_msgs/msg/MarkerArray"),
                                "visualization_msgs/msg/MarkerArray", little_endian=little)
               for ms in (first, second)]
        decoder = ArrayDecoder()
        got1 = decoder.decode(raw[0])
        columns_match(first, got1.columns)
        noisy = bytearray(raw[1])
        pads = ~decoder._fixed
        pads[decoder._stamp_bytes.ravel()] = False
        pads[decoder._pose_bytes.ravel()] = False
        for off in np.flatnonzero(pads):
            noisy[off] = rng.randrange(256)
        assert pads.any()
        got2 = decoder.decode(bytes(noisy))
        columns_match(second, got2.columns)
        assert got2.columns.ids is got1.columns.ids
