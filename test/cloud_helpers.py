"""Point clouds and laser scans for the tests: any field layout (types, offsets, padding,
organised rows with padded row_step, either byte order), as rclpy or rosbags messages,
and their CDR bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DATATYPE = {"i1": 1, "u1": 2, "i2": 3, "u2": 4, "i4": 5, "u4": 6, "f4": 7, "f8": 8}
S = 1_000_000_000


def pack_rgb(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """(N, 3) uint8 -> uint32 0xAARRGGBB, as PCL packs rgb/rgba."""
    rgb = np.asarray(rgb, np.uint32)
    a = np.zeros(len(rgb), np.uint32) if alpha is None else np.asarray(alpha, np.uint32)
    return (a << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


@dataclass
class CloudSpec:
    """A cloud to build: ``fields`` (name, numpy type code, offset), every point's values."""

    fields: list[tuple[str, str, int]]
    point_step: int
    values: dict[str, np.ndarray]
    width: int
    height: int = 1
    row_pad: int = 0            # bytes after each row (row_step = width * point_step + row_pad)
    big: bool = False           # is_bigendian: the data's byte order
    dense: bool = True
    frame: str = "lidar"
    stamp_ns: int = 0
    extra_fields: list[tuple[str, int, int, int]] = field(default_factory=list)  # raw PointFields

    @property
    def row_step(self) -> int:
        return self.width * self.point_step + self.row_pad

    def data(self) -> bytes:
        rows = np.zeros((self.height, self.row_step), np.uint8)
        order = ">" if self.big else "<"
        for name, code, offset in self.fields:
            one = np.dtype({"names": ["v"], "formats": [order + code], "offsets": [offset],
                            "itemsize": self.point_step})
            view = np.ndarray((self.height, self.width), one, rows, 0, (self.row_step, self.point_step))
            view["v"] = np.asarray(self.values[name]).reshape(self.height, self.width)
        return rows.tobytes()

    def point_fields(self) -> list[tuple[str, int, int, int]]:
        return [(n, o, DATATYPE[c], 1) for n, c, o in self.fields] + self.extra_fields

    def rclpy(self, data: bytes | None = None) -> Any:
        from sensor_msgs.msg import PointCloud2, PointField
        m = PointCloud2()
        m.header.frame_id = self.frame
        m.header.stamp.sec, m.header.stamp.nanosec = divmod(self.stamp_ns, S)
        m.height, m.width = self.height, self.width
        m.fields = [PointField(name=n, offset=o, datatype=d, count=c) for n, o, d, c in self.point_fields()]
        m.is_bigendian = self.big
        m.point_step, m.row_step = self.point_step, self.row_step
        m.data = self.data() if data is None else data
        m.is_dense = self.dense
        return m

    def rosbags(self, data: bytes | None = None) -> Any:
        from rosbags.typesys import Stores, get_typestore
        T = get_typestore(Stores.ROS2_JAZZY).types
        sec, nsec = divmod(self.stamp_ns, S)
        return T["sensor_msgs/msg/PointCloud2"](
            header=T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=sec, nanosec=nsec),
                                            frame_id=self.frame),
            height=self.height, width=self.width,
            fields=[T["sensor_msgs/msg/PointField"](name=n, offset=o, datatype=d, count=c)
                    for n, o, d, c in self.point_fields()],
            is_bigendian=self.big, point_step=self.point_step, row_step=self.row_step,
            data=np.frombuffer(self.data() if data is None else data, np.uint8).copy(),
            is_dense=self.dense)

    def cdr(self, little: bool = True) -> bytes:
        """The message's CDR bytes as rosbags writes them (either encapsulation)."""
        from rosbags.typesys import Stores, get_typestore
        store = get_typestore(Stores.ROS2_JAZZY)
        return bytes(store.serialize_cdr(self.rosbags(), "sensor_msgs/msg/PointCloud2",
                                         little_endian=little))


def xyz_cloud(xyz, *, rgb=None, intensity=None, frame: str = "lidar", stamp_ns: int = 0,
              **kw: Any) -> CloudSpec:
    """The common layout: float32 x, y, z, then a packed float32 rgb and/or float32 intensity."""
    xyz = np.asarray(xyz, np.float32).reshape(-1, 3)
    fields = [("x", "f4", 0), ("y", "f4", 4), ("z", "f4", 8)]
    values: dict[str, np.ndarray] = {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]}
    step = 12
    if rgb is not None:
        fields.append(("rgb", "u4", step))
        values["rgb"] = pack_rgb(np.asarray(rgb).reshape(-1, 3))
        step += 4
    if intensity is not None:
        fields.append(("intensity", "f4", step))
        values["intensity"] = np.asarray(intensity, np.float32)
        step += 4
    return CloudSpec(fields, kw.pop("point_step", step), values, len(xyz), frame=frame,
                     stamp_ns=stamp_ns, **kw)


def scan_fields(ranges, *, angle_min: float = -1.0, angle_increment: float = 0.01,
                range_min: float = 0.1, range_max: float = 30.0, intensities=(),
                frame: str = "laser", stamp_ns: int = 0, time_increment: float = 0.0) -> dict[str, Any]:
    sec, nsec = divmod(stamp_ns, S)
    return dict(frame=frame, sec=sec, nanosec=nsec, angle_min=float(angle_min),
                angle_max=float(angle_min + angle_increment * max(0, len(ranges) - 1)),
                angle_increment=float(angle_increment), time_increment=float(time_increment),
                scan_time=0.0, range_min=float(range_min), range_max=float(range_max),
                ranges=np.asarray(ranges, np.float32), intensities=np.asarray(intensities, np.float32))


def scan_rclpy(**kw: Any) -> Any:
    from sensor_msgs.msg import LaserScan
    f = scan_fields(**kw)
    m = LaserScan()
    m.header.frame_id = f.pop("frame")
    m.header.stamp.sec, m.header.stamp.nanosec = f.pop("sec"), f.pop("nanosec")
    for k, v in f.items():
        setattr(m, k, v.tolist() if isinstance(v, np.ndarray) else v)
    return m


def scan_rosbags(**kw: Any) -> Any:
    from rosbags.typesys import Stores, get_typestore
    T = get_typestore(Stores.ROS2_JAZZY).types
    f = scan_fields(**kw)
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](
        sec=f.pop("sec"), nanosec=f.pop("nanosec")), frame_id=f.pop("frame"))
    return T["sensor_msgs/msg/LaserScan"](header=header, **f)


def scan_cdr(little: bool = True, **kw: Any) -> bytes:
    from rosbags.typesys import Stores, get_typestore
    store = get_typestore(Stores.ROS2_JAZZY)
    return bytes(store.serialize_cdr(scan_rosbags(**kw), "sensor_msgs/msg/LaserScan",
                                     little_endian=little))
