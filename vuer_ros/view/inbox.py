"""Inbox: received messages waiting for the scene, handed from any thread.

The live node's subscription callbacks run on rclpy's executor; the scene
lives on the view's own thread. :meth:`put` never blocks and never takes a
lock the scene thread holds for long, so a callback costs microseconds
whatever the scene is doing. When the scene falls behind, a topic with more
than its limit waiting loses its oldest messages, as a full subscription
queue of that depth would: :meth:`take` says so instead of returning them.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Entry:
    topic: str
    payload: Any             # CDR bytes, or the message decoded (see ScenePlayer.decode)
    receive_ns: int


class Inbox:
    def __init__(self, limit: Callable[[str], int]) -> None:
        """``limit(topic)``: how many messages of a topic may wait."""
        self._limit = limit
        self._entries: deque[Entry] = deque()
        self._waiting: dict[str, int] = {}    # topic -> entries in the deque
        self._lock = threading.Lock()          # guards _waiting (the deque is thread-safe)
        self.dropped: dict[str, int] = {}      # topic -> messages dropped, oldest first

    def put(self, topic: str, payload: Any, receive_ns: int) -> None:
        """Queue one message (any thread, never blocks)."""
        with self._lock:
            self._waiting[topic] = self._waiting.get(topic, 0) + 1
        self._entries.append(Entry(topic, payload, receive_ns))

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def take(self) -> tuple[Entry, bool] | None:
        """The oldest entry and whether it is to be dropped (its topic has more than
        its limit waiting); None when empty. Scene thread only."""
        if not self._entries:
            return None
        entry = self._entries.popleft()
        with self._lock:
            waiting = self._waiting.get(entry.topic, 1)
            self._waiting[entry.topic] = waiting - 1
        drop = waiting > self._limit(entry.topic)
        if drop:
            self.dropped[entry.topic] = self.dropped.get(entry.topic, 0) + 1
        return entry, drop

    def next_of(self, topic: str) -> Entry | None:
        """The next waiting entry of ``topic`` (its payload may be replaced by the
        decoded message, so it is decoded once). Scene thread only."""
        try:
            return next((e for e in self._entries if e.topic == topic), None)
        except RuntimeError:   # a callback appended meanwhile: say none (nothing is skipped)
            return None
