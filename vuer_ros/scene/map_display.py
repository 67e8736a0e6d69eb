"""MapDisplay: nav_msgs/OccupancyGrid and its map_msgs/OccupancyGridUpdate as rviz's Map
display draws them (rviz_default_plugins map_display.cpp, swatch.cpp)::

    Group tf:<header.frame_id>           (frame_layout.py; empty frame_id: "map")
      Group map:<topic>                  pose = info.origin
        MapTile map:<topic>#tile<i>_<j>  512 x 512 cells each, cell (0, 0)'s corner at the
        ...                              origin, cell (i, j) over [i, i+1] x [j, j+1]
                                         resolutions in the origin's XY plane (z = 0)

- The map follows its frame's latest transform, as rviz transforms it at the current
  time each frame. ``use_timestamp``: rviz's "Use Timestamp": the map is placed in the
  fixed frame by the transform at its header stamp (the latest one when that is not
  known), again whenever TF changes.
- Cells travel as their bytes and are coloured through a 256-entry palette in the
  browser (map_palettes.py), one textured quad per tile. A new map of the same size
  and resolution re-sends only the tiles whose cells changed (nothing when none did);
  an update (``update_topic``, default ``<topic>_updates``) only the tiles it touches,
  as a pose-free UPDATE of their ``cells``. Updates before the first map are ignored
  (as rviz does).
- Bad input is reported once per cause with the topic and the field, and skipped:
  a resolution that is not a positive number, a non-finite origin, an empty map,
  ``data`` that is not ``width * height`` cells, a map over the size limits
  (``MAX_MAP_SIDE``, ``MAX_MAP_CELLS``: checked before anything is allocated), an
  update outside the map or of the wrong size.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Mapping, Sequence
from weakref import WeakKeyDictionary

import numpy as np

from ..protocol.elements import Element, Group, MapTile
from ..protocol.events import Remove, ServerEvent, Update, Upsert
from .display import Display
from .errors import TfError
from .frame_id import frame_id
from .frame_layout import FrameLayout
from .keys import frame_key, map_key, owner_prefix, part_key
from .map_palettes import palette
from .msg_fields import stamp_ns
from .problems import ProblemLog
from .transform import Transform, quat_norm

if TYPE_CHECKING:
    from .scene_model import SceneModel

TILE = 512                     # cells along a tile's side: one texture, one draw call each
MAX_MAP_SIDE = 65_536          # rviz's limit per texture side (2^16)
MAX_MAP_CELLS = 1 << 26        # 67,108,864 cells (8192 x 8192): 64 MB here, in the server
                               # and in the browser's textures
DEFAULT_FRAME = "map"          # rviz draws a map with an empty frame_id in /map
_QUATERNION_TOLERANCE = 1e-3

Tile = tuple[int, int]         # (column, row) of tiles


@dataclass
class _Grid:
    """The map shown: its cells (rows of ``width``, row 0 at the origin) and placement."""

    width: int
    height: int
    resolution: float
    cells: np.ndarray          # (height, width) uint8: each int8 cell's byte
    frame: str
    origin: Transform
    stamp_ns: int

    @property
    def layout(self) -> tuple[int, int, float]:
        return (self.width, self.height, self.resolution)

    def tiles(self) -> list[Tile]:
        return [(i, j) for j in range(-(-self.height // TILE)) for i in range(-(-self.width // TILE))]

    def tile_cells(self, tile: Tile) -> np.ndarray:
        i, j = tile
        return self.cells[j * TILE:(j + 1) * TILE, i * TILE:(i + 1) * TILE]


class _Bad(ValueError):
    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind


def _cells(data: Any) -> np.ndarray:
    """A message's int8[] ``data`` as a flat uint8 array (a view where the type allows:
    the fast decoder's and rosbags' numpy arrays, rclpy's array.array)."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8) if data.dtype.itemsize == 1 else \
            data.astype(np.int8).view(np.uint8)
    try:
        return np.frombuffer(data, np.uint8)
    except TypeError:   # a plain list of ints
        return np.asarray(data, np.int64).astype(np.int8).view(np.uint8)


