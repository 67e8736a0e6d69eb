"""The core of vuer_ros: one pipeline from any ROS message to pixels, ROS-free.

Both edges drive it: the live node (vuer_ros/ros, rclpy) hands it CDR bytes
from raw subscriptions; offline rendering (vuer_ros/bag, rosbags) hands it a
bag's records. Here:

- ``kinds.py``: the registry of message kinds (ROS type -> CDR decoder -> scene handler);
- ``player.py``: :class:`ScenePlayer`, the per-tick pipeline (messages in; scene events
  and the render camera at a tick out), shared by live and offline;
- ``render_session.py``: :class:`RenderSession`, the server and its (supervised) browser,
  grabs with retry and frame checks;
- ``image_fields.py``: a frame and its camera -> the field values of Image,
  CompressedImage, CameraInfo, depth and the camera's TF;
- ``live.py``: :class:`LiveView`, the live node's thread (inbox.py, stats.py, publisher.py);
- ``offline.py``: rendering a recording tick by tick (ticks.py: the tick convention);
- ``options.py``: the node's parameters as :class:`ViewOptions` / :class:`RenderOptions`;
- ``errors.py``: what stops a render.
"""
