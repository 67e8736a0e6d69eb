"""Errors of the scene model. Each message names the frames or the marker involved
and says what would fix it, so it can go to the log as it is."""

from __future__ import annotations


class SceneError(Exception):
    """Base of the scene model's errors."""


class TfError(SceneError):
    """A TF lookup or insertion that cannot be done (tf2's exceptions, by kind)."""


class TfLookupError(TfError):
    """A frame id that is not in the tree (or is not a valid frame id)."""


class TfConnectivityError(TfError):
    """The two frames are in different trees."""


class TfExtrapolationError(TfError):
    """The requested time is outside the history that the chain holds.

    ``direction`` is ``past`` (older than the history: it will never resolve)
    or ``future`` (newer than the latest data: it may resolve when data arrives).
    """

    def __init__(self, message: str, direction: str = "future"):
        super().__init__(message)
        self.direction = direction


class TfLoopError(TfError):
    """The parent links form a loop (found while walking the tree)."""


class TfRejectedError(TfError):
    """``TfTree.set_transform`` (or ``insert``) refused a transform; ``kind`` says why.

    Kinds: ``self`` (parent == child), ``empty`` (empty frame id), ``nan``
    (non-finite value), ``denormalized`` (quaternion far from unit length),
    ``old`` (older than the history kept), ``loop`` (it would close a loop).
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class MarkerError(SceneError):
    """A marker that cannot be shown; ``kind`` names the cause, the message
    starts with the marker's key (``marker ns=arm id=3: ...``)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class UrdfError(SceneError):
    """A robot description that cannot be read as URDF; the message names its
    source (``/robot_description``, a file) and what is wrong."""


class CloudError(SceneError):
    """A point cloud or laser scan that cannot be shown; ``kind`` names the cause
    (``limit``, ``fields``, ``row_step``, ``data``, ``datatype``, ...), the message
    starts with the topic and names the offending key."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
