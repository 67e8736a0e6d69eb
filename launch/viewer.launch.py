"""Launch the vuer_ros viewer node with config/viewer.yaml.

    ros2 launch vuer_ros viewer.launch.py
    ros2 launch vuer_ros viewer.launch.py port:=0 headless:=false use_sim_time:=true
    ros2 launch vuer_ros viewer.launch.py config:=/path/to/my_viewer.yaml

Launch arguments:
    config        parameters file (default: the package's config/viewer.yaml)
    port          browser port 0..65535 (0 = any free port); empty: the config's
    headless      true/false: run an own headless Chromium; empty: the config's
    use_sim_time  true/false: stamp images with /clock time (default false)
    rviz          true: also start rviz2 with config/compare.rviz (docs/rviz.md)

The node logs the browser URL. Arguments left empty do not override the file.

Everything is resolved before anything starts: each argument's value, the packages,
executables and files they need. A substitution that fails while launch runs the
actions (launch_ros's "package 'rviz2' not found") shuts launch down while the viewer's
process is still being started, and the viewer and its Chromium then run on without
launch. So a problem is one error, naming the argument and what to do, raised before
any action is returned.
"""

import os

import yaml
from ament_index_python.packages import (
    PackageNotFoundError,
    get_package_prefix,
    get_package_share_directory,
)
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = "vuer_ros"
EXECUTABLE = "viewer"
NODE_NAME = "vuer_viewer"
RVIZ_PACKAGE = RVIZ_EXECUTABLE = "rviz2"
BUILD_VUER_ROS = "build it (colcon build --packages-select vuer_ros) and source install/setup.bash"
INSTALL_RVIZ2 = "install it (apt install ros-$ROS_DISTRO-rviz2) or launch with rviz:=false"
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class ViewerLaunchError(ValueError):
    """A launch argument, package, executable or file that cannot work; says what to do."""

    def __init__(self, text):
        super().__init__(f"viewer.launch.py: {text}")


def _as_bool(text, name, empty_means=""):
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ViewerLaunchError(f"{name}:={text!r} is not a boolean: use {name}:=true or "
                            f"{name}:=false{empty_means}")


def _port(text):
    value = text.strip()
    if value.isascii() and value.isdigit() and int(value) <= 65535:
        return int(value)
    raise ViewerLaunchError(f"port:={text!r} is not a port: use 0..65535 (0 = any free port), "
                            "or leave it empty for the config's")


def _executable(package, executable, needed_by, remedy):
    """Check that launch_ros will find ``executable`` of ``package`` (in lib/<package>)."""
    try:
        prefix = get_package_prefix(package)
    except (PackageNotFoundError, ValueError):
        raise ViewerLaunchError(f"{needed_by} needs the package '{package}', which is not "
                                f"installed (not in AMENT_PREFIX_PATH): {remedy}") from None
    path = os.path.join(prefix, "lib", package, executable)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ViewerLaunchError(f"{needed_by} needs {path} (the executable '{executable}' of "
                                f"'{package}'), which is missing: {remedy}")


def _yaml_problem(error):
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem}, line {mark.line + 1}" if mark is not None else problem


def _config(context):
    try:
        path = LaunchConfiguration("config").perform(context)
    except Exception as e:   # the default's FindPackageShare: the package is not installed
        raise ViewerLaunchError(f"config: the default (the package's config/viewer.yaml) cannot "
                                f"be found ({e}); give config:=/path/to/viewer.yaml") from None
    if not os.path.isfile(path):
        raise ViewerLaunchError(f"config:={path}: no such file; give an existing parameters "
                                "file, or leave config unset for the package's config/viewer.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ViewerLaunchError(f"config:={path} cannot be read as YAML ({_yaml_problem(e)}): "
                                "fix the file, or leave config unset for the package's "
                                "config/viewer.yaml") from None
    if not (isinstance(data, dict) and data and all(
            isinstance(v, dict) and isinstance(v.get("ros__parameters"), dict)
            for v in data.values())):
        raise ViewerLaunchError(f"config:={path} is not a ROS parameters file: expected "
                                "`/**:` or `vuer_viewer:` with `ros__parameters:` under it, as "
                                "in the package's config/viewer.yaml")
    return path


def _viewer(context, *args, **kwargs):
    """The viewer (and rviz2) Node actions, once every check has passed."""
    use_sim_time = _as_bool(LaunchConfiguration("use_sim_time").perform(context), "use_sim_time")
    overrides = {"use_sim_time": use_sim_time}
    port = LaunchConfiguration("port").perform(context).strip()
    if port:
        overrides["port"] = _port(port)
    headless = LaunchConfiguration("headless").perform(context).strip()
    if headless:
        overrides["render.headless"] = _as_bool(headless, "headless",
                                                ", or leave it empty for the config's")
    rviz = _as_bool(LaunchConfiguration("rviz").perform(context), "rviz")
    _executable(PACKAGE, EXECUTABLE, "the viewer node", BUILD_VUER_ROS)
    config = _config(context)
    rviz_config = _rviz_config() if rviz else None
    nodes = [Node(package=PACKAGE, executable=EXECUTABLE, name=NODE_NAME, output="screen",
                  emulate_tty=True, parameters=[config, overrides])]
    if rviz_config is not None:
        nodes.append(Node(package=RVIZ_PACKAGE, executable=RVIZ_EXECUTABLE, name="rviz2",
                          output="screen", arguments=["-d", rviz_config],
                          parameters=[{"use_sim_time": use_sim_time}]))
    return nodes


def _rviz_config():
    """rviz2 is installed and the package has config/compare.rviz: its path."""
    _executable(RVIZ_PACKAGE, RVIZ_EXECUTABLE, "rviz:=true", INSTALL_RVIZ2)
    path = os.path.join(get_package_share_directory(PACKAGE), "config", "compare.rviz")
    if not os.path.isfile(path):
        raise ViewerLaunchError(f"rviz:=true needs {path}, which is missing: {BUILD_VUER_ROS}, "
                                "or launch with rviz:=false")
    return path


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            "config",
            default_value=PathJoinSubstitution([FindPackageShare(PACKAGE), "config", "viewer.yaml"]),
            description="Parameters file of the viewer node"),
        DeclareLaunchArgument(
            "port", default_value="",
            description="Browser port 0..65535 (0: any free port); empty: the value in the config"),
        DeclareLaunchArgument(
            "headless", default_value="",
            description="true: render in an own headless Chromium; false: in the browser you "
                        "open; empty: the value in the config"),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false",
            description="true: use /clock time (e.g. with `ros2 bag play --clock`); false: wall time"),
        DeclareLaunchArgument(
            "rviz", default_value="false",
            description="true: also start rviz2 with config/compare.rviz, to compare side by side"),
        OpaqueFunction(function=_viewer),
    ])
