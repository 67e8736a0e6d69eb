"""MarkerDisplay: visualization_msgs Marker and MarkerArray in the TF frame groups.

It follows rviz2's Marker display (docs/markers.md)::

    Group tf:<frame>                 (frame_layout.py)
      Group marker:<ns>:<id>         frame_locked=true: pose = marker pose
    Group tf:<fixed>
      Group marker:<ns>:<id>         frame_locked=false: pose in the fixed frame at
                                     header.stamp, computed once

- (ns, id) identity, ADD/MODIFY replaces (an UPSERT with strict=True, so a type
  change rebuilds the children), DELETE, DELETEALL (one namespace when ns is
  set), lifetime from receive time (<= 100 us: forever), empty frame_id = fixed
  frame. Records, lifetimes and namespaces: marker_registry.py; one message ->
  its elements: markers.py.
- A frame_locked=false marker waits (up to ``tf_timeout_ns``) for the TF at its
  stamp, then is placed once; while a new version of a shown marker waits, the
  old one stays (as rviz's TF message filter does). The fixed-frame lookups are
  memoised while TF is unchanged: the markers of one array mostly share a frame
  and a stamp. Changing the fixed frame clears the markers (as rviz).
- A marker re-sent unchanged emits nothing (the common 10 Hz re-publish). One
  re-sent with the same type and geometry inputs (scale, color, points, colors,
  text, mesh) that only moved is one pose UPDATE of its group (``position``,
  ``quaternion``): its geometry elements are reused, not rebuilt (``read_marker``'s
  ``prev``), so a 1,000-marker array of moving objects costs neither the model nor
  the browser a rebuild.
- ``lists``: the simple markers (marker_geometry.listable) of one frame group, ns and
  type hang as one MarkerList instead (marker_list.py); a list whose markers only
  moved is one UPDATE of its ``poses``. An array decoded as columns
  (cdr/marker_columns.py) is read without marker objects where its markers are
  simple, and the same markers moved again are moved in place (``_move``).
- A frame_locked marker in a frame TF has never named is hidden and reported
  once per frame; one in a frame that cannot reach the fixed frame is hidden
  with it (frame_layout.py reports the tree).
- Bad markers are reported once per cause and skipped; the others apply.
"""

from __future__ import annotations

import logging
from typing import AbstractSet, Any, Sequence

import numpy as np

from ..protocol.elements import Element, Group
from ..protocol.events import Remove, ServerEvent, Upsert
from .display import Display
from .errors import MarkerError, TfError, TfExtrapolationError
from .frame_layout import FrameLayout
from .gc_pause import gc_paused
from .keys import MARKER_PREFIX, frame_key, marker_key, marker_list_key, owner_prefix
from .marker_list import list_element, poses_bytes
from .marker_registry import MarkerId, MarkerRecord, MarkerRegistry
from .markers import (ADD, DELETE, DELETEALL, QUATERNION_TOLERANCE, MarkerSpec, MeshResolver, marker_label,
                      read_marker, read_simple_markers, same_elements)
from .problems import ProblemLog
from .tf_tree import format_time
from .transform import Transform, compose_poses

# Memoised fixed-frame lookups kept at most (cleared whenever TF changes anyway).
_MAX_LOOKUPS = 4096

ListId = tuple[str, str, int]
"""A MarkerList's (frame group, ns, type)."""


class _List:
    """One MarkerList: its listed markers, in item order, with the geometry inputs each
    was listed with, and what the browser lacks of it."""

    __slots__ = ("key", "members", "moved", "rebuild", "shown")

    def __init__(self, key: str) -> None:
        self.key = key
        self.members: dict[MarkerId, tuple[Any, ...]] = {}
        self.shown = False     # the browser has it
        self.rebuild = True    # items came, went or changed their geometry: UPSERT it
        self.moved = False     # otherwise items moved: UPDATE its poses


