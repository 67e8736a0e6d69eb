"""PathDisplay: nav_msgs/Path as rviz's Path display draws it (options: vuer_ros/displays.py).

- A line through the poses' positions: 1 pixel wide (line_style Lines, the default) or
  ``line_width`` metres wide facing the camera (Billboards); unlit, in ``color``/``alpha``.
- pose_style Axes or Arrows: the axes, or an arrow along +X (rviz's Arrow with the
  display's shaft/head lengths and diameters, alpha 1), at every pose.
- The whole path is placed by TF at the path's ``header`` stamp (stamped_display.py);
  the poses' own headers are not read (rviz does not either), then shifted by
  ``offset`` in the fixed frame. The last ``buffer_length`` paths are shown.
- An empty path shows nothing (it takes its place in the buffer, as in rviz) and is
  reported once, as probably a mistake. NaN values refuse the path; quaternions are only
  read when poses are drawn (pose_input.py: a zero one hides its pose only).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..protocol.elements import Element
from .frame_layout import FrameLayout
from .msg_fields import pose_rows
from .pose_input import check_finite, unit_orientations
from .pose_shapes import arrow, at_poses, axes, line, rgba
from .problems import ProblemLog
from .stamped_display import StampedDisplay, Visual, display_options


class PathDisplay(StampedDisplay):
    prefix = "path"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        o = display_options("Path", options)
        super().__init__(frames, problems, topic, history=o["buffer_length"],
                         tf_timeout_ns=tf_timeout_ns, offset=tuple(o["offset"]))
        self.options = o

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        rows = pose_rows(msg.poses, "pose.")
        if rows.shape[0] == 0:
            self.report("empty", "the path has no poses; nothing drawn")
            return Visual(frame, stamp, "empty", lambda key: [])
        check_finite(rows, lambda i: f"poses[{i}].pose")
        o = self.options
        posed = rows
        if o["pose_style"] != "None":
            posed = unit_orientations(rows, lambda i: f"poses[{i}].pose", self.report)

        def make(key: str) -> list[Element]:
            width = o["line_width"] if o["line_style"] == "Billboards" else 0.0
            out = line(key, rows[:, :3], False, width, rgba(o["color"], o["alpha"]))
            if o["pose_style"] == "Axes":
                out += at_poses(axes(key, o["axes_length"], o["axes_radius"]), posed)
            elif o["pose_style"] == "Arrows":
                out += at_poses(arrow(key, o["shaft_length"], o["shaft_diameter"], o["head_length"],
                                      o["head_diameter"], rgba(o["pose_color"], 1.0)), posed)
            return out
        return Visual(frame, stamp, rows.tobytes(), make)
