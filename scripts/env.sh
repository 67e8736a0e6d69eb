# shellcheck shell=bash
# Environment for running ROS 2 (PyPI wheels) from this repo's .venv.
# Source it from bash:   . scripts/env.sh
# then always run the venv's own interpreter (.venv/bin/python, or the
# console scripts in .venv/bin): ros-wheels-bootstrapper re-executes that
# interpreter once with LD_LIBRARY_PATH=<venv>/lib:... ; another interpreter
# with PYTHONPATH, or `python -S`, cannot import rclpy.

VUER_ROS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VUER_ROS_VENV="$VUER_ROS_ROOT/.venv"
VUER_ROS_PYTHON="$VUER_ROS_VENV/bin/python"
export VUER_ROS_ROOT VUER_ROS_VENV VUER_ROS_PYTHON

_vuer_ros_prepend() { # VAR DIR: put DIR first in a colon list, once
    local cur="${!1:-}"
    case ":$cur:" in
        *":$2:"*) ;;
        *) export "$1=$2${cur:+:$cur}" ;;
    esac
}
# ament_index lookups (get_package_share_directory, rosidl type support, rmw)
_vuer_ros_prepend AMENT_PREFIX_PATH "$VUER_ROS_VENV"
# CMake/colcon builds against the venv's ROS
_vuer_ros_prepend CMAKE_PREFIX_PATH "$VUER_ROS_VENV"
_vuer_ros_prepend PATH "$VUER_ROS_VENV/bin"
unset -f _vuer_ros_prepend

# The bootstrapper skips its re-exec when this guard is inherited; a child
# that inherited the guard without the matching LD_LIBRARY_PATH cannot load
# rclpy's C extension ("librcl_action.so: cannot open shared object file").
case ":${LD_LIBRARY_PATH:-}:" in
    *":$VUER_ROS_VENV/lib:"*) ;;
    *) unset _ROS_WHEELS_BOOTSTRAP_COMPLETE ;;
esac

export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
export ROS_VERSION=2
export ROS_PYTHON_VERSION=3
export ROS_DISTRO="${ROS_DISTRO:-jazzy}"
# rclpy.init() needs a writable HOME (~/.ros/log) or ROS_LOG_DIR.
if [ -z "${ROS_LOG_DIR:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; }; then
    export ROS_LOG_DIR="${TMPDIR:-/tmp}/vuer_ros-ros-log"
fi
