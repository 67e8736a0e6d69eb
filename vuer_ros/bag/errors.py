"""Errors of offline bag rendering. Each message is one line that says what is
wrong and what to do; the CLI prints it as is and exits non-zero."""

from __future__ import annotations


class BagRenderError(RuntimeError):
    """Base class: rendering a bag cannot go on."""

    exit_code = 1


class BagReadError(BagRenderError):
    """The input is not a readable ROS 2 bag."""

    exit_code = 2


class TopicError(BagRenderError):
    """A topic asked for is not in the bag, or has the wrong type."""

    exit_code = 2


class FrameError(BagRenderError):
    """The fixed frame or the camera frame never appears in the bag's TF."""

    exit_code = 2


class OutputError(BagRenderError):
    """An output cannot be created or written."""

    exit_code = 2


class RendererError(BagRenderError):
    """The headless renderer failed (Chromium missing, a grab failing again and again)."""

    exit_code = 1


class RobotModelError(BagRenderError):
    """The URDF given with --urdf cannot be read."""

    exit_code = 2
