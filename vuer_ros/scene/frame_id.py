"""tf2's frame-id rule, written once: a frame id as it comes in -> the id the scene uses.

tf2 (BufferCore's ``stripSlash``) drops exactly one leading '/': ``/map`` is
``map``; ``//map`` is ``/map`` (which tf2's lookups then refuse); ``''`` stays
``''``; inner slashes stay (``robot1/base_link``). The scene applies it once, where
an id comes in: a TF's ``header.frame_id`` and ``child_frame_id``
(``FrameLayout.on_tf``, or ``TfTree.set_transform`` used alone), a marker's
``header.frame_id`` (``read_marker``), the fixed frame and the frames callers ask
about (``SceneModel``). Applying it twice would turn ``//map`` into ``map``.
"""

from __future__ import annotations


def frame_id(name: str) -> str:
    """``name`` as tf2 stores it: one leading '/' dropped."""
    return name[1:] if name.startswith("/") else name
