"""PoseDisplay and PoseArrayDisplay: geometry_msgs/PoseStamped and PoseArray, as rviz's Pose
and PoseArray displays draw them (options and defaults: vuer_ros/displays.py).

- Pose: one arrow along the pose's +X (rviz's Arrow with the display's shaft and head
  sizes; its "radius" options drawn as diameters, as rviz does), or the pose's axes. The
  last message is shown, placed by TF at its stamp (stamped_display.py); a pose that
  moves is one UPDATE of the group's pose.
- PoseArray: at each pose a flat arrow ("Arrow (Flat)", 1-pixel lines, the default), a
  solid arrow ("Arrow (3D)") or axes; the whole array placed by TF at its stamp.
- NaN values refuse the message; quaternions as pose_input.py says (a zero one hides
  its pose only).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..protocol.elements import Element
from .frame_layout import FrameLayout
from .msg_fields import pose_rows
from .pose_input import check_finite, unit_orientations
from .pose_shapes import arrow, at_poses, axes, flat_arrows, rgba
from .problems import ProblemLog
from .stamped_display import MakeElements, StampedDisplay, Visual, display_options
from .transform import Transform


class PoseDisplay(StampedDisplay):
    prefix = "pose"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        super().__init__(frames, problems, topic, history=1, tf_timeout_ns=tf_timeout_ns)
        o = display_options("Pose", options)
        self.shape: MakeElements
        if o["shape"] == "Arrow":
            color = rgba(o["color"], o["alpha"])
            self.shape = lambda key: arrow(key, o["shaft_length"], o["shaft_radius"],
                                           o["head_length"], o["head_radius"], color)
        else:
            self.shape = lambda key: axes(key, o["axes_length"], o["axes_radius"])

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        rows = pose_rows([msg.pose])
        check_finite(rows, lambda i: "pose")
        rows = unit_orientations(rows, lambda i: "pose", self.report)
        if rows.shape[0] == 0:
            return None
        r = rows[0].tolist()
        return Visual(frame, stamp, "shape", self.shape,
                      pose=Transform((r[0], r[1], r[2]), (r[3], r[4], r[5], r[6])))


class PoseArrayDisplay(StampedDisplay):
    prefix = "pose_array"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        super().__init__(frames, problems, topic, history=1, tf_timeout_ns=tf_timeout_ns)
        self.options = display_options("PoseArray", options)

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        rows = pose_rows(msg.poses)
        check_finite(rows, lambda i: f"poses[{i}]")
        rows = unit_orientations(rows, lambda i: f"poses[{i}]", self.report)
        o = self.options
        shape = o["shape"]

        def make(key: str) -> list[Element]:
            if shape == "Arrow (Flat)":
                return flat_arrows(key, rows, o["arrow_length"], rgba(o["color"], o["alpha"]))
            if shape == "Arrow (3D)":
                parts = arrow(key, o["shaft_length"], o["shaft_radius"], o["head_length"],
                              o["head_radius"], rgba(o["color"], o["alpha"]))
            else:
                parts = axes(key, o["axes_length"], o["axes_radius"])
            return at_poses(parts, rows)
        return Visual(frame, stamp, rows.tobytes(), make)
