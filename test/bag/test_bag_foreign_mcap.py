"""render-bag on MCAP files from writers other than rosbag2, laid out as the Foxglove
SDK writes ROS 2 messages (vuer_ros.bag.synthetic.write_sdk_mcap with the mcap
package's writer: empty header profile, no rosbag2 metadata, ``cdr`` channels whose
``ros2msg`` schemas embed the full definition with its dependencies after ``====``
lines; a ``ros2idl`` one too), next to the same scene written by rosbags. Real files,
real Chromium (one for the module), outputs read back with rosbags."""

from __future__ import annotations

import argparse
import asyncio
import heapq
import logging
import random

import numpy as np
import pytest
from mcap.writer import Writer as McapWriter
from rosbags.interfaces import MessageDefinitionFormat
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore

from vuer_ros.view.offline import scan_tf_frames
from vuer_ros.bag import BagInput, BagReadError, RenderOptions, Renderer, render_bag_async
from vuer_ros.bag.cli import add_arguments, run
from vuer_ros.cdr.typestore import store_from_definition
from vuer_ros.bag.synthetic import (CUBE_SIZE, T0_NS, RawChannel, demo_messages, mover_position,
                                    typestore, write_demo_bag, write_sdk_mcap)

from bag_helpers import (box_corners, camera_from_output, centroid, image_array, predicted_centroid,
                         read_bag, red_mask)

W, H, FOV, RATE = 160, 120, 60.0, 10.0
EYE, TARGET = (0.0, -3.0, 1.2), (0.0, 0.0, 0.15)
SEP = "=" * 80 + "\n"

# a type no ROS distro has, described only by the file (ros2msg, a dependency after ====)
BLOB_TYPE = "my_pkg/msg/Blob"
BLOB_MSG = ("# a type of our own\nbuiltin_interfaces/Time stamp\nuint32 seq\nstring note\n"
            "float64[3] position\nuint8[] payload\n"
            + SEP + "MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n")
# one described in IDL: every definition after an IDL: delimiter
READING_TYPE = "my_pkg/msg/Reading"
READING_STRUCT = ("module my_pkg {\n  module msg {\n    struct Reading {\n"
                  "      builtin_interfaces::msg::Time stamp;\n      double value;\n"
                  "      sequence<float> samples;\n      string label;\n    };\n  };\n};\n")
TIME_IDL = ("module builtin_interfaces {\n  module msg {\n    struct Time {\n      int32 sec;\n"
            "      uint32 nanosec;\n    };\n  };\n};\n")
READING_IDL = (SEP + f"IDL: {READING_TYPE}\n" + READING_STRUCT
               + SEP + "IDL: builtin_interfaces/msg/Time\n" + TIME_IDL)
# the same as rosidl writes .idl files: #include lines first (rosbags' AnyReader, which
# reads the output bags here, takes no #include: this one is only read through BagInput)
READING_ROSIDL = (SEP + f"IDL: {READING_TYPE}\n" + '#include "builtin_interfaces/msg/Time.idl"\n\n'
                  + READING_STRUCT + SEP + "IDL: builtin_interfaces/msg/Time\n" + TIME_IDL)
# channels render-bag cannot read: each is skipped with one log line naming its topic
SKIPPED = {
    "/foxglove/log": RawChannel("json", "foxglove.Log", "jsonschema", b'{"type": "object"}'),
    "/camera/pb": RawChannel("protobuf", "foxglove.CompressedImage", "protobuf", b"\n\x00"),
    "/broken": RawChannel("cdr", "my_pkg/msg/Broken", "ros2msg", b"uint32 seq\nstring[ note\n"),
    "/no_schema": RawChannel("cdr"),
}
SKIP_REASONS = {"/foxglove/log": "json", "/camera/pb": "protobuf", "/broken": "does not parse",
                "/no_schema": "without a schema"}
OWN_TYPES = {"/custom": BLOB_TYPE, "/reading": READING_TYPE}


def own_store():
    store = typestore()
    store.register(get_types_from_msg(BLOB_MSG, BLOB_TYPE))
    store.register(get_types_from_idl(READING_STRUCT))
    return store


