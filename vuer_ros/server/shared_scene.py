"""SharedScene: the one scene every viewer sees.

Owns the :class:`SceneTree` and the encoding of scene events: each event is
applied to the tree and encoded once; the same bytes go to every session.
``snapshot_message()`` is the SET that brings any client up to date, encoded
at most once per scene version.
"""

from __future__ import annotations

import logging
from typing import Any

from ..protocol import SceneTree, SceneTreeError, ServerEvent, Set, encode
from ..protocol.events import SCENE_ETYPES
from .logs import ThrottledLog

logger = logging.getLogger(__name__)


class SharedScene:
    def __init__(self) -> None:
        self.tree = SceneTree()
        self.version = 0
        self._snapshot: tuple[int, bytes] | None = None
        self._problems = ThrottledLog(logger, interval=10.0)

    def apply(self, event: ServerEvent) -> bytes:
        """Apply a scene event to the tree; return its encoded form to broadcast.

        Raises ValueError (SceneTreeError) for an event of the wrong shape: it
        is not sent to anyone, so the browsers stay in step with the tree.
        """
        return encode(self.apply_wire(event))

    def apply_wire(self, event: ServerEvent) -> dict[str, Any]:
        """:meth:`apply`, returning the event's wire form (not yet encoded)."""
        if event.etype not in SCENE_ETYPES:
            raise ValueError(f"{event.etype} is not a scene event ({', '.join(SCENE_ETYPES)})")
        wire: dict[str, Any] = event.to_wire()
        problems = self.tree.apply(wire)
        for problem in problems:
            # the browser ignores these the same way; say so once per cause
            self._problems.warning(problem, "scene event %s: %s", event.etype, problem)
        self.version += 1
        return wire

    def snapshot_message(self) -> bytes:
        """One encoded SET of the current scene."""
        if self._snapshot is None or self._snapshot[0] != self.version:
            self._snapshot = (self.version, encode(Set(self.tree.snapshot())))
        return self._snapshot[1]


__all__ = ["SceneTreeError", "SharedScene"]
