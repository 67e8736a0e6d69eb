"""tf2's frame-id rule, written once: one leading '/' is dropped (``/map`` is ``map``)."""

from __future__ import annotations


def frame_id(name: str) -> str:
    return name[1:] if name.startswith("/") else name