def extras(store):
    """/custom and /reading at 5 Hz, every skipped channel at 2 Hz, all inside the demo's 1 s."""
    T = store.types
    out = []
    for i in range(5):
        t = T0_NS + i * 200_000_000
        stamp = T["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9)
        out.append((t, "/custom", T[BLOB_TYPE](stamp=stamp, seq=i, note=f"blob {i}",
                                              position=np.array([i, -i, 0.5]),
                                              payload=np.arange(i + 1, dtype=np.uint8))))
        out.append((t, "/reading", T[READING_TYPE](stamp=stamp, value=i / 4,
                                                  samples=np.full(i, 1.5, np.float32), label=f"r{i}")))
    for i in range(2):
        t = T0_NS + 300_000_000 + i * 500_000_000
        out += [(t, "/foxglove/log", b'{"message": "hello"}'), (t, "/camera/pb", b"\x08\x01"),
                (t, "/broken", b"\x00\x01\x00\x00\x07\x00\x00\x00"), (t, "/no_schema", b"\x00\x01\x00\x00")]
    return sorted(out, key=lambda e: e[0])


def write_sdk_scene(path, reading_idl=READING_IDL):
    store = own_store()
    messages = heapq.merge(demo_messages(store, duration=1.0, tf_rate=50.0), extras(store),
                           key=lambda e: e[0])
    return write_sdk_mcap(path, messages, store, types=OWN_TYPES,
                          definitions={BLOB_TYPE: BLOB_MSG, READING_TYPE: reading_idl}, raw=SKIPPED)


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


# output bags of each storage (a folder keeps the type hashes in metadata.yaml, where
# rosbags reads them back)
OUTPUTS = {"rosbag2": "rosbag2-out.mcap", "sdk": "sdk-out", "galactic": "galactic-out.db3"}


def fixed_options():
    # no TF display: its red X axes would be in the red mask
    return RenderOptions.create(params={"displays.tf.enabled": False}, fixed_frame="world",
                                eye=EYE, target=TARGET, width=W, height=H, fov=FOV, rate=RATE)


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign-mcap")
    bags = {"rosbag2": write_demo_bag(root / "rosbag2.mcap", duration=1.0, tf_rate=50.0),
            "sdk": write_sdk_scene(root / "sdk.mcap"),
            # a Galactic Marker (no texture/uv_coordinates/mesh_file) embedded as ros2msg
            "galactic": write_demo_bag(root / "galactic.mcap", duration=1.0, tf_rate=50.0,
                                       distro="galactic", writer="sdk")}
    records = Records()
    logger = logging.getLogger("vuer_ros")
    logger.addHandler(records)

    async def main():
        out = {}
        async with Renderer(W, H) as renderer:
            for name, path in bags.items():
                records.lines = []
                summary = await render_bag_async(path, root / OUTPUTS[name], options=fixed_options(),
                                                 renderer=renderer)
                out[name] = {"in": path, "summary": summary, "out": root / OUTPUTS[name],
                             "warnings": records.lines}
        return out

    try:
        return asyncio.run(asyncio.wait_for(main(), 240))
    finally:
        logger.removeHandler(records)


def images(path):
    return [image_array(m) for _, m, _, _ in read_bag(path)["/vuer/image"]]


def test_an_sdk_file_renders_the_pixels_of_the_rosbags_file(renders):
    """(a) The same scene from the Foxglove SDK's layout and from rosbags: the same
    frames, pixel for pixel, and the cube where the pinhole model puts it."""
    sdk, ref = renders["sdk"], renders["rosbag2"]
    assert sdk["summary"].frames == ref["summary"].frames == 10
    assert sdk["summary"].stamps == ref["summary"].stamps
    got, want = images(sdk["out"]), images(ref["out"])
    assert len(got) == 10
    for k, (a, b) in enumerate(zip(got, want)):
        assert np.array_equal(a, b), k
    bag = read_bag(sdk["out"])
    for k, (t, img, _, _) in enumerate(bag["/vuer/image"]):
        camera = camera_from_output(bag, k)
        expected = predicted_centroid(camera, box_corners(mover_position((t - T0_NS) / 1e9), CUBE_SIZE))
        assert np.linalg.norm(centroid(red_mask(image_array(img))) - expected) <= 2.0, k


def test_types_no_distro_has_decode_from_the_embedded_definitions(tmp_path):
    """(b) my_pkg/msg/Blob (ros2msg) and my_pkg/msg/Reading (ros2idl with rosidl's
    #include) are not in the installed Jazzy store: the file's own schemas decode them."""
    jazzy = get_typestore(Stores.ROS2_JAZZY)
    assert BLOB_TYPE not in jazzy.fielddefs and READING_TYPE not in jazzy.fielddefs
    with BagInput(write_sdk_scene(tmp_path / "sdk.mcap", READING_ROSIDL)) as bag:
        (blob,) = bag.connections_of("/custom")
        (reading,) = bag.connections_of("/reading")
        assert (blob.msgtype, blob.msgdef.format, blob.msgdef.data) == (
            BLOB_TYPE, MessageDefinitionFormat.MSG, BLOB_MSG)
        assert (reading.msgtype, reading.msgdef.format, reading.msgdef.data) == (
            READING_TYPE, MessageDefinitionFormat.IDL, READING_ROSIDL)
        blobs = [bag.decode(c, raw) for c, _, raw in bag.messages([blob])]
        assert [b.seq for b in blobs] == list(range(5))
        b = blobs[3]
        assert b.note == "blob 3" and list(b.position) == [3.0, -3.0, 0.5]
        assert list(b.payload) == [0, 1, 2, 3] and b.stamp.nanosec == 600_000_000
        readings = [bag.decode(c, raw) for c, _, raw in bag.messages([reading])]
        r = readings[2]
        assert (r.value, r.label, list(r.samples)) == (0.5, "r2", [1.5, 1.5])
        assert r.stamp.sec == T0_NS // 10**9
        # the hash the copy is written with: RIHS01 of the embedded definition
        for conn, text in ((blob, BLOB_MSG), (reading, READING_ROSIDL)):
            fmt = conn.msgdef.format
            assert bag.definition(conn) == (
                text, store_from_definition(conn.msgtype, text, idl=fmt == MessageDefinitionFormat.IDL)
                .hash_rihs01(conn.msgtype))


def test_the_output_bag_copies_them_with_readable_definitions(renders):
    """(b) Every readable input message is in the output bag (a sqlite3 folder) byte for
    byte, with the embedded definition (text as in the input) and its hash, which rosbags
    checks when it reads them back."""
    sdk = renders["sdk"]
    out = read_bag(sdk["out"])
    with BagInput(sdk["in"]) as bag:
        inputs = {c.topic: [(t, bytes(raw)) for _, t, raw in bag.messages([c])] for c in bag.connections}
    assert set(inputs) == {"/tf", "/tf_static", "/visualization_marker", "/blob", "/chatter",
                           "/custom", "/reading"}
    for topic, msgs in inputs.items():
        copied = [(t, bytes(raw)) for t, _, raw, _ in out[topic]
                  if not (topic == "/tf_static" and b"vuer_camera_optical" in raw)]
        assert copied == msgs, topic
    # the SDK records no QoS: static TF (the input's and the camera's) is offered latched
    assert {c.ext.offered_qos_profiles[0].durability.name for *_, c in out["/tf_static"]} == {
        "TRANSIENT_LOCAL"}
    assert any(x.child_frame_id == "vuer_camera_optical" for _, m, _, _ in out["/tf_static"]
               for x in m.transforms)
    (_, blob, _, conn), = [m for m in out["/custom"] if m[1].seq == 3]
    assert conn.msgtype == BLOB_TYPE and conn.msgdef.data == BLOB_MSG
    assert conn.digest == store_from_definition(
        BLOB_TYPE, BLOB_MSG, idl=False).hash_rihs01(BLOB_TYPE)
    assert blob.note == "blob 3" and list(blob.payload) == [0, 1, 2, 3]
    reading = out["/reading"]
    assert reading[0][3].msgdef.data == READING_IDL and reading[4][1].label == "r4"
    assert reading[0][3].digest == store_from_definition(
        READING_TYPE, READING_IDL, idl=True).hash_rihs01(READING_TYPE)


def test_an_old_marker_layout_decodes_and_renders(renders, tmp_path):
    """(c) A Galactic Marker (no texture, uv_coordinates, mesh_file; Humble's already has
    them) embedded as ros2msg: decoded by its own definition, rendered as the Jazzy one."""
    galactic = renders["galactic"]
    with BagInput(galactic["in"]) as bag:
        (conn,) = bag.connections_of("/visualization_marker")
        assert "mesh_file" not in conn.msgdef.data and conn.msgdef.format == MessageDefinitionFormat.MSG
        (_, _, raw), = bag.messages([conn])
        cube = bag.decode(conn, raw)
        assert (cube.ns, cube.type, cube.header.frame_id) == ("cube", 1, "mover")
        assert not hasattr(cube, "mesh_file")
        with pytest.raises(Exception):  # noqa: B017  (rosbags raises struct/index/assertion errors alike)
            get_typestore(Stores.ROS2_JAZZY).deserialize_cdr(raw, conn.msgtype)
    assert galactic["summary"].frames == 10
    for k, (a, b) in enumerate(zip(images(galactic["out"]), images(renders["rosbag2"]["out"]))):
        assert np.array_equal(a, b), k


def test_other_encodings_and_broken_schemas_are_skipped_with_one_line_each(renders):
    """(d) json and protobuf channels, a cdr channel whose schema does not parse and one
    without a schema: one warning each, naming the topic; the rest renders."""
    sdk = renders["sdk"]
    for topic, why in SKIP_REASONS.items():
        lines = [line for line in sdk["warnings"] if topic in line]
        assert len(lines) == 1, (topic, sdk["warnings"])
        assert "skipped" in lines[0] and why in lines[0], lines[0]
    assert sdk["summary"].frames == 10
    assert not set(SKIPPED) & set(read_bag(sdk["out"]))
    assert not any("skipped" in line for line in renders["rosbag2"]["warnings"])


def test_the_cli_prints_each_skipped_channel_once(tmp_path, capsys):
    path = write_sdk_scene(tmp_path / "sdk.mcap")
    parser = argparse.ArgumentParser(prog="vuer-ros render-bag")
    add_arguments(parser)
    code = run(parser.parse_args([str(path), "-o", str(tmp_path / "o.mcap"), "--fixed-frame", "world",
                                  "--topics", "/nope"]))
    err = capsys.readouterr().err
    assert code == 2
    for topic in SKIPPED:
        assert len([line for line in err.splitlines() if topic in line]) == 1, err
    assert "topic /nope is not in bag" in err and "/visualization_marker" in err


# -- reading, no rendering -----------------------------------------------------------------------------
def test_an_sdk_file_streams_like_the_rosbags_file(tmp_path):
    """Same messages, same order, same times and counts, whichever writer wrote them."""
    kw = {"duration": 1.0, "tf_rate": 20.0, "array_markers": 3}
    with BagInput(write_demo_bag(tmp_path / "r.mcap", **kw)) as ref, \
            BagInput(write_demo_bag(tmp_path / "s.mcap", writer="sdk", **kw)) as sdk:
        assert type(ref.reader).__name__ == "Reader" and type(sdk.reader).__name__ == "McapFile"
        assert sdk.topic_types() == ref.topic_types()
        assert (sdk.start_ns, sdk.end_ns, sdk.message_count) == (ref.start_ns, ref.end_ns, ref.message_count)
        assert ([(c.topic, t, bytes(r)) for c, t, r in sdk.messages()]
                == [(c.topic, t, bytes(r)) for c, t, r in ref.messages()])
        stop = T0_NS + 500_000_000
        assert max(t for _, t, _ in sdk.messages(stop_ns=stop)) < stop
        for conn, _, raw in sdk.messages(sdk.connections_of("/visualization_marker_array")):
            assert [m.ns for m in sdk.decode(conn, raw).markers] == ["ring"] * 3 + ["path", "label"]
        assert scan_tf_frames(sdk, set()) == scan_tf_frames(ref, set())


def test_overlapping_chunks_stream_in_log_time_order(tmp_path):
    """A writer logs in arrival order: log times go back and forth, small chunks overlap
    in time. The stream is still in log-time order, complete, and stops at stop_ns."""
    store = typestore()
    rng = random.Random(7)
    msgs = list(demo_messages(store, duration=2.0, tf_rate=100.0))
    # each message a little late, by up to 50 ms: written out of log-time order
    shuffled = sorted(msgs, key=lambda e: e[0] + rng.randrange(50_000_000))
    path = write_sdk_mcap(tmp_path / "late.mcap", shuffled, store, chunk_size=512)
    with BagInput(path) as bag:
        assert len(bag.reader._spans) > 20
        got = [(t, c.topic) for c, t, _ in bag.messages()]
        assert [t for t, _ in got] == sorted(t for t, _ in got)
        assert sorted(got) == sorted((t, topic) for t, topic, _ in msgs)
        assert (bag.start_ns, bag.end_ns, bag.message_count) == (msgs[0][0], msgs[-1][0], len(msgs))
        stop = T0_NS + 1_000_000_000
        assert [t for _, t, _ in bag.messages(stop_ns=stop)] == sorted(t for t, _, _ in msgs if t < stop)


def test_a_file_without_chunks_summary_or_statistics(tmp_path):
    """Messages straight in the data section, no index: read front to back."""
    store = typestore()
    msgs = list(demo_messages(store, duration=1.0, tf_rate=20.0, blob=False))
    path = tmp_path / "plain.mcap"
    with open(path, "wb") as f:
        writer = McapWriter(f, use_chunking=False, use_statistics=False, use_summary_offsets=False,
                            repeat_channels=False, repeat_schemas=False)
        writer.start(profile="", library="test")
        channels = {}
        for t, topic, msg in msgs:
            if topic not in channels:
                msgtype = msg.__msgtype__
                schema = writer.register_schema(msgtype, "ros2msg",
                                                store.generate_msgdef(msgtype, ros_version=2)[0].encode())
                channels[topic] = writer.register_channel(topic, "cdr", schema)
            writer.add_message(channels[topic], t, store.serialize_cdr(msg, msg.__msgtype__).tobytes(), t)
        writer.finish()
    with BagInput(path) as bag:
        assert bag.message_count == len(msgs) and (bag.start_ns, bag.end_ns) == (T0_NS, T0_NS + 10**9)
        assert [(c.topic, t) for c, t, _ in bag.messages()] == [(topic, t) for t, topic, _ in msgs]
        frames = scan_tf_frames(bag, {"world", "mover_cam"})
        assert frames["mover_cam"] is True and frames["world"] is False


def test_a_file_with_nothing_readable_says_what_it_skipped(tmp_path):
    path = write_sdk_mcap(tmp_path / "json.mcap", [(T0_NS, "/foxglove/log", b"{}")], typestore(),
                          raw={"/foxglove/log": SKIPPED["/foxglove/log"]})
    with pytest.raises(BagReadError) as e:
        BagInput(path)
    assert "holds no messages it can read" in str(e.value) and "/foxglove/log: json" in str(e.value)


def test_a_recording_cut_short_is_read_up_to_the_cut(tmp_path):
    """A logger that died mid-recording leaves no summary and no closing magic: the
    messages of every whole chunk before the cut are read, with one warning."""
    store = typestore()
    msgs = list(demo_messages(store, duration=2.0, tf_rate=100.0))
    data = write_sdk_mcap(tmp_path / "whole.mcap", msgs, store, chunk_size=4096).read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[:len(data) * 6 // 10])
    records = Records()
    logging.getLogger("vuer_ros").addHandler(records)
    try:
        with BagInput(cut) as bag:
            got = [(t, c.topic) for c, t, _ in bag.messages()]
            assert bag.message_count == len(got) and bag.start_ns == T0_NS
            assert bag.end_ns == got[-1][0]
    finally:
        logging.getLogger("vuer_ros").removeHandler(records)
    assert len(msgs) // 2 < len(got) < len(msgs)
    assert got == [(t, topic) for t, topic, _ in msgs[:len(got)]]
    (warning,) = [line for line in records.lines if "cut short" in line]
    assert "cut.mcap" in warning and f"the {len(got)} messages before the cut" in warning
