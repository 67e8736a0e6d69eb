"""A synthetic bag to try render-bag on, and the one tests and bench/bag_render.py use.

    python -m vuer_ros.bag.synthetic demo.mcap --duration 10
    vuer-ros render-bag demo.mcap --fixed-frame world --video demo.mp4

What it holds (all stamps = bag times, integer nanoseconds from ``t0_ns``):
- /tf_static: world -> table (z 0), mover -> mover_cam (the camera mount:
  behind and above ``mover``, looking along +X, so a camera riding it keeps the
  cube in view);
- /tf at ``tf_rate``: world -> mover moving linearly, ``mover_start + mover_velocity * t``,
  and (``arm=True``) a 3-link arm world -> arm_base -> arm_link1 -> arm_link2, turning;
- /visualization_marker: one red CUBE ``(ns "cube", id 0)`` of ``CUBE_SIZE`` in
  ``mover``, frame_locked, lifetime 0, sent once at t0 (so its place in a frame
  is exactly ``mover``'s latest TF); with ``arm``, a sphere on each link;
- /visualization_marker_array at ``marker_rate`` (``array_markers`` > 0): a ring
  of spheres, a LINE_STRIP and a TEXT, re-sent each time (the usual 10 Hz
  republish); with ``churn`` the colours and the text change every time and a
  DELETEALL comes every 5 s, without it they are re-sent unchanged;
- /blob (``blob=True``): ``vuer_test_msgs/msg/Blob``, a type no ROS distro has,
  with its definition in the bag: copied through byte for byte;
- /chatter: std_msgs/String once a second.

``writer="sdk"`` (``--writer sdk``) writes the same messages as one MCAP file laid out
the way the Foxglove SDK writes ROS 2 messages (:func:`write_sdk_mcap`): no ``ros2``
profile, no rosbag2 metadata, each type's full definition in a ``ros2msg`` schema.
"""

from __future__ import annotations

import argparse
import heapq
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
from mcap.writer import CompressionType
from mcap.writer import Writer as McapWriter
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from .outputs import STATIC_TF_QOS

T0_NS = 1_700_000_000 * 1_000_000_000
CUBE_SIZE = (0.3, 0.3, 0.3)
CUBE_COLOR = (1.0, 0.0, 0.0, 1.0)
MOVER_START = (-1.0, 0.0, 0.15)
MOVER_VELOCITY = (1.0, 0.0, 0.0)      # m/s
CAMERA_MOUNT = (-2.5, 0.0, 1.0)       # mover -> mover_cam translation (looking along +X, pitched)
CAMERA_PITCH = 0.3                    # rad, nose down
BLOB_TYPE = "vuer_test_msgs/msg/Blob"
BLOB_DEF = "uint32 seq\nstring note\nuint8[] payload\n"


def mover_position(t_s: float) -> tuple[float, float, float]:
    """Where ``mover`` is ``t_s`` seconds after t0."""
    return tuple(p + v * t_s for p, v in zip(MOVER_START, MOVER_VELOCITY))  # type: ignore[return-value]


DISTROS = {"jazzy": Stores.ROS2_JAZZY, "humble": Stores.ROS2_HUMBLE,
           "galactic": Stores.ROS2_GALACTIC}   # galactic: the Marker without texture/mesh_file


def typestore(distro: str = "jazzy") -> Any:
    store = get_typestore(DISTROS[distro])
    store.register(get_types_from_msg(BLOB_DEF, BLOB_TYPE))
    return store


def _times(t0: int, duration_s: float, rate: float) -> list[int]:
    n = int(math.floor(duration_s * rate + 1e-9))
    return [t0 + round(i * 1e9 / rate) for i in range(n + 1)]