class _Applied:
    """What one MarkerArray decoded as columns became: a record for each of its ``rows``
    read from the columns, placed (at its pose, or frame_locked=false in another frame
    than the fixed one: ``frames[k]``, at the TF of its stamp), listed, without a
    lifetime; its ``others`` (all ADDs) read one by one. The same markers only moved
    (columns that share its ``ids``: cdr/marker_columns.py) then move these records in
    place, with no Python object per marker."""

    __slots__ = ("fixed", "frames", "ids", "lists", "others", "placed", "records", "rows")

    def __init__(self, ids: np.ndarray, rows: list[int], records: list[MarkerRecord],
                 lists: list[ListId], frames: list[str | None], others: list[int],
                 placed: np.ndarray, fixed: str) -> None:
        self.ids, self.rows, self.records, self.lists = ids, rows, records, lists
        self.frames, self.others, self.placed, self.fixed = frames, others, placed, fixed


# Arrays (topics) whose records are kept for moving in place.
_MAX_APPLIED = 8


def namespace_prefix(ns: str) -> str:
    """The key prefix of marker namespace ``ns`` (keys.owner_prefix)."""
    return owner_prefix(MARKER_PREFIX.rstrip(":"), ns)


class MarkerDisplay(Display):
    def __init__(self, frames: FrameLayout, problems: ProblemLog, *,
                 resolve_mesh: MeshResolver | None, tf_timeout_ns: int, max_points: int,
                 lists: bool = False):
        super().__init__(frames, problems)
        self.registry = MarkerRegistry()
        self.lists = lists
        self.resolve_mesh = resolve_mesh
        self.tf_timeout_ns = tf_timeout_ns
        self.max_points = max_points
        self._now_ns = 0
        # what the browser has (after the last drain or SET)
        self._shown: dict[MarkerId, str] = {}            # marker -> frame group it is under
        # marker -> (children list, visible) as last sent: same list object = same geometry
        self._shown_geom: dict[MarkerId, tuple[list[Element], bool]] = {}
        self._dirty: dict[MarkerId, None] = {}           # changed since
        self._waiting: dict[MarkerId, None] = {}         # frame_locked=false, no TF yet
        self._waiting_checked_at = -1                    # frames.version when last tried
        self._lookups: dict[tuple[str, int], Transform | TfError] = {}
        self._lookup_version = -1
        self._missing_frames: set[str] = set()           # reported: TF never named them
        # MarkerLists (lists=True): (attach frame, ns, type) -> list, and each listed
        # marker's list, as of the last _sync_lists
        self._lists: dict[ListId, _List] = {}
        self._listed: dict[MarkerId, ListId] = {}
        self._lists_dirty: dict[ListId, None] = {}
        self._applied: dict[int, _Applied] = {}          # id(columns' ids) -> its records

    def key_prefixes(self) -> list[str]:
        """One per namespace shown (a panel hides namespaces)."""
        return [namespace_prefix(ns) for ns in self.registry.namespaces()]

    # -- input ------------------------------------------------------------------------------
    def on_marker(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/Marker received at ``receive_time_ns``.
        Returns the problems found (each also logged once per cause)."""
        found: list[str] = []
        self._apply(msg, int(receive_time_ns), found)
        return found

    def on_marker_array(self, msg: Any, receive_time_ns: int) -> list[str]:
        """A visualization_msgs/MarkerArray: its markers in order; a bad one is
        skipped, the others apply. An array decoded as columns (cdr/marker_columns.py)
        has its simple markers read from the columns, none of it made into objects."""
        found: list[str] = []
        receive_time_ns = int(receive_time_ns)
        cols = getattr(msg, "columns", None)
        if cols is not None and self.lists:
            applied = self._applied.pop(id(cols.ids), None)
            if applied is not None and applied.ids is cols.ids \
                    and self._move(applied, cols, receive_time_ns, found):
                self._applied[id(cols.ids)] = applied
                return found
            with gc_paused(cols.n):
                twice = self._check_duplicates(list(zip(cols.ns, cols.ids.tolist())), found)
                specs = read_simple_markers(cols)
                for i, spec in enumerate(specs):
                    if spec is None:
                        self._apply(cols.marker(i), receive_time_ns, found)
                    else:
                        self._add(spec, receive_time_ns, found)
                if not twice:
                    self._remember(cols, specs)
            return found
        markers = msg.markers
        with gc_paused(len(markers)):
            self._check_duplicates([(m.ns, m.id) for m in markers], found)
            for m in markers:
                self._apply(m, receive_time_ns, found)
        return found

    def _remember(self, cols: Any, specs: list[MarkerSpec | None]) -> None:
        """Keep what this array (without two markers of one id) became, when each row
        read from the columns is a placed, listed record without a lifetime and every
        other row is an ADD."""
        rows: list[int] = []
        records: list[MarkerRecord] = []
        lists: list[ListId] = []
        frames: list[str | None] = []
        others: list[int] = []
        get = self.registry.get
        actions = cols.actions
        fixed = self.frames.fixed
        for i, spec in enumerate(specs):
            if spec is None:
                if actions[i] != ADD:
                    return
                others.append(i)
                continue
            rec = get((spec.ns, spec.id))
            if rec is None or rec.spec is not spec or rec.placed is None or rec.waiting \
                    or spec.lifetime_ns:
                return
            rows.append(i)
            records.append(rec)
            lists.append((rec.attach, spec.ns, spec.type))
            frames.append(None if spec.frame_locked or rec.frame == fixed else rec.frame)
        if not rows:
            return
        while len(self._applied) >= _MAX_APPLIED:
            del self._applied[next(iter(self._applied))]
        placed = cols.poses[rows]   # where placed at its pose; through TF: its placed pose
        for k, frame in enumerate(frames):
            if frame is not None:
                p = records[k].placed
                assert p is not None
                placed[k] = p.translation + p.rotation
        self._applied[id(cols.ids)] = _Applied(cols.ids, rows, records, lists, frames, others,
                                               placed, fixed)

    def _move(self, applied: _Applied, cols: Any, now: int, found: list[str]) -> bool:
        """The markers of ``applied`` again with new stamps and poses: each record moved
        in place (placed again through TF where it was) and its list's poses sent, the
        other rows applied one by one, as applying the array anew would do. False
        (nothing done) unless every record is still the one shown, every new pose is
        valid and every TF needed is known."""
        if applied.fixed != self.frames.fixed:
            return False
        get = self.registry.get
        records = applied.records
        for rec in records:
            if get(rec.id) is not rec:
                return False   # replaced, deleted or cleared since
        poses = cols.poses[applied.rows]
        if not np.isfinite(poses).all():
            return False
        norm = np.sqrt((poses[:, 3:] ** 2).sum(axis=1))
        if (np.abs(norm - 1.0) > QUATERNION_TOLERANCE).any():
            return False
        stamps = cols.stamps[applied.rows].tolist()
        placed = poses
        groups: dict[tuple[str, int], list[int]] = {}
        for k, frame in enumerate(applied.frames):
            if frame is not None:
                groups.setdefault((frame, stamps[k]), []).append(k)
        if groups:
            placed = poses.copy()
            for (frame, stamp), ks in groups.items():
                tf = self._lookup_fixed(frame, stamp)
                if not isinstance(tf, Transform):
                    return False   # the full path waits for it (or reports it)
                placed[ks] = compose_poses(tf, poses[ks])
        changed = np.flatnonzero((placed != applied.placed).any(axis=1)).tolist()
        for rec, pose in zip(records, poses.tolist() if groups else ()):
            rec.spec.pose = Transform((pose[0], pose[1], pose[2]), (pose[3], pose[4], pose[5], pose[6]))
        for rec, stamp in zip(records, stamps):
            rec.spec.stamp_ns = stamp
            rec.received_ns = now
        lists = applied.lists
        for k, (px, py, pz, qx, qy, qz, qw) in zip(changed, placed[changed].tolist()):
            rec = records[k]
            rec.placed = Transform((px, py, pz), (qx, qy, qz, qw))
            if applied.frames[k] is None:
                rec.spec.pose = rec.placed
            lst = self._lists.get(lists[k])
            if lst is not None:
                lst.moved = True
                self._lists_dirty[lists[k]] = None
        applied.placed = placed
        for i in applied.others:   # ADDs of other markers: in any order
            self._apply(cols.marker(i), now, found)
        return True

    def _check_duplicates(self, mids: list[tuple[str, int]], found: list[str]) -> bool:
        """An array with two markers of one (ns, id) is reported (the first such pair);
        whether it has any."""
        if len(set(mids)) == len(mids):
            return False
        seen: set[tuple[str, int]] = set()
        for mid in mids:
            if mid in seen:
                text = (f"MarkerArray has several markers with {marker_label(*mid)}; "
                        "the last one wins")
                found.append(text)
                self.problems.report(("marker-array",), "duplicate", text)
                break
            seen.add(mid)
        return True

    def _apply(self, msg: Any, now: int, found: list[str]) -> None:
        action = int(msg.action)
        if action == ADD:
            try:
                mid = (str(msg.ns), int(msg.id))
                old = self.registry.get(mid)
                shown = old.view if old is not None else None
                spec = read_marker(msg, self.resolve_mesh, self.max_points,
                                   shown.spec if shown is not None else None, self.lists)
            except MarkerError as e:
                found.append(str(e))
                self.problems.report(("marker", str(msg.ns), int(msg.id)), e.kind, str(e),
                                     logging.ERROR)
                return
            except Exception as e:  # a malformed message must not stop the others
                text = (f"{marker_label(str(msg.ns), int(msg.id))}: cannot read this marker "
                        f"({type(e).__name__}: {e})")
                found.append(text)
                self.problems.report(("marker", str(msg.ns), int(msg.id)), "unreadable", text,
                                     logging.ERROR)
                return
            self._add(spec, now, found)
        elif action == DELETE:
            mid = (str(msg.ns), int(msg.id))
            if self.registry.remove(mid) is not None:
                self._dirty[mid] = None
            self._waiting.pop(mid, None)
            self.problems.resolve(("marker",) + mid)
        elif action == DELETEALL:
            ns = str(msg.ns)
            ids = self.registry.remove_namespace(ns) if ns else self.registry.clear()
            for mid in ids:
                self._dirty[mid] = None
                self._waiting.pop(mid, None)
                self.problems.resolve(("marker",) + mid)
        else:
            text = (f"{marker_label(str(msg.ns), int(msg.id))}: unknown action {action} "
                    "(ADD/MODIFY = 0, DELETE = 2, DELETEALL = 3)")
            found.append(text)
            self.problems.report(("marker", str(msg.ns), int(msg.id)), "action", text,
                                 logging.ERROR)

    def _add(self, spec: MarkerSpec, now: int, found: list[str]) -> None:
        """An ADD/MODIFY read as ``spec``, received at ``now``: replaces the marker."""
        mid = (spec.ns, spec.id)
        old = self.registry.get(mid)
        subject = ("marker", spec.ns, spec.id)
        if spec.warnings:
            for kind, text in spec.warnings:
                found.append(text)
                self.problems.report(subject, kind, text)
            self.problems.resolve(subject, keep=[k for k, _ in spec.warnings])
        elif self.problems.has(subject):
            self.problems.resolve(subject)
        fixed = self.frames.fixed
        frame = spec.frame_id or fixed
        rec = MarkerRecord(spec=spec, frame=frame,
                           attach=frame if spec.frame_locked else fixed,
                           received_ns=now,
                           expires_ns=now + spec.lifetime_ns if spec.lifetime_ns else None)
        if spec.frame_locked or frame == fixed:
            rec.placed = spec.pose
        else:
            rec.waiting = True
            self._try_place(rec)
        if rec.waiting:
            self._waiting[mid] = None
            shown = old.view if old is not None else None
            if shown is not None and shown.attach == rec.attach:
                rec.stand_in = shown
        else:
            self._waiting.pop(mid, None)
        self.registry.put(rec)
        if (old is None or mid in self._dirty
                or (mid not in self._shown and mid not in self._listed)
                or not _same_view(old.view, rec.view)):
            self._dirty[mid] = None

    # -- time and the fixed frame -------------------------------------------------------------
    def advance(self, now_ns: int) -> None:
        """Expire markers by lifetime, place those whose TF has arrived, give up on
        those that waited longer than the timeout."""
        self._now_ns = now_ns
        for mid in self.registry.expire(now_ns):
            self._waiting.pop(mid, None)
            self._dirty[mid] = None
            self.problems.resolve(("marker",) + mid)
        self._place_waiting(force=True)

    def fixed_frame_changed(self) -> None:
        """As rviz: a new fixed frame clears the markers."""
        for mid in self.registry.clear():
            self.problems.resolve(("marker",) + mid)
        self._waiting.clear()
        self._dirty.clear()
        self._lists.clear()
        self._listed.clear()
        self._lists_dirty.clear()
        self._applied.clear()

    def settle(self, force: bool) -> None:
        self._place_waiting(force)

    # -- placing frame_locked=false markers -----------------------------------------------------
    def _try_place(self, rec: MarkerRecord) -> None:
        """Place a frame_locked=false marker at the TF of its stamp, if known."""
        spec = rec.spec
        tf = self._lookup_fixed(rec.frame, spec.stamp_ns)
        if isinstance(tf, TfExtrapolationError):
            if tf.direction == "past" and spec.stamp_ns:
                self._give_up(rec, str(tf))   # older than the history: it will never resolve
            return
        if isinstance(tf, TfError):
            return   # unknown or unconnected frame: may appear later
        rec.placed = tf @ spec.pose
        rec.waiting = False
        rec.stand_in = None

    def _lookup_fixed(self, frame: str, stamp: int) -> Transform | TfError:
        """fixed <- frame at ``stamp`` (0: latest), memoised until TF changes."""
        version = self.frames.version
        if self._lookup_version != version or len(self._lookups) > _MAX_LOOKUPS:
            self._lookups.clear()
            self._lookup_version = version
        key = (frame, stamp)
        hit = self._lookups.get(key)
        if hit is None:
            try:
                hit = self.frames.tf.lookup(self.frames.fixed, frame, stamp or None)
            except TfError as e:
                hit = e
            self._lookups[key] = hit
        return hit

    def _give_up(self, rec: MarkerRecord, why: str) -> None:
        rec.waiting = False
        if rec.stand_in is not None:
            rec.stand_in = None
            self._dirty[rec.id] = None
        spec = rec.spec
        text = (f"{marker_label(spec.ns, spec.id)}: no transform from '{rec.frame}' to fixed "
                f"frame '{self.frames.fixed}' at its stamp {format_time(spec.stamp_ns)}: {why}")
        self.problems.report(("marker", spec.ns, spec.id), "tf", text)

    def _place_waiting(self, force: bool = False) -> None:
        if not self._waiting:
            return
        if not force and self._waiting_checked_at == self.frames.version:
            return
        self._waiting_checked_at = self.frames.version
        for mid in list(self._waiting):
            rec = self.registry.get(mid)
            if rec is None or not rec.waiting:
                del self._waiting[mid]
                continue
            self._try_place(rec)
            if rec.waiting and self._now_ns - rec.received_ns > self.tf_timeout_ns:
                try:
                    self.frames.tf.lookup(self.frames.fixed, rec.frame, rec.spec.stamp_ns or None)
                    why = "timed out"
                except TfError as e:
                    why = str(e)
                self._give_up(rec, f"{why} (waited {self.tf_timeout_ns / 1e9:g} s)")
            if not rec.waiting:
                del self._waiting[mid]
                if rec.placed is not None:
                    self._dirty[mid] = None
                    rec.stand_in = None

    # -- MarkerLists -----------------------------------------------------------------------------
    def _sync_lists(self) -> None:
        """Bring the lists' members to the registry for the markers changed since the
        last sync: a marker whose shown version is listed joins (or stays in) the list
        of its (frame group, ns, type), one that is not leaves its list. The changed
        markers left in ``_dirty`` are those the per-marker elements must act on."""
        if not self.lists or not self._dirty:
            return
        listed, lists = self._listed, self._lists
        for mid in list(self._dirty):
            rec = self.registry.get(mid)
            view = rec.view if rec is not None else None
            want: ListId | None = None
            if view is not None and view.spec.listed:
                want = (view.attach, view.spec.ns, view.spec.type)
            had = listed.get(mid)
            if had is not None and had != want:
                lst = lists[had]
                del lst.members[mid]
                lst.rebuild = True
                self._lists_dirty[had] = None
                del listed[mid]
            if want is None:
                continue
            lst = lists.get(want)
            if lst is None:
                lst = lists[want] = _List(marker_list_key(*want))
            geom = view.spec.geom  # type: ignore[union-attr]
            if lst.members.get(mid) != geom:
                lst.rebuild = True
            else:
                lst.moved = True
            lst.members[mid] = geom
            listed[mid] = want
            self._lists_dirty[want] = None
            if mid not in self._shown:
                del self._dirty[mid]   # no element of its own to remove

    def _list_element(self, lst: _List) -> Element:
        views = self._list_views(lst)
        _, ns, mtype = self._listed[views[0].id]
        return list_element(lst.key, ns, mtype, views)

    def _list_views(self, lst: _List) -> list[MarkerRecord]:
        out = []
        for mid in lst.members:
            rec = self.registry.get(mid)
            view = rec.view if rec is not None else None
            assert view is not None
            out.append(view)
        return out

    def _emit_lists(self, removes: list[str], moves: list[dict[str, Any]],
                    upserts: dict[str, list[Element]]) -> None:
        frames_shown = self.frames.shown
        for lid in self._lists_dirty:
            lst = self._lists.get(lid)
            if lst is None:
                continue
            if not lst.members:
                if lst.shown:
                    removes.append(lst.key)
                del self._lists[lid]
                continue
            frame = lid[0]
            if frame not in frames_shown:
                rec = self.registry.get(next(iter(lst.members)))
                assert rec is not None
                self._check_missing_frame(rec)
                continue   # built with its frame group (elements_in)
            if lst.rebuild or not lst.shown:
                upserts.setdefault(frame, []).append(self._list_element(lst))
            elif lst.moved:
                moves.append({"key": lst.key, "poses": poses_bytes(self._list_views(lst))})
            lst.shown = True
            lst.rebuild = lst.moved = False
        self._lists_dirty.clear()

    # -- in the frame groups ---------------------------------------------------------------------
    def load(self, restructure: bool) -> int:
        return len(self._dirty) + (len(self.registry) if restructure else 0)

    def elements_in(self, frame: str) -> list[Element]:
        self._sync_lists()
        out: list[Element] = []
        listed = self._listed
        for rec in self.registry.attached_to(frame):
            view = rec.view
            if view is not None and rec.id not in listed:
                out.append(_element(view))
                self._shown[rec.id] = frame
                self._shown_geom[rec.id] = (view.spec.children, view.spec.visible)
                self._dirty.pop(rec.id, None)
        for (attach, _, _), lst in self._lists.items():
            if attach == frame and lst.members:
                out.append(self._list_element(lst))
                lst.shown = True
                lst.rebuild = lst.moved = False
        return out

    def leaving(self, frames: Sequence[str]) -> list[str]:
        """A marker moving into a new frame group leaves its old place first (a list
        is only ever shown in its own frame's group, which is not shown yet)."""
        keys: list[str] = []
        for f in frames:
            for rec in self.registry.attached_to(f):
                if self._shown.pop(rec.id, None) is not None:
                    self._shown_geom.pop(rec.id, None)
                    keys.append(rec.spec.key)
        return keys

    def dropped(self, frames: AbstractSet[str]) -> None:
        for mid, at in list(self._shown.items()):
            if at in frames:
                del self._shown[mid]
                self._shown_geom.pop(mid, None)
        for (attach, _, _), lst in self._lists.items():
            if attach in frames:
                lst.shown = False

    def frames_changed(self, whole_scene: bool) -> None:
        for frame in [f for f in self._missing_frames if f in self.frames.tf]:
            self._missing_frames.discard(frame)
            self.problems.resolve(("frame", frame))
        if whole_scene:
            shown = self.frames.shown
            for rec in self.registry:
                if rec.attach not in shown:
                    self._check_missing_frame(rec)

    def forget_shown(self) -> None:
        self._sync_lists()
        self._shown = {}
        self._shown_geom = {}
        self._dirty.clear()
        for lst in self._lists.values():
            lst.shown = False
        self._lists_dirty = dict.fromkeys(self._lists)   # empty ones go, the rest are built

    def emit(self, events: list[ServerEvent]) -> None:
        """REMOVE the markers gone or moved to another frame group, one UPDATE of the
        groups that only moved, an UPSERT per frame group of the ones (re)built; the
        same for the MarkerLists (a list whose markers only moved: its poses)."""
        self._sync_lists()
        if not self._dirty and not self._lists_dirty:
            return
        removes: list[str] = []
        moves: list[dict[str, Any]] = []
        upserts: dict[str, list[Element]] = {}
        frames_shown = self.frames.shown
        shown = self._shown
        shown_geom = self._shown_geom
        listed = self._listed
        for mid in self._dirty:
            rec = self.registry.get(mid)
            view = rec.view if rec is not None else None
            was = shown.get(mid)
            want = view.attach if view is not None and mid not in listed else None
            if want is not None and want not in frames_shown:
                assert rec is not None
                self._check_missing_frame(rec)
                want = None
            if was is not None and was != want:
                removes.append(marker_key(*mid))
                del shown[mid]
                shown_geom.pop(mid, None)
                was = None
            if want is not None and view is not None:
                spec = view.spec
                geom = shown_geom.get(mid) if was is not None else None
                if geom is not None and geom[0] is spec.children and geom[1] == spec.visible:
                    # only the pose changed: move the group, keep its geometry
                    pose = view.placed
                    assert pose is not None
                    t, q = pose.translation, pose.rotation
                    moves.append({"key": spec.key,
                                  "position": [float(t[0]), float(t[1]), float(t[2])],
                                  "quaternion": [float(q[0]), float(q[1]), float(q[2]),
                                                 float(q[3])]})
                else:
                    upserts.setdefault(want, []).append(_element(view))
                    shown_geom[mid] = (spec.children, spec.visible)
                shown[mid] = want
            else:
                shown_geom.pop(mid, None)
        self._dirty.clear()
        self._emit_lists(removes, moves, upserts)
        if removes:
            events.append(Remove(*removes))
        if moves:   # already in wire form (str, lists of floats, bytes): skip Update's conversion
            events.append(ServerEvent("UPDATE", {"nodes": moves, "strict": False}))
        for frame, nodes in upserts.items():
            events.append(Upsert(*nodes, to=frame_key(frame), strict=True))

    # -- reports ------------------------------------------------------------------------------
    def _check_missing_frame(self, rec: MarkerRecord) -> None:
        """A frame_locked marker whose frame TF has never named: report once per frame."""
        frame = rec.attach
        if frame in self.frames.shown or frame in self.frames.tf or frame in self._missing_frames:
            return
        self._missing_frames.add(frame)
        self.problems.report(
            ("frame", frame), "unknown",
            f"{marker_label(rec.spec.ns, rec.spec.id)}: frame '{frame}' does not exist in TF; "
            "markers in it are hidden until it is published")


def _element(rec: MarkerRecord) -> Element:
    """The marker's group: its pose, its geometry children."""
    pose = rec.placed
    assert pose is not None
    spec = rec.spec
    return Group(*spec.children, key=spec.key, position=pose.position_list,
                 quaternion=pose.quaternion_list, visible=spec.visible)


def _same_view(a: MarkerRecord | None, b: MarkerRecord | None) -> bool:
    """Whether two marker versions look the same in the scene."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    if a.attach != b.attach or a.placed != b.placed or a.spec.visible != b.spec.visible \
            or a.spec.listed != b.spec.listed:
        return False
    if a.spec.listed:
        return bool(a.spec.geom == b.spec.geom)
    return a.spec.children is b.spec.children or same_elements(a.spec.children, b.spec.children)
