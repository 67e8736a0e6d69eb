"""TfTree: the TF buffer of the scene model, with tf2's semantics.

What it keeps (as tf2's BufferCore does):
- per child frame, the transforms to its parent over the last ``cache_time_ns``
  (10 s by default), sorted by stamp; each entry names its parent, so a frame
  can be re-parented over time; data older than the history is refused
  (tf2's TF_OLD_DATA); two transforms with one stamp: the later one wins;
- static transforms (``/tf_static``): one value per child, valid for all time;
  a frame switches between static and dynamic with the last kind received
  (tf2 reallocates the frame's cache the same way);
- lookups interpolate between the two stamps around the requested time (lerp
  the translation, slerp the rotation) and raise ``TfExtrapolationError`` with
  tf2's wording outside the history; ``time_ns`` None or 0 means "the latest
  time at which the whole chain is known" (tf2's TimePointZero).

What it adds: a transform that would close a loop (its parent is its own
descendant, by the latest links) is refused with ``TfRejectedError("loop")``
instead of poisoning later lookups. Input checks are tf2's: empty ids, a
child equal to its parent, NaN, and a quaternion whose squared norm is more
than 0.01 off 1 are refused. ``set_transform`` takes ids as messages carry them
and applies tf2's frame-id rule (frame_id.py); ``insert`` takes ids that had it
applied already (the scene's TF input does that once, at its boundary).

Frame ids are plain strings; times are int nanoseconds. No ROS imports.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_left, bisect_right
from types import MappingProxyType
from typing import Mapping, NamedTuple

from .errors import TfConnectivityError, TfExtrapolationError, TfLookupError, TfLoopError, TfRejectedError
from .frame_id import frame_id
from .transform import IDENTITY, Transform, interpolate

DEFAULT_CACHE_TIME_NS = 10_000_000_000
# tf2's MAX_GRAPH_DEPTH: a chain longer than this is treated as a loop.
MAX_GRAPH_DEPTH = 1000
# tf2's QUATERNION_NORMALIZATION_TOLERANCE, on |q|^2 - 1.
QUATERNION_TOLERANCE = 10e-3


class TfUpdate(enum.IntEnum):
    """What ``set_transform`` changed about the child's latest link."""

    OLDER = 0    # stored as history; the latest value of the link is unchanged
    MOVED = 1    # the latest value changed; same parent
    LINKED = 2   # the child is new or its latest parent changed


class TfEdge(NamedTuple):
    """The latest value of one link: ``transform`` maps ``child`` into ``parent``."""

    parent: str
    child: str
    transform: Transform
    stamp_ns: int
    static: bool


class _History:
    """One child frame's link to its parent over time, sorted by stamp."""

    __slots__ = ("static", "stamps", "parents", "transforms")

    def __init__(self, static: bool):
        self.static = static
        self.stamps: list[int] = []
        self.parents: list[str] = []
        self.transforms: list[Transform] = []


def format_time(time_ns: int) -> str:
    return f"{time_ns / 1e9:.9f}"


