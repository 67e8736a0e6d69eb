"""OdometryDisplay: nav_msgs/Odometry as rviz's Odometry display draws it (options:
vuer_ros/displays.py).

- Each message's pose as an arrow along its +X (rviz's Arrow with the display's sizes, its
  "radius" options drawn as diameters) or as axes, placed by TF at the message's stamp
  (stamped_display.py) and left there: the display keeps a trail of the last ``keep``
  poses (0: all), the oldest dropped first.
- A pose closer than ``position_tolerance`` to the last one drawn and turned less than
  ``angle_tolerance`` from it (both read from the messages as sent, as rviz compares them)
  is not drawn.
- The pose covariance, when shown, as covariance.py draws it.
- A message with a NaN or infinite value in its pose or covariance, or a quaternion whose
  squares do not sum to 1 within 0.01 (a zero one included), is refused, as rviz refuses
  it; the twist is not read.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..protocol.elements import Element
from .covariance import CovarianceStyle, covariance_elements
from .frame_layout import FrameLayout
from .msg_fields import pose_rows
from .pose_input import check_finite
from .pose_shapes import arrow, axes, rgba
from .problems import ProblemLog
from .stamped_display import BadMessage, MakeElements, StampedDisplay, Visual, display_options
from .transform import Quat, Transform, quat_conjugate, quat_multiply

# rviz's validateQuaternion: |x^2 + y^2 + z^2 + w^2 - 1| below this
QUATERNION_TOLERANCE = 10e-3


def angular_distance(a: Quat, b: Quat) -> float:
    """rviz's ogreQuaternionAngularDistance: the angle (rad) turning ``b`` into ``a``."""
    x, y, z, w = quat_multiply(a, quat_conjugate(b))
    return 2.0 * math.atan2(math.sqrt(x * x + y * y + z * z), abs(w))


class OdometryDisplay(StampedDisplay):
    prefix = "odometry"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        o = display_options("Odometry", options)
        super().__init__(frames, problems, topic, history=o["keep"], tf_timeout_ns=tf_timeout_ns)
        self.position_tolerance = o["position_tolerance"]
        self.angle_tolerance = o["angle_tolerance"]
        self.shape: MakeElements
        if o["shape"] == "Arrow":
            color = rgba(o["color"], o["alpha"])
            self.shape = lambda key: arrow(key, o["shaft_length"], o["shaft_radius"],
                                           o["head_length"], o["head_radius"], color)
        else:
            self.shape = lambda key: axes(key, o["axes_length"], o["axes_radius"])
        self.covariance = CovarianceStyle.from_options(o)
        self._last: Transform | None = None     # the pose last drawn, as its message sent it

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        rows = pose_rows([msg.pose.pose])
        check_finite(rows, lambda i: "pose.pose")
        cov = np.asarray(msg.pose.covariance, dtype=np.float64)
        check_finite(cov.reshape(1, -1), lambda i: "pose",
                     tuple(f"covariance[{j}]" for j in range(cov.size)))
        x, y, z, qx, qy, qz, qw = rows[0].tolist()
        n2 = qx * qx + qy * qy + qz * qz + qw * qw
        if abs(n2 - 1.0) >= QUATERNION_TOLERANCE:
            raise BadMessage("quaternion", f"pose.pose.orientation ({qx:g}, {qy:g}, {qz:g}, {qw:g}) "
                             f"has squares summing to {n2:.6g}, not 1; skipped")
        n = math.sqrt(n2)
        pose = Transform((x, y, z), (qx / n, qy / n, qz / n, qw / n))
        style = self.covariance
        if style is None or not cov.any():
            return Visual(frame, stamp, "shape", self.shape, pose=pose, source=pose)

        def make(key: str) -> list[Element]:
            return self.shape(key) + covariance_elements(key, pose.rotation, cov, style, self.report)
        return Visual(frame, stamp, (pose.rotation, cov.tobytes()), make, pose=pose, source=pose)

    def accept(self, visual: Visual) -> bool:
        pose: Transform = visual.source
        last = self._last
        if last is not None:
            moved = math.dist(pose.translation, last.translation)
            turned = angular_distance(last.rotation, pose.rotation)
            if moved < self.position_tolerance and turned < self.angle_tolerance:
                return False
        self._last = pose
        return True

    def fixed_frame_changed(self) -> None:
        super().fixed_frame_changed()
        self._last = None
