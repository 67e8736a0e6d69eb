"""Launch the vuer_ros viewer node with config/viewer.yaml.

    ros2 launch vuer_ros viewer.launch.py
    ros2 launch vuer_ros viewer.launch.py port:=0 headless:=false use_sim_time:=true
    ros2 launch vuer_ros viewer.launch.py config:=/path/to/my_viewer.yaml

Launch arguments:
    config        parameters file (default: the package's config/viewer.yaml)
    port          browser port; empty: the config's (0 = any free port)
    headless      true/false: run an own headless Chromium; empty: the config's
    use_sim_time  true/false: stamp images with /clock time (default false)
    rviz          true: also start rviz2 with config/compare.rviz (docs/rviz.md)

The node logs the browser URL. Arguments left empty do not override the file.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "vuer_ros"
EXECUTABLE = "viewer"
NODE_NAME = "vuer_viewer"


def _as_bool(text, name):
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"launch argument {name}:={text!r}: use true or false")


def _viewer(context, *args, **kwargs):
    config = LaunchConfiguration("config").perform(context)
    overrides = {"use_sim_time": _as_bool(LaunchConfiguration("use_sim_time").perform(context),
                                          "use_sim_time")}
    port = LaunchConfiguration("port").perform(context).strip()
    if port:
        overrides["port"] = int(port)
    headless = LaunchConfiguration("headless").perform(context).strip()
    if headless:
        overrides["render.headless"] = _as_bool(headless, "headless")
    nodes = [Node(package=PACKAGE, executable=EXECUTABLE, name=NODE_NAME, output="screen",
                  emulate_tty=True, parameters=[config, overrides])]
    if _as_bool(LaunchConfiguration("rviz").perform(context), "rviz"):
        rviz_config = PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "compare.rviz"])
        nodes.append(Node(package="rviz2", executable="rviz2", name="rviz2", output="screen",
                          arguments=["-d", rviz_config],
                          parameters=[{"use_sim_time": overrides["use_sim_time"]}]))
    return nodes


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            "config",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "viewer.yaml"]),
            description="Parameters file of the viewer node"),
        DeclareLaunchArgument(
            "port", default_value="",
            description="Browser port (0: any free port); empty: the value in the config"),
        DeclareLaunchArgument(
            "headless", default_value="",
            description="true: render in an own headless Chromium; false: in the browser you "
                        "open; empty: the value in the config"),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false",
            description="Use /clock time (e.g. with `ros2 bag play --clock`)"),
        DeclareLaunchArgument(
            "rviz", default_value="false",
            description="true: also start rviz2 with config/compare.rviz, to compare side by side"),
        OpaqueFunction(function=_viewer),
    ])
