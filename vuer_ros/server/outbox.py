"""Outbox: one session's queue of encoded messages, with latest-state-wins
coalescing for a client that falls behind.

Entries are already-encoded bytes (a broadcast is encoded once and the same
bytes object sits in every session's outbox) or the RESYNC marker, which the
sender turns into one SET of the *current* scene when it reaches the front.

Rules:
- Scene events (SET/UPDATE/ADD/UPSERT/REMOVE) are droppable: when the queued
  scene events pass ``max_events`` or ``max_bytes``, all of them are replaced
  by one RESYNC marker placed where the oldest one was. Until that marker is
  sent, new scene events are absorbed by it (the SET will contain them).
- A scene event pushed with a ``key`` replaces a queued, unsent one of the same key
  (the newer one goes at the end): the event's sender vouches that it sets everything
  the older one did (a 10 Hz point cloud re-sent whole), so a client that is behind
  is sent only the newest.
- RPC requests are never dropped and keep their order relative to the marker,
  so a grab still sees every scene change made before it was asked for. Only
  the RPC's own caller may take it back (:meth:`withdraw`), once it gave up.
- A new session starts with a RESYNC marker: its first message is one SET of
  the scene as it is when that message goes out.

No sockets here; the sender task awaits :meth:`get`, which sleeps on an
``asyncio.Event`` (no polling).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Final, Literal, Union


class _Resync:
    """Marker: send one SET of the current scene here."""

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = _Resync()

Kind = Literal["scene", "rpc"]
Item = Union[bytes, _Resync]


@dataclass
class CoalesceEpisode:
    """What one fall-behind episode threw away (for the one log line)."""

    events: int = 0
    bytes: int = 0


class Outbox:
    def __init__(self, max_events: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("Outbox limits must be >= 1")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._queue: deque[tuple[Kind, Item]] = deque()
        self._scene_events = 0
        self._scene_bytes = 0
        self._resync_pending = False
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # empty and the last item written out
        self._idle.set()
        self.closed = False
        self._keyed: dict[str, bytes] = {}    # key -> its queued scene event
        # the episode in progress (None when the client keeps up)
        self.episode: CoalesceEpisode | None = None
        self.episodes = 0  # how many times this client fell behind

    # -- producers -------------------------------------------------------------------
    def push_scene(self, message: bytes, key: str | None = None) -> bool:
        """Queue one encoded scene event (replacing the queued one of the same ``key``).
        Returns True when this push started a new coalescing episode (the caller logs
        it once)."""
        if self.closed:
            return False
        if self._resync_pending:
            self._absorb(1, len(message))
            return False
        if key is not None:
            older = self._keyed.pop(key, None)
            if older is not None:
                self._unqueue(older)
            self._keyed[key] = message
        self._queue.append(("scene", message))
        self._scene_events += 1
        self._scene_bytes += len(message)
        self._wake.set()
        self._idle.clear()
        if self._scene_events > self.max_events or self._scene_bytes > self.max_bytes:
            return self._coalesce()
        return False

    def push_rpc(self, message: bytes) -> None:
        """Queue an RPC request; these are never dropped."""
        if self.closed:
            return
        self._queue.append(("rpc", message))
        self._wake.set()
        self._idle.clear()

    def withdraw(self, message: bytes) -> bool:
        """Take back a queued RPC that was given up on (its caller already got a
        TimeoutError), so a client that catches up does not render stale grabs.
        False if it was sent already."""
        for i, (kind, item) in enumerate(self._queue):
            if kind == "rpc" and item is message:
                del self._queue[i]
                if not self._queue:
                    self._idle.set()
                return True
        return False

    def request_resync(self) -> None:
        """Send one SET of the current scene next (a new or reconnected client).

        Queued scene events are dropped: the SET replaces them."""
        if self.closed:
            return
        self._drop_scene_events(count_episode=False)
        if not self._resync_pending:
            self._queue.appendleft(("scene", RESYNC))
            self._resync_pending = True
        self._wake.set()
        self._idle.clear()

    # -- consumer ----------------------------------------------------------------------
    async def get(self) -> Item:
        """Wait for the next item; RESYNC means: send the current scene now.

        Raises :class:`asyncio.CancelledError` only through cancellation, and
        :class:`EOFError` once the outbox is closed and empty."""
        while not self._queue:
            if self.closed:
                raise EOFError("outbox closed")
            self._wake.clear()
            await self._wake.wait()
        kind, item = self._queue.popleft()
        if self._keyed and kind == "scene":
            for key, queued in self._keyed.items():
                if queued is item:
                    del self._keyed[key]
                    break
        if item is RESYNC:
            self._resync_pending = False
        elif kind == "scene":
            assert isinstance(item, bytes)
            self._scene_events -= 1
            self._scene_bytes -= len(item)
        return item

    def sent(self) -> None:
        """The consumer wrote out the item it got last."""
        if not self._queue:
            self._idle.set()

    async def drained(self) -> None:
        """Wait until everything queued so far has been written out (or the outbox closed)."""
        await self._idle.wait()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self._keyed.clear()
        self._scene_events = self._scene_bytes = 0
        self._wake.set()
        self._idle.set()

    def end_episode(self) -> CoalesceEpisode | None:
        """Called when a RESYNC went out: the episode (if any) is over."""
        episode, self.episode = self.episode, None
        return episode

    # -- introspection ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._queue)

    @property
    def scene_backlog(self) -> tuple[int, int]:
        """(queued scene events, their bytes)."""
        return self._scene_events, self._scene_bytes

    @property
    def resync_pending(self) -> bool:
        return self._resync_pending

    # -- internals ----------------------------------------------------------------------
    def _unqueue(self, message: bytes) -> None:
        """Take a queued scene event out (a newer one of its key replaces it)."""
        for i, (_, item) in enumerate(self._queue):
            if item is message:
                del self._queue[i]
                self._scene_events -= 1
                self._scene_bytes -= len(message)
                return

    def _absorb(self, events: int, nbytes: int) -> None:
        if self.episode is not None:
            self.episode.events += events
            self.episode.bytes += nbytes

    def _coalesce(self) -> bool:
        started = self.episode is None
        if started:
            self.episode = CoalesceEpisode()
            self.episodes += 1
        self._drop_scene_events(count_episode=True)
        return started

    def _drop_scene_events(self, count_episode: bool) -> None:
        kept: deque[tuple[Kind, Item]] = deque()
        marker_at: int | None = None
        for kind, item in self._queue:
            if kind == "scene":
                if marker_at is None:
                    marker_at = len(kept)
                    kept.append(("scene", RESYNC))
                if isinstance(item, bytes) and count_episode:
                    self._absorb(1, len(item))
            else:
                kept.append((kind, item))
        if marker_at is not None:
            self._resync_pending = True
        self._queue = kept
        self._keyed.clear()
        self._scene_events = 0
        self._scene_bytes = 0
