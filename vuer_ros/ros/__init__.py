"""The ROS 2 edge of vuer_ros: the only package that imports rclpy, and it holds
only what does (subscriptions, parameters, publishers, the clock).

- ``viewer_node``: :class:`ViewerNode` and ``main`` (console script ``viewer``);
- ``messages``: rclpy classes by type name, messages from the core's field values;
- ``lifecycle``: rclpy.init and a stop on SIGINT/SIGTERM that further signals cannot
  cut short, for the viewer's and the demo's main;
- ``demo_node``: the built-in demo robot published on ROS.

Everything else is the ROS-free core (``vuer_ros.view``), shared with offline
rendering (``vuer_ros.bag``).
"""
