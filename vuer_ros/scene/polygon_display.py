"""PolygonDisplay: geometry_msgs/PolygonStamped as rviz's Polygon display draws it (options:
vuer_ros/displays.py).

A closed line (last point back to the first), 1 pixel wide, unlit, placed by TF at the
header stamp (stamped_display.py). A polygon of fewer than 2 points draws nothing in rviz
either: it clears what was shown and is reported once. A NaN coordinate refuses the
message (the previous polygon stays, as in rviz).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .frame_layout import FrameLayout
from .pose_input import point_rows
from .pose_shapes import line, rgba
from .problems import ProblemLog
from .stamped_display import StampedDisplay, Visual, display_options


class PolygonDisplay(StampedDisplay):
    prefix = "polygon"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        super().__init__(frames, problems, topic, history=1, tf_timeout_ns=tf_timeout_ns)
        o = display_options("Polygon", options)
        self.color = rgba(o["color"], o["alpha"])

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        points = point_rows(msg.polygon.points, lambda i: f"polygon.points[{i}]")
        n = points.shape[0]
        if n < 2:
            self.report("points", f"the polygon has {n} point{'s' if n != 1 else ''}; a polygon "
                        "needs at least 2; nothing drawn")
            return Visual(frame, stamp, "empty", lambda key: [])
        loop = np.vstack([points, points[:1]])
        return Visual(frame, stamp, loop.tobytes(), lambda key: line(key, loop, False, 0.0, self.color))
