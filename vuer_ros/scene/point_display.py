"""PointStampedDisplay: geometry_msgs/PointStamped as rviz's PointStamped display draws it
(options: vuer_ros/displays.py).

A lit sphere at each point; rviz scales its unit sphere (1 m across) by the ``radius``
option, so the sphere drawn is ``radius`` across, and so it is here. The last
``history_length`` points are shown, each placed by TF at its own stamp
(stamped_display.py; rviz moves the older spheres along with the newest message's frame,
which only differs when the frame moves). A NaN coordinate refuses the message.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import marker_geometry as geo
from .frame_layout import FrameLayout
from .pose_input import point_rows
from .pose_shapes import rgba
from .problems import ProblemLog
from .stamped_display import StampedDisplay, Visual, display_options
from .transform import Transform


class PointStampedDisplay(StampedDisplay):
    prefix = "point"

    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any], *, tf_timeout_ns: int):
        o = display_options("PointStamped", options)
        super().__init__(frames, problems, topic, history=o["history_length"],
                         tf_timeout_ns=tf_timeout_ns)
        d = o["radius"]
        mat = geo.material(rgba(o["color"], o["alpha"]))
        self.sphere = lambda key: geo.sphere(key, (d, d, d), mat)

    def read(self, msg: Any) -> Visual | None:
        frame, stamp = self.header(msg)
        (x, y, z), = point_rows([msg.point], lambda i: "point").tolist()
        return Visual(frame, stamp, "sphere", self.sphere, pose=Transform((x, y, z)))
