"""Errors that stop a render (offline rendering; the live view logs and goes on).
Each message is one line that says what is wrong and what to do; ``exit_code``
is what ``vuer-ros render-bag`` exits with."""

from __future__ import annotations


class RenderError(RuntimeError):
    """Base class: a render cannot go on."""

    exit_code = 1


class TopicError(RenderError):
    """A topic asked for is not in the recording, or has the wrong type."""

    exit_code = 2


class FrameError(RenderError):
    """The fixed frame or the camera frame never appears in the recording's TF."""

    exit_code = 2


class RobotModelError(RenderError):
    """The URDF given as the robot model cannot be read."""

    exit_code = 2


class RendererError(RenderError):
    """The renderer cannot start, or a grab failed every attempt; ``cause`` names the
    kind of failure (for logging once per cause)."""

    exit_code = 1

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message
