"""BagInput: both storage formats, bare files and folders, each message type
decoded with the bag's own definition (or the distro's, when the bag has none)."""

from __future__ import annotations

import sqlite3

import pytest
import yaml
from rosbags.typesys import Stores, get_typestore

from vuer_ros.view.offline import scan_tf_frames
from vuer_ros.bag import BagInput
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, write_bag, write_demo_bag


@pytest.mark.parametrize("name,storage", [("b.mcap", "mcap"), ("b.db3", "sqlite3"),
                                          ("folder_mcap", "mcap"), ("folder_db3", "sqlite3")])
def test_reads_both_formats_as_a_time_ordered_stream(tmp_path, name, storage):
    path = write_demo_bag(tmp_path / name, duration=1.0, tf_rate=20.0, array_markers=3,
                          storage=storage)
    with BagInput(path) as bag:
        assert (bag.start_ns, bag.end_ns, bag.duration_ns) == (T0_NS, T0_NS + 10**9, 10**9)
        assert bag.topic_types()["/tf"] == "tf2_msgs/msg/TFMessage"
        stamps = [t for _, t, _ in bag.messages()]
        assert stamps == sorted(stamps) and len(stamps) == bag.message_count
        assert max(t for _, t, _ in bag.messages(stop_ns=T0_NS + 500_000_000)) < T0_NS + 500_000_000
        for conn, _, raw in bag.messages(bag.connections_of("/visualization_marker_array")):
            array = bag.decode(conn, raw)
            assert [m.ns for m in array.markers][:3] == ["ring"] * 3
        frames = scan_tf_frames(bag, {"world", "mover_cam"})
        assert frames["mover_cam"] is True and frames["world"] is False


def test_decodes_with_the_bags_own_definitions(tmp_path):
    """A Foxy Marker has no texture/mesh_file fields: the bag's definition decodes it
    (the Jazzy definition would not)."""
    store = get_typestore(Stores.ROS2_FOXY)
    m = MessageFactory(store)
    T = store.types
    marker = T["visualization_msgs/msg/Marker"](
        header=m.header(T0_NS, "world"), ns="old", id=1, type=1, action=0,
        pose=T["geometry_msgs/msg/Pose"](position=T["geometry_msgs/msg/Point"](x=1.0, y=2.0, z=3.0),
                                         orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)),
        scale=T["geometry_msgs/msg/Vector3"](x=1.0, y=1.0, z=1.0),
        color=T["std_msgs/msg/ColorRGBA"](r=1.0, g=0.0, b=0.0, a=1.0),
        lifetime=T["builtin_interfaces/msg/Duration"](sec=0, nanosec=0), frame_locked=False,
        points=[], colors=[], text="", mesh_resource="", mesh_use_embedded_materials=False)
    path = write_bag(tmp_path / "foxy.mcap", [(T0_NS, "/visualization_marker", marker)], store)
    with BagInput(path) as bag:
        (conn,) = bag.connections
        (_, _, raw), = bag.messages()
        msg = bag.decode(conn, raw)
        assert (msg.ns, msg.pose.position.y) == ("old", 2.0) and not hasattr(msg, "mesh_file")
        with pytest.raises(Exception):  # noqa: B017  (rosbags raises struct/index/assertion errors alike)
            get_typestore(Stores.ROS2_JAZZY).deserialize_cdr(raw, conn.msgtype)
        msgdef, digest = bag.definition(conn)
        assert msgdef == conn.msgdef.data
        assert digest == (conn.digest or bag.typestore_for(conn).hash_rihs01(conn.msgtype))


def test_a_bag_without_definitions_falls_back_to_its_distro(tmp_path):
    """Humble's sqlite3 bags carry no definitions or hashes: known types decode with the
    Humble store and get definitions generated for the copy; an unknown type cannot be
    described, so it is not copied (a warning says so)."""
    path = write_demo_bag(tmp_path / "humble", duration=0.5, storage="sqlite3", distro="humble")
    db = sqlite3.connect(path / "humble.db3")
    db.execute("DELETE FROM message_definitions")
    db.execute("UPDATE topics SET type_description_hash = ''")
    db.commit()
    db.close()
    meta = yaml.safe_load((path / "metadata.yaml").read_text())
    info = meta["rosbag2_bagfile_information"]
    info["ros_distro"] = "humble"
    for topic in info["topics_with_message_count"]:
        topic["topic_metadata"]["type_description_hash"] = ""
    (path / "metadata.yaml").write_text(yaml.safe_dump(meta))
    with BagInput(path) as bag:
        assert bag.ros_distro == "humble"
        tf = bag.connections_of("/tf")[0]
        assert tf.msgdef.data == "" and tf.digest == ""
        _, _, raw = next(iter(bag.messages([tf])))
        assert bag.decode(tf, raw).transforms[0].child_frame_id == "mover"
        msgdef, digest = bag.definition(tf)
        humble = get_typestore(Stores.ROS2_HUMBLE)
        assert digest == humble.hash_rihs01("tf2_msgs/msg/TFMessage") and "TransformStamped" in msgdef
        assert bag.definition(bag.connections_of("/blob")[0]) is None