class TfTree:
    def __init__(self, cache_time_ns: int = DEFAULT_CACHE_TIME_NS):
        if cache_time_ns <= 0:
            raise ValueError("cache_time_ns must be positive")
        self.cache_time_ns = int(cache_time_ns)
        self._frames: dict[str, _History] = {}   # child -> its history
        self._parent: dict[str, str] = {}        # child -> latest parent
        self._known: set[str] = set()            # every frame named as child or parent

    # -- input ----------------------------------------------------------------
    def set_transform(self, parent: str, child: str, transform: Transform, stamp_ns: int,
                      static: bool = False) -> TfUpdate:
        """Insert one transform ``parent <- child`` at ``stamp_ns``, the ids as a
        message carries them (tf2's setTransform: one leading '/' dropped, frame_id.py).

        Raises ``TfRejectedError`` (with ``kind``) for input tf2 would refuse and
        for a link that would close a loop; the tree is unchanged then.
        """
        return self.insert(frame_id(parent), frame_id(child), transform, stamp_ns, static)

    def insert(self, parent: str, child: str, transform: Transform, stamp_ns: int,
               static: bool = False) -> TfUpdate:
        """``set_transform`` for ids that are already tf2 frame ids (frame_id.py applied)."""
        if not child:
            raise TfRejectedError("empty", f"tf: ignoring transform with parent '{parent}' "
                                  "because child_frame_id is empty")
        if not parent:
            raise TfRejectedError("empty", f"tf: ignoring transform for child '{child}' "
                                  "because header.frame_id is empty")
        if parent == child:
            raise TfRejectedError("self", f"tf: ignoring transform from '{child}' to itself "
                                  "(frame_id and child_frame_id are the same)")
        (tx, ty, tz), (qx, qy, qz, qw) = transform
        if not math.isfinite(tx + ty + tz + qx + qy + qz + qw):
            raise TfRejectedError("nan", f"tf: ignoring transform '{parent}' -> '{child}' because "
                                  f"of a non-finite value: translation ({tx}, {ty}, {tz}) "
                                  f"rotation ({qx}, {qy}, {qz}, {qw})")
        n2 = qx * qx + qy * qy + qz * qz + qw * qw
        if abs(n2 - 1.0) >= QUATERNION_TOLERANCE:
            raise TfRejectedError("denormalized", f"tf: ignoring transform '{parent}' -> '{child}' "
                                  f"because its quaternion ({qx}, {qy}, {qz}, {qw}) is not "
                                  "normalised")
        if n2 != 1.0:
            n = math.sqrt(n2)
            transform = Transform(transform[0], (qx / n, qy / n, qz / n, qw / n))
        stamp_ns = int(stamp_ns)

        h = self._frames.get(child)
        old_parent = self._parent.get(child)
        fresh = h is None or h.static != static
        becomes_latest = fresh or static or stamp_ns >= h.stamps[-1]  # type: ignore[union-attr]
        if becomes_latest and parent != old_parent:
            self._refuse_loop(parent, child)

        if fresh or static:
            h = _History(static)
            h.stamps.append(stamp_ns)
            h.parents.append(parent)
            h.transforms.append(transform)
            self._frames[child] = h
        else:
            assert h is not None
            stamps = h.stamps
            latest = stamps[-1]
            if stamp_ns > latest:
                stamps.append(stamp_ns)
                h.parents.append(parent)
                h.transforms.append(transform)
                cutoff = stamp_ns - self.cache_time_ns
                if stamps[0] < cutoff:
                    cut = bisect_left(stamps, cutoff)
                    del stamps[:cut], h.parents[:cut], h.transforms[:cut]
            elif stamp_ns == latest:
                h.parents[-1] = parent
                h.transforms[-1] = transform
            else:
                if stamp_ns < latest - self.cache_time_ns:
                    raise TfRejectedError(
                        "old", f"tf: ignoring data from the past for frame '{child}' at time "
                        f"{format_time(stamp_ns)}: the history of {self.cache_time_ns / 1e9:g} s "
                        f"ends at {format_time(latest)}")
                i = bisect_right(stamps, stamp_ns)
                if i > 0 and stamps[i - 1] == stamp_ns:
                    h.parents[i - 1] = parent
                    h.transforms[i - 1] = transform
                else:
                    stamps.insert(i, stamp_ns)
                    h.parents.insert(i, parent)
                    h.transforms.insert(i, transform)
                return TfUpdate.OLDER

        self._known.add(parent)
        self._known.add(child)
        if parent != old_parent:
            self._parent[child] = parent
            return TfUpdate.LINKED
        return TfUpdate.MOVED

    def _refuse_loop(self, parent: str, child: str) -> None:
        chain = [parent]
        frame = parent
        while frame in self._parent:
            frame = self._parent[frame]
            chain.append(frame)
            if frame == child or len(chain) > MAX_GRAPH_DEPTH:
                break
        if frame == child:
            path = " -> ".join([child] + chain)
            raise TfRejectedError("loop", f"tf: refusing transform '{parent}' -> '{child}': "
                                  f"it would close a loop ({path}); a frame has one parent "
                                  "and the tree has no cycles")

    def clear(self) -> None:
        """Forget everything (static transforms included)."""
        self._frames.clear()
        self._parent.clear()
        self._known.clear()

    # -- queries ----------------------------------------------------------------
    def __contains__(self, frame: object) -> bool:
        return frame in self._known

    def __len__(self) -> int:
        return len(self._known)

    @property
    def frames(self) -> frozenset[str]:
        """Every frame named so far, as a child or as a parent."""
        return frozenset(self._known)

    @property
    def parents(self) -> Mapping[str, str]:
        """child -> latest parent, read-only and live."""
        return MappingProxyType(self._parent)

    def parent(self, frame: str) -> str | None:
        """The latest parent of ``frame`` (None for a root or an unknown frame)."""
        return self._parent.get(frame)

    def edge(self, child: str) -> TfEdge | None:
        """The latest value of the link from ``child`` to its parent."""
        h = self._frames.get(child)
        if h is None:
            return None
        return TfEdge(h.parents[-1], child, h.transforms[-1], h.stamps[-1], h.static)

    def is_static(self, frame: str) -> bool:
        h = self._frames.get(frame)
        return h is not None and h.static

    def time_range(self, child: str) -> tuple[int, int] | None:
        """(oldest, latest) stamps held for ``child``'s link; None for roots and statics."""
        h = self._frames.get(child)
        if h is None or h.static:
            return None
        return h.stamps[0], h.stamps[-1]

    def root(self, frame: str) -> str:
        """The root of ``frame``'s tree by the latest links. Any frame the tree
        holds has one, a name lookups refuse (``/a``, from a message's ``//a``) too."""
        if frame not in self._known:
            raise TfLookupError(f'"{frame}" passed to root does not exist. ')
        depth = 0
        while frame in self._parent:
            frame = self._parent[frame]
            depth += 1
            if depth > MAX_GRAPH_DEPTH:
                raise TfLoopError("The tf tree is invalid because it contains a loop.")
        return frame

    def chain(self, target: str, source: str) -> list[str]:
        """Frames from ``source`` up to the common ancestor and down to ``target``
        (latest links), both ends included; raises like ``lookup``."""
        self._check_frame(target, "target_frame")
        self._check_frame(source, "source_frame")
        up = self._ancestors(source)
        index = {f: i for i, f in enumerate(up)}
        down = []
        frame = target
        while frame not in index:
            down.append(frame)
            if frame not in self._parent:
                raise self._connectivity_error(target, source)
            frame = self._parent[frame]
            if len(down) > MAX_GRAPH_DEPTH:
                raise TfLoopError("The tf tree is invalid because it contains a loop.")
        return up[: index[frame] + 1] + down[::-1]

    def connected(self, a: str, b: str) -> bool:
        try:
            self.chain(a, b)
        except (TfLookupError, TfConnectivityError, TfLoopError):
            return False
        return True

    def latest_common_time(self, target: str, source: str) -> int | None:
        """The newest time at which every dynamic link between the frames is known
        (the minimum of their latest stamps); None when all links are static."""
        common: int | None = None
        frames = self.chain(target, source)
        for a, b in zip(frames, frames[1:]):
            child = a if self._parent.get(a) == b else b
            h = self._frames[child]
            if not h.static:
                common = h.stamps[-1] if common is None else min(common, h.stamps[-1])
        return common

    def can_transform(self, target: str, source: str, time_ns: int | None = None) -> bool:
        try:
            self.lookup(target, source, time_ns)
        except (TfLookupError, TfConnectivityError, TfExtrapolationError, TfLoopError):
            return False
        return True

    def lookup(self, target: str, source: str, time_ns: int | None = None) -> Transform:
        """The transform that maps points in ``source`` into ``target`` at ``time_ns``.

        ``time_ns`` None or 0: the latest common time of the chain. Raises
        ``TfLookupError`` (unknown or invalid frame id), ``TfConnectivityError``,
        ``TfExtrapolationError``, ``TfLoopError``; messages follow tf2's.
        """
        self._check_frame(target, "target_frame")
        self._check_frame(source, "source_frame")
        if target == source:
            return IDENTITY
        time: int | None = None if not time_ns else int(time_ns)
        if time is None:
            time = self.latest_common_time(target, source)

        # source -> its root, remembering T_frame_source for every ancestor
        up: dict[str, Transform] = {source: IDENTITY}
        acc = IDENTITY
        frame = source
        source_error: TfExtrapolationError | None = None
        while frame in self._frames:
            try:
                parent, tr = self._sample(self._frames[frame], time)
            except TfExtrapolationError as e:
                source_error = e
                break
            acc = tr @ acc
            frame = parent
            if frame in up or len(up) > MAX_GRAPH_DEPTH:
                raise TfLoopError("The tf tree is invalid because it contains a loop.")
            up[frame] = acc

        # target -> the first ancestor shared with the source, T_frame_target
        acc_t = IDENTITY
        frame = target
        depth = 0
        while frame not in up:
            h = self._frames.get(frame)
            if h is None:
                if source_error is not None:
                    raise TfExtrapolationError(f"{source_error}, when looking up transform from "
                                               f"frame [{source}] to frame [{target}]",
                                               source_error.direction)
                raise self._connectivity_error(target, source)
            try:
                parent, tr = self._sample(h, time)
            except TfExtrapolationError as e:
                raise TfExtrapolationError(f"{e}, when looking up transform from frame "
                                           f"[{source}] to frame [{target}]", e.direction) from None
            acc_t = tr @ acc_t
            frame = parent
            depth += 1
            if depth > MAX_GRAPH_DEPTH:
                raise TfLoopError("The tf tree is invalid because it contains a loop.")
        return acc_t.inverse() @ up[frame]

    # -- internals ----------------------------------------------------------------
    def _sample(self, h: _History, time: int | None) -> tuple[str, Transform]:
        if h.static or time is None:
            return h.parents[-1], h.transforms[-1]
        stamps = h.stamps
        latest = stamps[-1]
        if time == latest:
            return h.parents[-1], h.transforms[-1]
        if len(stamps) == 1:
            raise TfExtrapolationError(
                f"Lookup would require extrapolation at time {format_time(time)}, but only time "
                f"{format_time(latest)} is in the buffer", "past" if time < latest else "future")
        if time > latest:
            raise TfExtrapolationError(
                f"Lookup would require extrapolation into the future.  Requested time "
                f"{format_time(time)} but the latest data is at time {format_time(latest)}",
                "future")
        if time < stamps[0]:
            raise TfExtrapolationError(
                f"Lookup would require extrapolation into the past.  Requested time "
                f"{format_time(time)} but the earliest data is at time {format_time(stamps[0])}",
                "past")
        i = bisect_right(stamps, time)   # stamps[i-1] <= time < stamps[i]
        older = i - 1
        if stamps[older] == time or h.parents[older] != h.parents[i]:
            return h.parents[older], h.transforms[older]
        ratio = (time - stamps[older]) / (stamps[i] - stamps[older])
        return h.parents[older], interpolate(h.transforms[older], h.transforms[i], ratio)

    def _ancestors(self, frame: str) -> list[str]:
        out = [frame]
        while frame in self._parent:
            frame = self._parent[frame]
            out.append(frame)
            if len(out) > MAX_GRAPH_DEPTH:
                raise TfLoopError("The tf tree is invalid because it contains a loop.")
        return out

    def _check_frame(self, frame: str, argument: str) -> None:
        if not frame:
            raise TfLookupError(f'Invalid argument "{frame}" passed to lookup_transform argument '
                                f"{argument} - in tf2 frame_ids cannot be empty")
        if frame.startswith("/"):
            raise TfLookupError(f'Invalid argument "{frame}" passed to lookup_transform argument '
                                f"{argument} - in tf2 frame_ids cannot start with a '/'")
        if frame not in self._known:
            raise TfLookupError(f'"{frame}" passed to lookup_transform argument {argument} '
                                "does not exist. ")

    def _connectivity_error(self, target: str, source: str) -> TfConnectivityError:
        return TfConnectivityError(
            f"Could not find a connection between '{target}' and '{source}' because they are "
            "not part of the same tree. Tf has two or more unconnected trees.")
