"""Build ROS 2 messages for the scene tests with the rosbags typestore (pure
Python, the same classes the bag renderer reads), by field name."""

from __future__ import annotations

import numpy as np
from rosbags.typesys import Stores, get_typestore

from vuer_ros.protocol import SceneTree

TS = get_typestore(Stores.ROS2_JAZZY)
T = TS.types

Time = T["builtin_interfaces/msg/Time"]
Duration = T["builtin_interfaces/msg/Duration"]
Header = T["std_msgs/msg/Header"]
ColorRGBA = T["std_msgs/msg/ColorRGBA"]
Point = T["geometry_msgs/msg/Point"]
Vector3 = T["geometry_msgs/msg/Vector3"]
Quaternion = T["geometry_msgs/msg/Quaternion"]
Pose = T["geometry_msgs/msg/Pose"]
Transform = T["geometry_msgs/msg/Transform"]
TransformStamped = T["geometry_msgs/msg/TransformStamped"]
TFMessage = T["tf2_msgs/msg/TFMessage"]
Marker = T["visualization_msgs/msg/Marker"]
MarkerArray = T["visualization_msgs/msg/MarkerArray"]
MeshFile = T["visualization_msgs/msg/MeshFile"]
CompressedImage = T["sensor_msgs/msg/CompressedImage"]
UVCoordinate = T["visualization_msgs/msg/UVCoordinate"]

S = 1_000_000_000


def time(ns: int = 0):
    return Time(sec=ns // S, nanosec=ns % S)


def header(frame: str = "", ns: int = 0):
    return Header(stamp=time(ns), frame_id=frame)


def tf(parent: str, child: str, xyz=(0.0, 0.0, 0.0), q=(0.0, 0.0, 0.0, 1.0), ns: int = 0):
    return TransformStamped(
        header=header(parent, ns), child_frame_id=child,
        transform=Transform(translation=Vector3(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
                            rotation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]),
                                                w=float(q[3]))))


def tf_msg(*transforms):
    return TFMessage(transforms=list(transforms))


def color(r=1.0, g=1.0, b=1.0, a=1.0):
    return ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a))


def marker(type=1, ns="test", id=0, action=0, frame="map", stamp_ns=0, xyz=(0.0, 0.0, 0.0),
           q=(0.0, 0.0, 0.0, 1.0), scale=(1.0, 1.0, 1.0), rgba=(1.0, 0.0, 0.0, 1.0),
           lifetime_ns=0, frame_locked=False, points=(), colors=(), text="",
           mesh_resource="", mesh_use_embedded_materials=False, texture_resource="",
           texture=b"", texture_format="", uvs=(), mesh_file=("", b"")):
    return Marker(
        header=header(frame, stamp_ns), ns=ns, id=id, type=type, action=action,
        pose=Pose(position=Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
                  orientation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]),
                                         w=float(q[3]))),
        scale=Vector3(x=float(scale[0]), y=float(scale[1]), z=float(scale[2])),
        color=color(*rgba),
        lifetime=Duration(sec=lifetime_ns // S, nanosec=lifetime_ns % S),
        frame_locked=frame_locked,
        points=[Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in points],
        colors=[color(*c) for c in colors],
        texture_resource=texture_resource,
        texture=CompressedImage(header=header(), format=texture_format,
                                data=np.frombuffer(texture, np.uint8)),
        uv_coordinates=[UVCoordinate(u=float(u), v=float(v)) for u, v in uvs], text=text,
        mesh_resource=mesh_resource,
        mesh_file=MeshFile(filename=mesh_file[0], data=np.frombuffer(mesh_file[1], np.uint8)),
        mesh_use_embedded_materials=mesh_use_embedded_materials)


def marker_array(*markers):
    return MarkerArray(markers=list(markers))


class Browser:
    """Applies a model's events to a SceneTree, as the browser and the server do."""

    def __init__(self, model):
        self.model = model
        self.tree = SceneTree()
        self.events: list = []

    def sync(self) -> list:
        events = self.model.drain_events()
        for e in events:
            problems = self.tree.apply(e.to_wire())
            assert problems == [], (e.etype, problems)
        self.events = events
        return events

    def node(self, key: str):
        return self.tree.get(key)

    def parent(self, key: str):
        return self.tree.parent_key(key)
