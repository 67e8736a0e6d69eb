"""Errors of reading and writing bags. Each message is one line that says what is
wrong and what to do; the CLI prints it as is and exits with ``exit_code``.
The errors of the render itself (topics, frames, renderer, robot model) are the
core's (vuer_ros/view/errors.py), re-exported here for ``except`` clauses."""

from __future__ import annotations

from ..view.errors import FrameError, RenderError, RendererError, RobotModelError, TopicError

BagRenderError = RenderError   # the base class of everything render-bag raises


class BagReadError(RenderError):
    """The input is not a readable ROS 2 bag."""

    exit_code = 2


class OutputError(RenderError):
    """An output cannot be created or written."""

    exit_code = 2


__all__ = ["BagReadError", "BagRenderError", "FrameError", "OutputError", "RenderError",
           "RendererError", "RobotModelError", "TopicError"]