def update_topic_of(topic: str, options: Mapping[str, Any]) -> str:
    """The topic a map display takes updates from (rviz: ``<topic>_updates``)."""
    return str(options.get("update_topic") or "") or topic + "_updates"


class MapDisplay(Display):
    def __init__(self, frames: FrameLayout, problems: ProblemLog, topic: str,
                 options: Mapping[str, Any]) -> None:
        super().__init__(frames, problems)
        self.topic = topic
        self.update_topic = update_topic_of(topic, options)
        self.key = map_key(topic)
        self.alpha = float(options.get("alpha", 0.7))
        self.draw_behind = bool(options.get("draw_behind", False))
        self.use_timestamp = bool(options.get("use_timestamp", False))
        self.palette = palette(str(options.get("color_scheme", "map")),
                               bool(options.get("binary_representation", False)),
                               int(options.get("binary_threshold", 100))).tobytes()
        self.map: _Grid | None = None
        self._attach: str | None = None      # the frame group the map belongs in
        self._pose = Transform()             # its group's pose there
        self._placed_version = -1            # frames.version the placement was computed at
        # what the browser has (after the last drain or SET)
        self._shown_in: str | None = None
        self._shown_layout: tuple[int, int, float] | None = None
        self._shown_pose: Transform | None = None
        self._dirty: set[Tile] = set()       # tiles whose cells changed since
        self._missing_frame: str | None = None

    def key_prefixes(self) -> list[str]:
        return [owner_prefix("map", self.topic)]

    # -- input ------------------------------------------------------------------------------
    def on_map(self, msg: Any, receive_ns: int = 0) -> None:
        """A nav_msgs/OccupancyGrid: replaces the map (only changed tiles are re-sent)."""
        subject = ("map", self.topic)
        try:
            grid, warning = self._read(msg)
        except _Bad as e:
            self.problems.report(subject, e.kind, f"{self.topic}: {e}; skipped", logging.ERROR)
            return
        except Exception as e:   # a malformed message must not stop the others
            self.problems.report(subject, "unreadable", f"{self.topic}: cannot read this map "
                                 f"({type(e).__name__}: {e}); skipped", logging.ERROR)
            return
        if warning:
            self.problems.report(subject, "quaternion", f"{self.topic}: {warning}")
        self.problems.resolve(subject, keep=["quaternion"] if warning else [])
        old = self.map
        if old is not None and old.layout == grid.layout:
            if not np.array_equal(old.cells, grid.cells):
                for tile in old.tiles():
                    new = grid.tile_cells(tile)
                    if not np.array_equal(old.tile_cells(tile), new):
                        old.tile_cells(tile)[...] = new
                        self._dirty.add(tile)
            old.frame, old.origin, old.stamp_ns = grid.frame, grid.origin, grid.stamp_ns
        else:
            grid.cells = grid.cells.copy()   # updates write into it
            self.map = grid
            self._dirty.clear()
        self._place()

    def _read(self, msg: Any) -> tuple[_Grid, str]:
        info = msg.info
        width, height = int(info.width), int(info.height)
        if width > MAX_MAP_SIDE or height > MAX_MAP_SIDE or width * height > MAX_MAP_CELLS:
            raise _Bad("limit", f"info.width x info.height = {width} x {height} is over the "
                       f"limit of {MAX_MAP_SIDE} cells a side and {MAX_MAP_CELLS:,} cells a map")
        resolution = float(info.resolution)
        o = info.origin
        p, q = o.position, o.orientation
        origin = (float(p.x), float(p.y), float(p.z))
        quat = (float(q.x), float(q.y), float(q.z), float(q.w))
        if not math.isfinite(resolution):
            raise _Bad("resolution", f"info.resolution is {resolution}")
        if not all(math.isfinite(v) for v in origin + quat):
            raise _Bad("origin", f"info.origin has a non-finite value {origin + quat}")
        if resolution <= 0.0:
            raise _Bad("resolution", f"info.resolution is {resolution:g}, not a positive number")
        if width * height == 0:
            raise _Bad("empty", f"the map is zero-sized (info.width x info.height = "
                       f"{width} x {height})")
        cells = _cells(msg.data)
        if cells.size != width * height:
            raise _Bad("size", f"data has {cells.size} cells, not info.width x info.height = "
                       f"{width} x {height} = {width * height}")
        warning = ""
        n = quat_norm(quat)
        if n == 0.0:
            quat, warning = (0.0, 0.0, 0.0, 1.0), "info.origin.orientation is all zeros; using the identity"
        elif abs(n - 1.0) > _QUATERNION_TOLERANCE:
            warning = f"info.origin.orientation has length {n:.6g}, not 1; normalised"
        if n and n != 1.0:
            quat = (quat[0] / n, quat[1] / n, quat[2] / n, quat[3] / n)
        header = msg.header
        return _Grid(width, height, resolution, cells.reshape(height, width),
                     frame_id(str(header.frame_id)) or DEFAULT_FRAME, Transform(origin, quat),
                     stamp_ns(header.stamp)), warning

    def on_update(self, msg: Any, receive_ns: int = 0) -> None:
        """A map_msgs/OccupancyGridUpdate: writes its rectangle of cells into the map."""
        m = self.map
        if m is None:
            return   # rviz too: only a map loaded first is updated
        subject = ("map-update", self.update_topic)
        try:
            x, y, w, h = int(msg.x), int(msg.y), int(msg.width), int(msg.height)
            if x < 0 or y < 0 or x + w > m.width or y + h > m.height:
                raise _Bad("bounds", f"x, y, width, height = {x}, {y}, {w}, {h} is outside the "
                           f"{m.width} x {m.height} map of {self.topic}")
            cells = _cells(msg.data)
            if cells.size != w * h:
                raise _Bad("size", f"data has {cells.size} cells, not width x height = "
                           f"{w} x {h} = {w * h}")
        except _Bad as e:
            self.problems.report(subject, e.kind, f"{self.update_topic}: {e}; skipped",
                                 logging.ERROR)
            return
        except Exception as e:
            self.problems.report(subject, "unreadable", f"{self.update_topic}: cannot read this "
                                 f"update ({type(e).__name__}: {e}); skipped", logging.ERROR)
            return
        self.problems.resolve(subject)
        if w * h == 0:
            return
        region = m.cells[y:y + h, x:x + w]
        new = cells.reshape(h, w)
        if np.array_equal(region, new):
            return
        region[...] = new
        for j in range(y // TILE, (y + h - 1) // TILE + 1):
            for i in range(x // TILE, (x + w - 1) // TILE + 1):
                self._dirty.add((i, j))

    # -- placement ------------------------------------------------------------------------
    def _place(self) -> None:
        """Where the map's group hangs and its pose there, from its frame and origin."""
        m = self.map
        self._placed_version = self.frames.version
        if m is None:
            self._attach = None
            return
        if not self.use_timestamp:
            self._attach, self._pose = m.frame, m.origin
            return
        fixed = self.frames.fixed
        tf = None
        for stamp in ((m.stamp_ns or None), None):   # at the stamp, else the latest (rviz)
            try:
                tf = self.frames.tf.lookup(fixed, m.frame, stamp)
                break
            except TfError:
                continue
        if tf is None:
            self._attach = None
            return
        self._attach, self._pose = fixed, tf @ m.origin

    def settle(self, force: bool) -> None:
        if self.use_timestamp and self.map is not None and (
                force or self._placed_version != self.frames.version):
            self._place()

    def fixed_frame_changed(self) -> None:
        self._place()

    # -- in the frame groups ---------------------------------------------------------------
    def load(self, restructure: bool) -> int:
        return len(self._dirty) + (1 if restructure else 0)

    def elements_in(self, frame: str) -> list[Element]:
        if self.map is None or frame != self._attach:
            return []
        self._shown_in = frame
        self._shown_layout = self.map.layout
        self._shown_pose = self._pose
        self._dirty.clear()
        return [self._group()]

    def leaving(self, frames: Sequence[str]) -> list[str]:
        """The map moves into a frame group being added: it leaves its old one first."""
        if self._shown_in is not None and self._attach in frames and self._attach != self._shown_in:
            self._shown_in = None
            return [self.key]
        return []

    def dropped(self, frames: AbstractSet[str]) -> None:
        if self._shown_in in frames:
            self._shown_in = None

    def frames_changed(self, whole_scene: bool) -> None:
        if self._missing_frame is not None and self._missing_frame in self.frames.tf:
            self.problems.resolve(("map-frame", self.topic))
            self._missing_frame = None

    def forget_shown(self) -> None:
        self._shown_in = None
        self._dirty.clear()

    def emit(self, events: list[ServerEvent]) -> None:
        m = self.map
        want = self._attach if m is not None and self._attach in self.frames.shown else None
        if m is not None and want is None:
            self._report_hidden()
        if self._shown_in is not None and (want != self._shown_in or m is None
                                           or m.layout != self._shown_layout):
            events.append(Remove(self.key))
            self._shown_in = None
        if want is None or m is None:
            self._dirty.clear()
            return
        if self._shown_in is None:
            events.append(Upsert(self._group(), to=frame_key(want), strict=True))
            self._shown_in, self._shown_layout, self._shown_pose = want, m.layout, self._pose
            self._dirty.clear()
            return
        if self._pose != self._shown_pose:
            events.append(Update({"key": self.key, "position": self._pose.position_list,
                                  "quaternion": self._pose.quaternion_list}))
            self._shown_pose = self._pose
        if self._dirty:
            events.append(Update(*({"key": self._tile_key(t), "cells": m.tile_cells(t).tobytes()}
                                   for t in sorted(self._dirty))))
            self._dirty.clear()

    # -- elements ------------------------------------------------------------------------------
    def _tile_key(self, tile: Tile) -> str:
        return part_key(self.key, f"tile{tile[0]}_{tile[1]}")

    def _group(self) -> Element:
        m = self.map
        assert m is not None
        tiles = []
        for tile in m.tiles():
            cells = m.tile_cells(tile)
            tiles.append(MapTile(
                key=self._tile_key(tile), x=tile[0] * TILE, y=tile[1] * TILE,
                width=cells.shape[1], height=cells.shape[0], resolution=m.resolution,
                cells=cells.tobytes(), palette=self.palette, alpha=self.alpha,
                drawBehind=self.draw_behind))
        return Group(*tiles, key=self.key, position=self._pose.position_list,
                     quaternion=self._pose.quaternion_list)

    def _report_hidden(self) -> None:
        m = self.map
        assert m is not None
        if self.use_timestamp and m.frame in self.frames.tf:
            return   # TF knows the frame but not at the stamp: the latest is tried each time
        if m.frame in self.frames.tf or self._missing_frame == m.frame:
            return   # known to TF but not connected: frame_layout.py reports the tree
        self._missing_frame = m.frame
        self.problems.report(("map-frame", self.topic), "unknown",
                             f"{self.topic}: frame '{m.frame}' does not exist in TF; the map is "
                             "hidden until it is published")


# -- how a topic reaches its display (vuer_ros/view/kinds.py) ----------------------------------
# The map displays of each scene model by update topic: an update finds its map here.
_BY_UPDATE_TOPIC: WeakKeyDictionary[SceneModel, dict[str, MapDisplay]] = WeakKeyDictionary()


def _absolute(topic: str) -> str:
    return topic if topic.startswith("/") else "/" + topic


def attach_map(model: SceneModel, topic: str,
               options: Mapping[str, Any]) -> Callable[[Any, int], None]:
    """A Map display for ``topic`` in ``model``; its messages' handler."""
    display = model.add_display(MapDisplay(model.frames, model.problems, topic, options))
    _BY_UPDATE_TOPIC.setdefault(model, {})[_absolute(display.update_topic)] = display
    return display.on_map


def attach_map_updates(model: SceneModel, topic: str,
                       options: Mapping[str, Any]) -> Callable[[Any, int], None]:
    """The handler of an update topic: its map display's ``on_update`` (none yet: ignored)."""
    maps = _BY_UPDATE_TOPIC.setdefault(model, {})
    key = _absolute(topic)

    def on_update(msg: Any, receive_ns: int) -> None:
        display = maps.get(key)
        if display is not None:
            display.on_update(msg, receive_ns)
    return on_update
