"""Maps drawn by the real client in real Chromium, checked by pixels (SceneModel with
Map displays -> the real server -> MapTile elements -> grabs from a camera looking
straight down): rviz's palettes (map, costmap, raw, binary) cell by cell, alpha
blending, Draw Behind, tiles meeting without a seam with each cell where the pinhole
model puts it, and updates changing exactly the cells they name."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from vuer_ros.cdr.messages import Header, Pose, Quaternion, Time, Vector3
from vuer_ros.cdr.occupancy import MapMetaData, OccupancyGrid, OccupancyGridUpdate
from vuer_ros.protocol.elements import Box
from vuer_ros.protocol.events import Set, Upsert
from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.scene import SceneModel
from vuer_ros.scene.keys import frame_key
from vuer_ros.scene.map_display import MapDisplay
from vuer_ros.scene.map_palettes import palette
from vuer_ros.server import VuerServer

W, H = 640, 480
BACKGROUND = 0x30   # the scene's #303030
# looking straight down: image right = +X, image down = -Y (optical frame = 180 deg about X)
CAMERA = RenderCamera(W, H, 50.0, 0.05, 50.0, np.array([1.7, -0.6, 4.0]), np.array([1.0, 0, 0, 0]))
RES = 0.25
# 4 x 3 cells each: every kind of value the palettes treat apart
VALUES = np.array([[0, 1, 37, 50],
                   [98, 99, 100, 101],
                   [127, -128, -2, -1]], np.int8)
# topic -> (origin x, y), options
MAPS: dict[str, tuple[tuple[float, float], dict[str, Any]]] = {
    "/map": ((0.0, 0.0), {"color_scheme": "map", "alpha": 1.0}),
    "/costmap": ((1.2, 0.0), {"color_scheme": "costmap", "alpha": 1.0}),
    "/raw": ((2.4, 0.0), {"color_scheme": "raw", "alpha": 1.0}),
    "/map_alpha": ((0.0, -1.2), {"color_scheme": "map", "alpha": 0.7}),
    "/costmap_alpha": ((1.2, -1.2), {"color_scheme": "costmap", "alpha": 0.7}),
    "/binary": ((2.4, -1.2), {"color_scheme": "map", "alpha": 1.0,
                              "binary_representation": True, "binary_threshold": 50}),
}
BEHIND_ORIGIN = (0.0, 0.8)        # 2 x 2 cells of 0.2 m over a box; drawn behind: the box shows
SEAM_RES = 0.02
SEAM_ORIGIN = (3.0 - 512 * SEAM_RES, -2.2)    # 2 tiles across: 513 x 20 cells, the seam at x = 3


def grid(values: np.ndarray, origin: tuple[float, float], resolution: float = RES,
         frame: str = "map") -> OccupancyGrid:
    h, w = values.shape
    info = MapMetaData(Time(0, 0), resolution, w, h,
                       Pose(Vector3(origin[0], origin[1], 0.0), Quaternion(0.0, 0.0, 0.0, 1.0)))
    return OccupancyGrid(Header(Time(0, 0), frame), info, values.astype(np.int8).reshape(-1))


def cell_centre(origin: tuple[float, float], i: float, j: float, res: float = RES) -> np.ndarray:
    return np.array([[origin[0] + (i + 0.5) * res, origin[1] + (j + 0.5) * res, 0.0]])


def pixel(rgb: np.ndarray, point: np.ndarray) -> np.ndarray:
    u, v = np.round(CAMERA.project(point)[0]).astype(int)
    return rgb[v, u].astype(int)


def srgb_blend(colour: np.ndarray, alpha: float, under: float) -> np.ndarray:
    """What the grab shows: three blends in linear light (sRGB render target)."""
    def lin(c: np.ndarray) -> np.ndarray:
        c = c / 255.0
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    mixed = alpha * lin(colour) + (1 - alpha) * lin(np.float64(under))
    enc = np.where(mixed <= 0.0031308, mixed * 12.92, 1.055 * mixed ** (1 / 2.4) - 0.055)
    return np.round(enc * 255.0)


@pytest.fixture(scope="module")
def grabs() -> dict[str, np.ndarray]:
    async def main() -> dict[str, np.ndarray]:
        async with VuerServer(port=0) as server:
            assert server.static.bundle_ready, "client bundle not built: run scripts/setup.sh"
            model = SceneModel("map", grid=False)
            displays = {}
            for topic, (origin, options) in MAPS.items():
                d = model.add_display(MapDisplay(model.frames, model.problems, topic, options))
                d.on_map(grid(VALUES, origin))
                displays[topic] = d
            for topic, behind in (("/front", False), ("/behind", True)):
                d = model.add_display(MapDisplay(model.frames, model.problems, topic,
                                                 {"alpha": 1.0, "draw_behind": behind}))
                x = BEHIND_ORIGIN[0] + (0.0 if not behind else 0.6)
                d.on_map(grid(np.zeros((2, 2), np.int8), (x, BEHIND_ORIGIN[1]), 0.2))
            seam = np.full((20, 513), 100, np.int8)
            seam[:, 511] = 0       # the last column of the first tile white
            seam[:, 512] = -1      # the only column of the second tile unknown grey
            model.add_display(MapDisplay(model.frames, model.problems, "/seam",
                                         {"alpha": 1.0})).on_map(grid(seam, SEAM_ORIGIN, SEAM_RES))
            server.broadcast(Set(model.initial_scene()))
            # boxes under the /front and /behind maps (below z = 0, so only Draw Behind shows them)
            for x in (BEHIND_ORIGIN[0], BEHIND_ORIGIN[0] + 0.6):
                server.broadcast(Upsert(Box(key=f"under-{x}", args=[0.2, 0.2, 0.1],
                                            position=[x + 0.2, BEHIND_ORIGIN[1] + 0.2, -0.2],
                                            materialType="basic", material={"color": "#ff0000"}),
                                        to=frame_key("map")))
            async with HeadlessBrowser(server, W, H) as browser:
                sess = browser.session

                async def grab() -> np.ndarray:
                    for event in model.drain_events():
                        server.broadcast(event)
                    return (await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)).rgb
                out = {"first": await grab()}
                # an update of 2 x 1 cells at column 1, row 1 of /map: 99 -> 0, 100 -> -1
                displays["/map"].on_update(OccupancyGridUpdate(
                    Header(Time(0, 0), "map"), 1, 1, 2, 1, np.array([0, -1], np.int8)))
                out["updated"] = await grab()
                return out
    return asyncio.run(asyncio.wait_for(main(), 120))


@pytest.mark.parametrize("topic", ["/map", "/costmap", "/raw", "/binary"])
def test_opaque_cells_show_the_palette_colour(grabs, topic):
    origin, options = MAPS[topic]
    colours = palette(options["color_scheme"], options.get("binary_representation", False),
                      options.get("binary_threshold", 100))
    for j, i in np.ndindex(VALUES.shape):
        byte = int(VALUES[j, i]) & 0xFF
        want = colours[byte, :3].astype(int)
        got = pixel(grabs["first"], cell_centre(origin, i, j))
        # alpha 1 is drawn as rviz's SBT_REPLACE: the palette's rgb even where its alpha is 0
        assert np.abs(got - want).max() <= 1, (topic, VALUES[j, i], got, want)


def test_known_rviz_colours(grabs):
    """A few values rviz users know: free white, occupied black, unknown #708986,
    costmap lethal magenta and inscribed cyan."""
    rgb = grabs["first"]
    for topic, value, want in (("/map", 0, (255, 255, 255)), ("/map", 100, (0, 0, 0)),
                               ("/map", 50, (128, 128, 128)), ("/map", -1, (0x70, 0x89, 0x86)),
                               ("/costmap", 100, (255, 0, 255)), ("/costmap", 99, (0, 255, 255)),
                               ("/raw", -1, (255, 255, 255))):
        j, i = np.argwhere(VALUES == value)[0]
        got = pixel(rgb, cell_centre(MAPS[topic][0], i, j))
        assert np.abs(got - np.array(want)).max() <= 1, (topic, value, got)


@pytest.mark.parametrize("topic", ["/map_alpha", "/costmap_alpha"])
def test_translucent_cells_blend_with_what_is_behind(grabs, topic):
    origin, options = MAPS[topic]
    colours = palette(options["color_scheme"])
    for j, i in np.ndindex(VALUES.shape):
        rgba = colours[int(VALUES[j, i]) & 0xFF].astype(float)
        want = srgb_blend(rgba[:3], options["alpha"] * rgba[3] / 255.0, BACKGROUND)
        got = pixel(grabs["first"], cell_centre(origin, i, j))
        assert np.abs(got - want).max() <= 2, (topic, VALUES[j, i], got, want)
    # costmap 0 is transparent: the background
    if topic == "/costmap_alpha":
        assert (pixel(grabs["first"], cell_centre(origin, 0, 0)) == BACKGROUND).all()


def test_draw_behind_shows_what_is_under_the_map(grabs):
    rgb = grabs["first"]
    x, y = BEHIND_ORIGIN
    front = pixel(rgb, np.array([[x + 0.2, y + 0.2, 0.0]]))
    behind = pixel(rgb, np.array([[x + 0.8, y + 0.2, 0.0]]))
    assert (front == 255).all(), front            # the white map hides the box below it
    assert tuple(behind) == (255, 0, 0), behind   # drawn behind: the box shows through


def test_tiles_meet_without_a_seam_and_cells_land_where_the_camera_puts_them(grabs):
    rgb = grabs["first"].astype(int)
    # the white column (511) and the grey one (512, in the second tile): their pixels are
    # where the pinhole model puts their edges
    row_y = SEAM_ORIGIN[1] + 10 * SEAM_RES
    xs = SEAM_ORIGIN[0] + np.array([511, 512, 513]) * SEAM_RES
    u = CAMERA.project(np.stack([xs, np.full(3, row_y), np.zeros(3)], axis=1))[:, 0]
    v = int(round(CAMERA.project(np.array([[xs[0], row_y, 0.0]]))[0, 1]))
    line = rgb[v]
    white = np.nonzero((line == 255).all(axis=1))[0]
    grey = np.nonzero((np.abs(line - [0x70, 0x89, 0x86]) <= 1).all(axis=1))[0]
    assert len(white) and len(grey)
    # pixel centres covered: from the first pixel centre right of the left edge
    assert abs(white.min() - np.ceil(u[0])) <= 1 and abs(white.max() - np.floor(u[1])) <= 1
    assert abs(grey.min() - np.ceil(u[1])) <= 1 and abs(grey.max() - np.floor(u[2])) <= 1
    # nothing of the background between them: the tiles share their edge
    assert grey.min() == white.max() + 1


def test_an_update_changes_exactly_the_cells_it_names(grabs):
    first, updated = grabs["first"].astype(int), grabs["updated"].astype(int)
    origin = MAPS["/map"][0]
    colours = palette("map")
    for j, i in np.ndindex(VALUES.shape):
        p = cell_centre(origin, i, j)
        if (i, j) == (1, 1):
            assert np.abs(pixel(updated, p) - colours[0, :3]).max() <= 1
        elif (i, j) == (2, 1):
            assert np.abs(pixel(updated, p) - colours[255, :3]).max() <= 1
        else:
            assert (pixel(updated, p) == pixel(first, p)).all(), (i, j)
    # and nothing else in the image moved
    changed = np.abs(updated - first).max(axis=2) > 2
    corners = CAMERA.project(np.array([[origin[0] + RES, origin[1] + RES, 0],
                                       [origin[0] + 3 * RES, origin[1] + 2 * RES, 0]]))
    v, u = np.nonzero(changed)
    assert len(u) > 0
    assert u.min() >= corners[:, 0].min() - 1 and u.max() <= corners[:, 0].max() + 1
    assert v.min() >= corners[:, 1].min() - 1 and v.max() <= corners[:, 1].max() + 1
