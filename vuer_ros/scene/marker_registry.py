"""MarkerRegistry: the markers currently shown, keyed by (ns, id), as rviz keeps them.

It holds one ``MarkerRecord`` per (ns, id) with its resolved frame, where it
hangs in the scene and when it expires, and answers the questions the actions
need: replace (ADD/MODIFY), remove one (DELETE), remove all or one namespace
(DELETEALL), expire by lifetime, and "which markers hang under this frame".
Placement (TF) and events are the scene model's business.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Iterator

from .markers import MarkerSpec
from .transform import Transform

MarkerId = tuple[str, int]


@dataclass(slots=True)
class MarkerRecord:
    spec: MarkerSpec
    frame: str                       # resolved frame id (the fixed frame when empty)
    attach: str                      # frame whose group it hangs under
    received_ns: int
    expires_ns: int | None           # None: forever
    placed: Transform | None = None  # pose inside the ``attach`` group; None: waiting for TF
    waiting: bool = False            # frame_locked=false, TF at its stamp not known yet
    # while waiting: the previous, placed version of this marker, shown meanwhile
    # (as rviz keeps showing a marker whose update waits in its TF filter)
    stand_in: MarkerRecord | None = None
    seq: int = field(default=0)

    @property
    def view(self) -> MarkerRecord | None:
        """The version to show: this one once placed, else its stand-in (or None)."""
        return self if self.placed is not None else self.stand_in

    @property
    def id(self) -> MarkerId:
        return (self.spec.ns, self.spec.id)


class MarkerRegistry:
    def __init__(self) -> None:
        self._records: dict[MarkerId, MarkerRecord] = {}
        self._by_ns: dict[str, dict[MarkerId, None]] = {}
        self._by_attach: dict[str, dict[MarkerId, None]] = {}
        self._expiry: list[tuple[int, int, MarkerId]] = []
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, mid: object) -> bool:
        return mid in self._records

    def __iter__(self) -> Iterator[MarkerRecord]:
        return iter(list(self._records.values()))

    def namespaces(self) -> list[str]:
        """The namespaces that have markers now."""
        return list(self._by_ns)

    def get(self, mid: MarkerId) -> MarkerRecord | None:
        return self._records.get(mid)

    def attached_to(self, frame: str) -> list[MarkerRecord]:
        ids = self._by_attach.get(frame)
        return [self._records[m] for m in ids] if ids else []

    def put(self, record: MarkerRecord) -> MarkerRecord | None:
        """Add or replace; returns the record it replaced."""
        mid = record.id
        old = self._unlink(mid)
        record.seq = next(self._seq)
        self._records[mid] = record
        self._by_ns.setdefault(mid[0], {})[mid] = None
        self._by_attach.setdefault(record.attach, {})[mid] = None
        if record.expires_ns is not None:
            heapq.heappush(self._expiry, (record.expires_ns, record.seq, mid))
            if len(self._expiry) > 2 * len(self._records) + 1024:
                self._compact()
        return old

    def _compact(self) -> None:
        """Drop heap entries of replaced or removed records (re-sent markers leave them)."""
        self._expiry = [(r.expires_ns, r.seq, mid) for mid, r in self._records.items()
                        if r.expires_ns is not None]
        heapq.heapify(self._expiry)

    def remove(self, mid: MarkerId) -> MarkerRecord | None:
        return self._unlink(mid)

    def remove_namespace(self, ns: str) -> list[MarkerId]:
        ids = list(self._by_ns.get(ns, ()))
        for mid in ids:
            self._unlink(mid)
        return ids

    def clear(self) -> list[MarkerId]:
        ids = list(self._records)
        self._records.clear()
        self._by_ns.clear()
        self._by_attach.clear()
        self._expiry.clear()
        return ids

    def expire(self, now_ns: int) -> list[MarkerId]:
        """Remove the markers whose lifetime has run out (expiry <= now, as rviz)."""
        gone = []
        heap = self._expiry
        while heap and heap[0][0] <= now_ns:
            _, seq, mid = heapq.heappop(heap)
            rec = self._records.get(mid)
            if rec is not None and rec.seq == seq:
                self._unlink(mid)
                gone.append(mid)
        return gone

    def _unlink(self, mid: MarkerId) -> MarkerRecord | None:
        rec = self._records.pop(mid, None)
        if rec is None:
            return None
        ns_ids = self._by_ns.get(mid[0])
        if ns_ids is not None:
            ns_ids.pop(mid, None)
            if not ns_ids:
                del self._by_ns[mid[0]]
        at = self._by_attach.get(rec.attach)
        if at is not None:
            at.pop(mid, None)
            if not at:
                del self._by_attach[rec.attach]
        return rec
