"""MapDisplay (vuer_ros/scene/map_display.py) at the scene level: what a map and its
updates send, checked by applying the events to a SceneTree (as the server keeps the
scene for late joiners): tiles of 512 x 512 cells under the map's frame at its origin;
a map re-sent unchanged sends nothing, a changed one only its changed tiles, an update
only the tiles it touches, and the tree's cells always equal the map's; frames,
Use Timestamp, and bad input reported once with the topic and the field, skipped."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scene_msgs import TS, Browser, S, header, tf, tf_msg

from vuer_ros.cdr import jazzy_store
from vuer_ros.cdr.messages import Header, Time
from vuer_ros.cdr.occupancy import OccupancyGridUpdate
from vuer_ros.displays import DISPLAY_TYPES
from vuer_ros.scene import SceneModel
from vuer_ros.scene.map_display import MAX_MAP_CELLS, TILE, MapDisplay
from vuer_ros.scene.map_palettes import palette

T = TS.types
DEFAULTS = DISPLAY_TYPES["Map"].defaults()


def grid(cells: np.ndarray, frame: str = "map", res: float = 0.05, origin=(0.0, 0.0, 0.0),
         q=(0.0, 0.0, 0.0, 1.0), stamp_ns: int = 0, width=None, height=None):
    h, w = cells.shape
    info = T["nav_msgs/msg/MapMetaData"](
        map_load_time=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), resolution=res,
        width=w if width is None else width, height=h if height is None else height,
        origin=T["geometry_msgs/msg/Pose"](
            position=T["geometry_msgs/msg/Point"](x=origin[0], y=origin[1], z=origin[2]),
            orientation=T["geometry_msgs/msg/Quaternion"](x=q[0], y=q[1], z=q[2], w=q[3])))
    return T["nav_msgs/msg/OccupancyGrid"](header=header(frame, stamp_ns), info=info,
                                           data=np.ascontiguousarray(cells, np.int8).reshape(-1))


def update(x: int, y: int, cells: np.ndarray) -> OccupancyGridUpdate:
    h, w = cells.shape
    return OccupancyGridUpdate(Header(Time(0, 0), "map"), x, y, w, h,
                               np.asarray(cells, np.int8).reshape(-1))


def setup(options=None, fixed="map"):
    model = SceneModel(fixed, grid=False)
    display = model.add_display(MapDisplay(model.frames, model.problems, "/map",
                                           {**DEFAULTS, **(options or {})}))
    return model, display, Browser(model)


def tree_cells(b: Browser, width: int, height: int) -> np.ndarray:
    """The map as the scene tree holds it, from its tiles' ``cells``."""
    out = np.zeros((height, width), np.uint8)
    for j in range(-(-height // TILE)):
        for i in range(-(-width // TILE)):
            node = b.node(f"map:/map#tile{i}_{j}")
            h, w = node["height"], node["width"]
            assert (node["x"], node["y"]) == (i * TILE, j * TILE)
            out[j * TILE:j * TILE + h, i * TILE:i * TILE + w] = np.frombuffer(
                node["cells"], np.uint8).reshape(h, w)
    return out


def cells_of(events) -> list[str]:
    return [n["key"] for e in events if e.etype == "UPDATE" for n in e.data["nodes"] if "cells" in n]


RNG = np.random.default_rng(7)
BIG = RNG.integers(-1, 101, (1100, 1300)).astype(np.int8)     # 3 x 3 tiles, ragged edges


def test_a_map_is_tiles_under_its_frame_at_its_origin():
    _, display, b = setup({"color_scheme": "costmap", "alpha": 0.5})
    display.on_map(grid(BIG, res=0.1, origin=(1.0, -2.0, 0.5), q=(0, 0, 0.6, 0.8)))
    b.sync()
    group = b.node("map:/map")
    assert b.parent("map:/map") == "tf:map"
    assert group["position"] == [1.0, -2.0, 0.5]
    assert group["quaternion"] == pytest.approx([0, 0, 0.6, 0.8])
    tiles = [c["key"] for c in group["children"]]
    assert len(tiles) == 9 and all(k.startswith("map:/map#tile") for k in tiles)
    last = b.node("map:/map#tile2_2")
    assert (last["width"], last["height"]) == (1300 - 1024, 1100 - 1024)
    assert last["resolution"] == pytest.approx(0.1) and last["alpha"] == 0.5
    assert last["palette"] == palette("costmap").tobytes() and last["drawBehind"] is False
    assert np.array_equal(tree_cells(b, 1300, 1100), BIG.view(np.uint8))


def test_a_map_re_sent_unchanged_sends_nothing_and_a_changed_one_only_its_tiles():
    _, display, b = setup()
    display.on_map(grid(BIG))
    b.sync()
    display.on_map(grid(BIG.copy()))
    assert b.sync() == []
    changed = BIG.copy()
    changed[600, 700] = 42            # tile (1, 1)
    changed[1099, 0] = -1             # tile (0, 2)
    display.on_map(grid(changed))
    events = b.sync()
    assert sorted(cells_of(events)) == ["map:/map#tile0_2", "map:/map#tile1_1"]
    assert [e.etype for e in events] == ["UPDATE"]
    assert np.array_equal(tree_cells(b, 1300, 1100), changed.view(np.uint8))


def test_an_update_writes_exactly_its_rectangle_and_re_sends_the_tiles_it_touches():
    _, display, b = setup()
    display.on_update(update(0, 0, np.ones((2, 2))))       # before any map: ignored (rviz)
    display.on_map(grid(BIG))
    b.sync()
    patch = RNG.integers(-1, 101, (30, 40)).astype(np.int8)
    display.on_update(update(500, 1000, patch))            # across tiles (0..1, 1..2)
    events = b.sync()
    assert sorted(cells_of(events)) == ["map:/map#tile0_1", "map:/map#tile0_2",
                                        "map:/map#tile1_1", "map:/map#tile1_2"]
    want = BIG.copy()
    want[1000:1030, 500:540] = patch
    assert np.array_equal(display.map.cells, want.view(np.uint8))
    assert np.array_equal(tree_cells(b, 1300, 1100), want.view(np.uint8))
    display.on_update(update(500, 1000, patch))            # the same again: nothing changes
    assert b.sync() == []
    display.on_update(update(1299, 1099, np.array([[7]])))  # the very last cell
    assert cells_of(b.sync()) == ["map:/map#tile2_2"]
    assert display.map.cells[1099, 1299] == 7


def test_a_new_size_rebuilds_and_a_new_origin_only_moves():
    _, display, b = setup()
    display.on_map(grid(BIG[:600, :600]))
    b.sync()
    display.on_map(grid(BIG[:600, :600], origin=(3.0, 0.0, 0.0)))
    (ev,) = b.sync()
    assert ev.etype == "UPDATE" and ev.data["nodes"] == [
        {"key": "map:/map", "position": [3.0, 0.0, 0.0], "quaternion": [0.0, 0.0, 0.0, 1.0]}]
    display.on_map(grid(BIG[:100, :100]))
    events = b.sync()
    assert [e.etype for e in events] == ["REMOVE", "UPSERT"]
    assert b.node("map:/map#tile1_1") is None
    assert np.array_equal(tree_cells(b, 100, 100), BIG[:100, :100].view(np.uint8))


def test_the_map_hangs_in_its_frame_and_waits_for_it():
    model, display, b = setup()
    log = []
    model.problems.logger = _ListLogger(log)
    display.on_map(grid(BIG[:10, :10], frame="/odom"))
    b.sync()
    assert b.node("map:/map") is None
    display.on_map(grid(BIG[:10, :10], frame="odom"))
    b.sync()
    assert sum("frame 'odom' does not exist in TF" in line for line in log) == 1
    assert all("/map" in line for line in log)
    model.on_tf(tf_msg(tf("map", "odom", (1, 2, 0))))
    b.sync()
    assert b.parent("map:/map") == "tf:odom"
    model.on_tf(tf_msg(tf("map", "odom", (5, 2, 0))))   # the frame moves: the map with it
    (ev,) = b.sync()
    assert ev.data["nodes"][0]["key"] == "tf:odom"


def test_an_empty_frame_id_is_map():
    model, display, b = setup(fixed="odom")
    model.on_tf(tf_msg(tf("odom", "map", (1, 0, 0))))
    display.on_map(grid(BIG[:4, :4], frame=""))
    b.sync()
    assert b.parent("map:/map") == "tf:map"


def test_use_timestamp_places_the_map_in_the_fixed_frame_at_its_stamp():
    model, display, b = setup({"use_timestamp": True})
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=1 * S)))
    model.on_tf(tf_msg(tf("map", "odom", (3, 0, 0), ns=3 * S)))
    display.on_map(grid(BIG[:4, :4], frame="odom", origin=(0, 1, 0), stamp_ns=2 * S))
    b.sync()
    assert b.parent("map:/map") == "tf:map"
    assert b.node("map:/map")["position"] == pytest.approx([2.0, 1.0, 0.0])
    model.on_tf(tf_msg(tf("map", "odom", (9, 0, 0), ns=4 * S)))   # later TF: no move
    assert all(n["key"] != "map:/map" for e in b.sync() for n in e.data.get("nodes", []))
    assert b.node("map:/map")["position"] == pytest.approx([2.0, 1.0, 0.0])


class _ListLogger(logging.Logger):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("test-map")
        self.lines = lines

    def log(self, level, msg, *args, **kw):  # type: ignore[override]
        self.lines.append(msg % args if args else msg)


@pytest.mark.parametrize("bad, key", [
    (grid(BIG[:4, :4], width=5), "data has 16 cells, not info.width x info.height = 5 x 4"),
    (grid(BIG[:4, :4], res=0.0), "info.resolution is 0"),
    (grid(BIG[:4, :4], res=-0.05), "info.resolution is -0.05"),
    (grid(BIG[:4, :4], res=float("nan")), "info.resolution is nan"),
    (grid(BIG[:4, :4], origin=(float("inf"), 0.0, 0.0)), "info.origin has a non-finite value"),
    (grid(BIG[:0, :4]), "zero-sized"),
    (grid(BIG[:4, :4], width=100_000, height=100_000), "info.width x info.height = 100000 x 100000"),
    (grid(BIG[:4, :4], width=MAX_MAP_CELLS // 1000 + 1, height=1000), "is over the limit"),
])
def test_bad_maps_are_reported_once_with_the_topic_and_field_and_skipped(bad, key):
    model, display, b = setup()
    log: list[str] = []
    model.problems.logger = _ListLogger(log)
    display.on_map(grid(BIG[:8, :8]))
    b.sync()
    for _ in range(3):
        display.on_map(bad)
    assert len(log) == 1 and log[0].startswith("/map: ") and key in log[0], log
    assert log[0].endswith("; skipped")
    assert b.sync() == []                         # the good map stays
    assert np.array_equal(tree_cells(b, 8, 8), BIG[:8, :8].view(np.uint8))
    display.on_map(grid(BIG[:8, :8] + 1))          # and the next good one is shown
    assert len(cells_of(b.sync())) == 1


@pytest.mark.parametrize("bad, key", [
    (update(-1, 0, np.ones((1, 1))), "x, y, width, height = -1, 0, 1, 1 is outside the 8 x 8 map"),
    (update(6, 6, np.ones((3, 1))), "x, y, width, height = 6, 6, 1, 3 is outside"),
    (OccupancyGridUpdate(Header(Time(0, 0), ""), 0, 0, 2, 2, np.ones(3, np.int8)),
     "data has 3 cells, not width x height = 2 x 2"),
])
def test_bad_updates_are_reported_once_and_skipped(bad, key):
    model, display, b = setup()
    log: list[str] = []
    model.problems.logger = _ListLogger(log)
    display.on_map(grid(BIG[:8, :8]))
    b.sync()
    for _ in range(3):
        display.on_update(bad)
    assert len(log) == 1 and log[0].startswith("/map_updates: ") and key in log[0], log
    assert b.sync() == []
    display.on_update(update(1, 1, np.full((2, 2), 5)))
    assert len(cells_of(b.sync())) == 1


def test_updates_reach_their_map_through_the_kinds_and_the_player():
    """CDR bytes of both topics through the ScenePlayer: the update topic finds the map
    display of its map topic (rviz's <topic>_updates, or the configured update_topic)."""
    from vuer_ros.render.settings import RenderSettings
    from vuer_ros.view.kinds import KINDS
    from vuer_ros.view.options import ViewOptions
    from vuer_ros.view.player import ScenePlayer

    store = jazzy_store()
    player = ScenePlayer(ViewOptions("map", RenderSettings()))
    player.add_topic("/costmap", KINDS["map"], options={**DEFAULTS, "update_topic": "/patches"})
    player.add_topic("/patches", KINDS["map_update"])
    player.add_topic("/costmap_updates", KINDS["map_update"])
    upd = T["map_msgs/msg/OccupancyGridUpdate"] if "map_msgs/msg/OccupancyGridUpdate" in T \
        else store.types["map_msgs/msg/OccupancyGridUpdate"]

    def update_bytes(x, y, cells):
        return bytes(store.serialize_cdr(upd(header=header("map"), x=x, y=y, width=cells.shape[1],
                                             height=cells.shape[0], data=cells.reshape(-1)),
                                         "map_msgs/msg/OccupancyGridUpdate"))
    player.feed("/patches", update_bytes(0, 0, np.full((1, 1), 9, np.int8)), 0)   # no map yet
    player.feed("/costmap", bytes(store.serialize_cdr(grid(BIG[:8, :8]), "nav_msgs/msg/OccupancyGrid")), 0)
    player.feed("/patches", update_bytes(2, 3, np.full((1, 2), 77, np.int8)), 0)
    player.feed("/costmap_updates", update_bytes(0, 0, np.full((1, 1), 66, np.int8)), 0)
    tree = Browser(player.model)
    tree.sync()
    want = BIG[:8, :8].copy()
    want[3, 2:4] = 77
    assert np.array_equal(np.frombuffer(tree.node("map:/costmap#tile0_0")["cells"], np.uint8)
                          .reshape(8, 8), want.view(np.uint8))
