"""The scene model: ROS TF and markers -> Vuer scene elements and events.

Pure Python (numpy), no rclpy, no sockets, no asyncio. Messages are read by
field name, so rclpy and rosbags messages drive the same code.

- ``SceneModel``: the whole thing, a composition of the parts below (scene_model.py);
- ``FrameLayout``: TF frame groups re-rooted at the fixed frame (frame_layout.py);
- ``Display``: what hangs in frame groups, one kind each (display.py):
  ``MarkerDisplay`` (marker_display.py), ``RobotDisplay`` (robot_display.py);
- ``frame_id``: tf2's frame-id rule, one leading '/' dropped (frame_id.py);
- ``TfTree``: the TF buffer with tf2 semantics (tf_tree.py);
- ``read_marker``: one Marker -> validated ``MarkerSpec`` with its elements (markers.py);
  ``MarkerRegistry``: the markers kept, by (ns, id) (marker_registry.py);
- ``read_urdf`` / ``read_urdf_file``: a URDF -> ``RobotDescription`` (urdf.py), shown
  by ``SceneModel.set_robot`` as ``RobotModel`` link groups (robot_model.py);
- ``ProblemLog``: bad input logged once per cause (problems.py);
- keys of emitted elements: keys.py.
"""

from .display import Display
from .errors import (
                     MarkerError,
                     SceneError,
                     TfConnectivityError,
                     TfError,
                     TfExtrapolationError,
                     TfLookupError,
                     TfLoopError,
                     TfRejectedError,
                     UrdfError,
)
from .frame_id import frame_id
from .frame_layout import FrameLayout
from .keys import frame_key, marker_key, part_key, robot_link_key
from .marker_display import MarkerDisplay
from .markers import MAX_MARKER_POINTS, MarkerSpec, read_marker
from .problems import ProblemLog
from .robot_display import RobotDisplay
from .robot_model import RobotModel, build_robot_model
from .scene_model import SceneModel
from .tf_tree import TfEdge, TfTree, TfUpdate
from .transform import Transform
from .urdf import RobotDescription, read_urdf, read_urdf_file

__all__ = ["MAX_MARKER_POINTS", "Display", "FrameLayout", "MarkerDisplay", "MarkerError",
           "MarkerSpec", "ProblemLog", "RobotDescription", "RobotDisplay", "RobotModel",
           "SceneError", "SceneModel", "TfConnectivityError", "TfEdge", "TfError",
           "TfExtrapolationError", "TfLookupError", "TfLoopError", "TfRejectedError", "TfTree",
           "TfUpdate", "Transform", "UrdfError", "build_robot_model", "frame_id", "frame_key",
           "marker_key", "part_key", "read_marker", "read_urdf", "read_urdf_file",
           "robot_link_key"]