class MessageFactory:
    """Builds the messages of a typestore (rosbags objects, fields by name)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.T = store.types

    def stamp(self, ns: int) -> Any:
        return self.T["builtin_interfaces/msg/Time"](sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)

    def header(self, ns: int, frame: str) -> Any:
        return self.T["std_msgs/msg/Header"](stamp=self.stamp(ns), frame_id=frame)

    def tf(self, ns: int, parent: str, child: str, xyz: Sequence[float],
           q: Sequence[float] = (0.0, 0.0, 0.0, 1.0)) -> Any:
        """One geometry_msgs/TransformStamped (parent <- child)."""
        T = self.T
        return T["geometry_msgs/msg/TransformStamped"](
            header=self.header(ns, parent), child_frame_id=child,
            transform=T["geometry_msgs/msg/Transform"](
                translation=T["geometry_msgs/msg/Vector3"](x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
                rotation=T["geometry_msgs/msg/Quaternion"](x=float(q[0]), y=float(q[1]), z=float(q[2]),
                                                           w=float(q[3]))))

    def tf_message(self, *transforms: Any) -> Any:
        return self.T["tf2_msgs/msg/TFMessage"](transforms=list(transforms))

    def marker(self, ns: int, mns: str, mid: int, mtype: int, frame: str, xyz: Sequence[float],
               scale: Sequence[float], color: Sequence[float], *, action: int = 0,
               frame_locked: bool = True, points: Sequence[Sequence[float]] = (),
               text: str = "", lifetime_ns: int = 0) -> Any:
        """A visualization_msgs/Marker stamped ``ns`` (identity orientation)."""
        T = self.T
        V3, Q, P = (T["geometry_msgs/msg/Vector3"], T["geometry_msgs/msg/Quaternion"],
                    T["geometry_msgs/msg/Point"])
        fields: dict[str, Any] = {
            "header": self.header(ns, frame), "ns": mns, "id": mid, "type": mtype, "action": action,
            "pose": T["geometry_msgs/msg/Pose"](
                position=P(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
                orientation=Q(x=0.0, y=0.0, z=0.0, w=1.0)),
            "scale": V3(x=float(scale[0]), y=float(scale[1]), z=float(scale[2])),
            "color": T["std_msgs/msg/ColorRGBA"](r=float(color[0]), g=float(color[1]),
                                                b=float(color[2]), a=float(color[3])),
            "lifetime": T["builtin_interfaces/msg/Duration"](sec=lifetime_ns // 1_000_000_000,
                                                             nanosec=lifetime_ns % 1_000_000_000),
            "frame_locked": frame_locked,
            "points": [P(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in points],
            "colors": [], "text": text, "mesh_resource": "", "mesh_use_embedded_materials": False}
        if "visualization_msgs/msg/MeshFile" in T:   # Humble on; Galactic's Marker has none of these
            fields.update(
                texture_resource="", texture=T["sensor_msgs/msg/CompressedImage"](
                    header=self.header(0, ""), format="", data=np.zeros(0, np.uint8)),
                uv_coordinates=[],
                mesh_file=T["visualization_msgs/msg/MeshFile"](filename="", data=np.zeros(0, np.uint8)))
        return T["visualization_msgs/msg/Marker"](**fields)

    def marker_array(self, *markers: Any) -> Any:
        return self.T["visualization_msgs/msg/MarkerArray"](markers=list(markers))


TOPIC_TYPES = {"/tf_static": "tf2_msgs/msg/TFMessage", "/tf": "tf2_msgs/msg/TFMessage",
               "/visualization_marker": "visualization_msgs/msg/Marker",
               "/visualization_marker_array": "visualization_msgs/msg/MarkerArray",
               "/blob": BLOB_TYPE, "/chatter": "std_msgs/msg/String"}


def write_bag(path: str | Path, messages: Iterable[tuple[int, str, Any]], store: Any, *,
              storage: str = "mcap", types: dict[str, str] | None = None) -> Path:
    """Write ``(bag time ns, topic, message)`` (in time order) to a bag: a rosbag2 folder,
    or the one file a path ending in .mcap/.db3 names. Types by topic: ``TOPIC_TYPES``
    updated with ``types``; /tf_static is offered transient-local."""
    path = Path(path)
    single = path.suffix in (".mcap", ".db3")
    if single:
        storage = "mcap" if path.suffix == ".mcap" else "sqlite3"
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    bagdir = path.with_name(path.name + ".tmp") if single else path
    topic_types = {**TOPIC_TYPES, **(types or {})}
    with Writer(bagdir, version=Writer.VERSION_LATEST, storage_plugin=plugin) as writer:
        conns: dict[str, Any] = {}
        for ns, topic, msg in messages:
            conn = conns.get(topic)
            if conn is None:
                conn = conns[topic] = writer.add_connection(
                    topic, topic_types[topic], typestore=store,
                    offered_qos_profiles=[STATIC_TF_QOS] if topic == "/tf_static" else [])
            writer.write(conn, ns, store.serialize_cdr(msg, topic_types[topic]))
    if single:
        (bagdir / f"{bagdir.name}{path.suffix}").replace(path)
        for p in bagdir.iterdir():
            p.unlink()
        bagdir.rmdir()
    return path


@dataclass(frozen=True)
class RawChannel:
    """A channel of :func:`write_sdk_mcap` whose messages are given as bytes, written as
    they are (json, protobuf, a cdr channel with a broken schema, ...)."""

    message_encoding: str
    schema_name: str = ""
    schema_encoding: str = ""
    schema_data: bytes = b""


def write_sdk_mcap(path: str | Path, messages: Iterable[tuple[int, str, Any]], store: Any, *,
                   types: dict[str, str] | None = None, definitions: Mapping[str, str] | None = None,
                   raw: Mapping[str, RawChannel] | None = None,
                   chunk_size: int = 1024 * 1024) -> Path:
    """Write ``(bag time ns, topic, message)`` (in time order) as one MCAP file laid out
    the way the Foxglove SDK writes ROS 2 messages: empty header profile, no rosbag2
    metadata record, zstd chunks, each topic a ``cdr`` channel with empty metadata (no
    QoS, no type hash) and a schema named ``pkg/msg/Type`` holding the type's full
    ``ros2msg`` definition (the type, then each dependency after a line of 80 ``=`` and
    ``MSG: pkg/Type``, as MCAP's ros2msg encoding says, generated from ``store``).
    ``definitions``: type -> the schema text to embed instead, as a user of the SDK
    writes it (``ros2idl`` when it starts with the ``IDL: pkg/msg/Type`` delimiter,
    else ``ros2msg``). ``raw``: topic -> :class:`RawChannel`; those topics' messages
    are bytes. Types by topic: ``TOPIC_TYPES`` updated with ``types``. Messages go
    into chunks in the order given (log times out of order make chunks overlap)."""
    path = Path(path)
    topic_types = {**TOPIC_TYPES, **(types or {})}
    definitions, raw = definitions or {}, raw or {}
    with open(path, "wb") as f:
        writer = McapWriter(f, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        writer.start(profile="", library="vuer_ros synthetic (Foxglove SDK layout)")
        schemas: dict[tuple[str, str, bytes], int] = {}
        channels: dict[str, int] = {}
        sequence: dict[str, int] = {}

        def schema_id(name: str, encoding: str, data: bytes) -> int:
            if not encoding:
                return 0
            key = (name, encoding, data)
            if key not in schemas:
                schemas[key] = writer.register_schema(name=name, encoding=encoding, data=data)
            return schemas[key]

        for ns, topic, msg in messages:
            channel = channels.get(topic)
            if channel is None:
                spec = raw.get(topic)
                if spec is None:
                    msgtype = topic_types[topic]
                    text = definitions.get(msgtype) or store.generate_msgdef(msgtype, ros_version=2)[0]
                    idl = text.startswith("=" * 80 + "\nIDL: ")
                    spec = RawChannel("cdr", msgtype, "ros2idl" if idl else "ros2msg", text.encode())
                channel = channels[topic] = writer.register_channel(
                    topic=topic, message_encoding=spec.message_encoding,
                    schema_id=schema_id(spec.schema_name, spec.schema_encoding, spec.schema_data))
            data = msg if topic in raw else store.serialize_cdr(msg, topic_types[topic]).tobytes()
            seq = sequence[topic] = sequence.get(topic, -1) + 1
            writer.add_message(channel_id=channel, log_time=ns, data=data, publish_time=ns,
                               sequence=seq)
        writer.finish()  # type: ignore[no-untyped-call]  # (mcap leaves it unannotated)
    return path


def write_demo_bag(path: str | Path, *, duration: float = 2.0, tf_rate: float = 50.0,
                   marker_rate: float = 10.0, array_markers: int = 0, churn: bool = True,
                   arm: bool = False, blob: bool = True, storage: str = "mcap",
                   distro: str = "jazzy", t0_ns: int = T0_NS, writer: str = "rosbag2") -> Path:
    """Write the demo bag (see the module docstring) with messages from ``t0_ns`` to
    ``t0_ns + duration`` inclusive: a rosbag2 folder, or one .mcap/.db3 file;
    ``writer="sdk"``: one .mcap file as the Foxglove SDK lays it out."""
    store = typestore(distro)
    messages = demo_messages(store, duration=duration, tf_rate=tf_rate, marker_rate=marker_rate,
                             array_markers=array_markers, churn=churn, arm=arm, blob=blob, t0_ns=t0_ns)
    if writer == "sdk":
        return write_sdk_mcap(path, messages, store)
    return write_bag(path, messages, store, storage=storage)


def demo_messages(store: Any, *, duration: float = 2.0, tf_rate: float = 50.0,
                  marker_rate: float = 10.0, array_markers: int = 0, churn: bool = True,
                  arm: bool = False, blob: bool = True, t0_ns: int = T0_NS
                  ) -> Iterator[tuple[int, str, Any]]:
    """The demo bag's ``(bag time ns, topic, message)`` in time order, made lazily from
    ``store`` (:func:`typestore`); see :func:`write_demo_bag`."""
    m = MessageFactory(store)
    T = store.types
    tf, marker = m.tf, m.marker
    TFMsg = T["tf2_msgs/msg/TFMessage"]
    MarkerArray = T["visualization_msgs/msg/MarkerArray"]
    end = t0_ns + round(duration * 1e9)
    cam_q = (0.0, math.sin(CAMERA_PITCH / 2), 0.0, math.cos(CAMERA_PITCH / 2))

    # one generator per topic, each in time order, merged lazily: the bag is written
    # as it is generated (a 600 s bag never sits in memory)
    def statics() -> Iterator[tuple[int, str, Any]]:
        yield t0_ns, "/tf_static", TFMsg(transforms=[
            tf(t0_ns, "world", "table", (0.0, 0.0, 0.0)),
            tf(t0_ns, "mover", "mover_cam", CAMERA_MOUNT, cam_q)])
        yield t0_ns, "/visualization_marker", marker(t0_ns, "cube", 0, 1, "mover", (0.0, 0.0, 0.0),
                                                     CUBE_SIZE, CUBE_COLOR)
        if arm:
            for i, link in enumerate(("arm_base", "arm_link1", "arm_link2")):
                yield t0_ns, "/visualization_marker", marker(
                    t0_ns, "arm", i, 2, link, (0.0, 0.0, 0.0), (0.12, 0.12, 0.12), (0.2, 0.6, 1.0, 1.0))

    def tf_stream() -> Iterator[tuple[int, str, Any]]:
        for ns in _times(t0_ns, duration, tf_rate):
            t = (ns - t0_ns) / 1e9
            transforms = [tf(ns, "world", "mover", mover_position(t))]
            if arm:
                a, b, c = 0.8 * t, 0.3 * math.sin(0.8 * t), 0.5 * math.cos(0.8 * t)
                transforms += [
                    tf(ns, "world", "arm_base", (1.5, 1.5, 0.0), (0.0, 0.0, math.sin(a / 2), math.cos(a / 2))),
                    tf(ns, "arm_base", "arm_link1", (0.0, 0.0, 0.5), (0.0, math.sin(b / 2), 0.0, math.cos(b / 2))),
                    tf(ns, "arm_link1", "arm_link2", (0.4, 0.0, 0.0), (0.0, math.sin(c / 2), 0.0, math.cos(c / 2)))]
            yield ns, "/tf", TFMsg(transforms=transforms)

    def array_stream() -> Iterator[tuple[int, str, Any]]:
        if array_markers <= 0:
            return
        for i, ns in enumerate(_times(t0_ns, duration, marker_rate)):
            t = (ns - t0_ns) / 1e9
            ms = []
            if churn and i and i % max(1, int(5 * marker_rate)) == 0:
                ms.append(marker(ns, "", 0, 0, "world", (0, 0, 0), (1, 1, 1), (1, 1, 1, 1), action=3))
            for j in range(array_markers):
                ang = 2 * math.pi * j / array_markers
                c = 0.5 + 0.5 * math.sin((t if churn else 0.0) + ang)
                ms.append(marker(ns, "ring", j, 2, "world", (2.0 * math.cos(ang), 2.0 * math.sin(ang), 0.1),
                                 (0.1, 0.1, 0.1), (c, 0.3, 1.0 - c, 1.0)))
            ms.append(marker(ns, "path", 0, 4, "world", (0, 0, 0), (0.02, 0, 0), (1, 1, 0, 1),
                             points=[mover_position(s / 10.0) for s in range(0, 21)]))
            ms.append(marker(ns, "label", 0, 9, "mover", (0, 0, 0.4), (0, 0, 0.15), (1, 1, 1, 1),
                             text=f"t={t:.1f}" if churn else "mover"))
            yield ns, "/visualization_marker_array", MarkerArray(markers=ms)

    def blob_stream() -> Iterator[tuple[int, str, Any]]:
        if blob:
            for i, ns in enumerate(_times(t0_ns, duration, 5.0)):
                yield ns, "/blob", T[BLOB_TYPE](seq=i, note=f"blob {i}",
                                                payload=np.arange(i % 7 + 1, dtype=np.uint8))

    def chatter_stream() -> Iterator[tuple[int, str, Any]]:
        for i, ns in enumerate(_times(t0_ns, duration, 1.0)):
            yield ns, "/chatter", T["std_msgs/msg/String"](data=f"hello {i}")

    streams = (statics(), tf_stream(), array_stream(), blob_stream(), chatter_stream())
    merged = heapq.merge(*streams, key=lambda e: e[0])
    return ((ns, topic, msg) for ns, topic, msg in merged if ns <= end)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vuer_ros.bag.synthetic",
                                     description="Write a synthetic bag (TF, markers) to render.")
    parser.add_argument("path", help="OUT.mcap / OUT.db3 (one file) or a folder")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--tf-rate", type=float, default=100.0)
    parser.add_argument("--marker-rate", type=float, default=10.0)
    parser.add_argument("--array-markers", type=int, default=24)
    parser.add_argument("--steady", action="store_true",
                        help="re-send the marker array unchanged (no colour/text churn)")
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    parser.add_argument("--distro", choices=sorted(DISTROS), default="jazzy")
    parser.add_argument("--writer", choices=("rosbag2", "sdk"), default="rosbag2",
                        help="sdk: one .mcap file as the Foxglove SDK writes it (no ros2 profile)")
    args = parser.parse_args(argv)
    write_demo_bag(args.path, duration=args.duration, tf_rate=args.tf_rate,
                   marker_rate=args.marker_rate, array_markers=args.array_markers,
                   churn=not args.steady, arm=True,
                   storage=args.storage, distro=args.distro, writer=args.writer)
    print(args.path)


if __name__ == "__main__":
    main()
