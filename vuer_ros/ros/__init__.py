"""The ROS 2 side of vuer_ros: the only package that imports rclpy.

- ``viewer_node``: :class:`ViewerNode` and ``main`` (console script ``viewer``);
- ``lifecycle``: rclpy.init and a stop on SIGINT/SIGTERM that further signals cannot
  cut short, for the viewer's and the demo's main;
- ``render_loop``: the asyncio thread owning the scene model, the server and the
  renderer (no rclpy);
- ``marker_cdr``: fast Marker/MarkerArray decoding from raw CDR (no rclpy);
- ``demo_node``: the built-in demo robot published on ROS.

The parameter table is ``vuer_ros.params``, the render settings
``vuer_ros.render.settings`` and mesh URI resolution ``vuer_ros.scene.mesh_resolver``:
the offline bag renderer shares them without ROS.
"""
