"""The built-in demo robot (plain data, no ROS): see robot.py."""

from .robot import DemoMarker, DemoRobot, FrameTransform

__all__ = ["DemoMarker", "DemoRobot", "FrameTransform"]
