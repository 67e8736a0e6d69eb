"""Builders of the pose displays' messages (Path, PoseStamped, PoseArray, PointStamped,
PolygonStamped, Odometry) for any message classes that take every field by keyword:
rosbags' (scene and bag tests) and rclpy's (node tests)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

Vec = Sequence[float]
IDENTITY = (0.0, 0.0, 0.0, 1.0)
S = 1_000_000_000


class PoseMsgs:
    def __init__(self, cls: Callable[[str], Any]):
        self.cls = cls

    def _t(self, name: str) -> Any:
        return self.cls(name)

    def header(self, frame: str, ns: int = 0) -> Any:
        time = self._t("builtin_interfaces/msg/Time")(sec=ns // S, nanosec=ns % S)
        return self._t("std_msgs/msg/Header")(stamp=time, frame_id=frame)

    def point(self, xyz: Vec, name: str = "geometry_msgs/msg/Point") -> Any:
        return self._t(name)(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))

    def pose(self, xyz: Vec = (0.0, 0.0, 0.0), q: Vec = IDENTITY) -> Any:
        return self._t("geometry_msgs/msg/Pose")(
            position=self.point(xyz),
            orientation=self._t("geometry_msgs/msg/Quaternion")(
                x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])))

    def pose_stamped(self, frame: str, xyz: Vec = (0.0, 0.0, 0.0), q: Vec = IDENTITY,
                     ns: int = 0) -> Any:
        return self._t("geometry_msgs/msg/PoseStamped")(header=self.header(frame, ns),
                                                        pose=self.pose(xyz, q))

    def pose_array(self, frame: str, poses: Sequence[tuple[Vec, Vec]], ns: int = 0) -> Any:
        return self._t("geometry_msgs/msg/PoseArray")(
            header=self.header(frame, ns), poses=[self.pose(p, q) for p, q in poses])

    def path(self, frame: str, poses: Sequence[tuple[Vec, Vec]], ns: int = 0,
             pose_frame: str | None = None) -> Any:
        """A Path; each pose stamped ``pose_frame`` (default: the path's frame)."""
        own = frame if pose_frame is None else pose_frame
        return self._t("nav_msgs/msg/Path")(
            header=self.header(frame, ns),
            poses=[self.pose_stamped(own, p, q, ns) for p, q in poses])

    def point_stamped(self, frame: str, xyz: Vec, ns: int = 0) -> Any:
        return self._t("geometry_msgs/msg/PointStamped")(header=self.header(frame, ns),
                                                         point=self.point(xyz))

    def polygon(self, frame: str, points: Sequence[Vec], ns: int = 0) -> Any:
        polygon = self._t("geometry_msgs/msg/Polygon")(
            points=[self.point(p, "geometry_msgs/msg/Point32") for p in points])
        return self._t("geometry_msgs/msg/PolygonStamped")(header=self.header(frame, ns),
                                                           polygon=polygon)

    def odometry(self, frame: str, xyz: Vec = (0.0, 0.0, 0.0), q: Vec = IDENTITY, ns: int = 0,
                 covariance: Sequence[float] | None = None, child: str = "base_link") -> Any:
        cov = np.zeros(36) if covariance is None else np.asarray(covariance, dtype=np.float64)
        zero = self.point((0.0, 0.0, 0.0), "geometry_msgs/msg/Vector3")
        twist = self._t("geometry_msgs/msg/TwistWithCovariance")(
            twist=self._t("geometry_msgs/msg/Twist")(linear=zero, angular=zero),
            covariance=np.zeros(36))
        return self._t("nav_msgs/msg/Odometry")(
            header=self.header(frame, ns), child_frame_id=child,
            pose=self._t("geometry_msgs/msg/PoseWithCovariance")(pose=self.pose(xyz, q),
                                                                 covariance=cov),
            twist=twist)


def yaw(angle: float) -> tuple[float, float, float, float]:
    """The quaternion turning ``angle`` radians about +Z."""
    return (0.0, 0.0, float(np.sin(angle / 2)), float(np.cos(angle / 2)))
