"""The Cloud element (web/src/elements/cloud.js) draws each rviz style where the pinhole
model puts it: real server, real client, real Chromium. Screen-facing squares of s
metres at depth z are s * f / z pixels wide; Points are discs of their pixel size;
Boxes cover the hull of their projected corners; rviz's shading (the Squares rim,
the Spheres fall-off, the Boxes face lightness) is checked on the bytes; opaque
clouds write depth and translucent ones do not; a cloud updated with fewer or more
points (buffers reused or grown) shows exactly the new points."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from pixels import box_corners, colour_mask, measured_silhouette, predicted_silhouette

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.schemas import Cloud, DefaultScene
from vuer_ros.server import VuerServer

W, H = 640, 480
# looking along +Y at the plane y = 0 from 4 m: every point there is at depth 4
CAMERA = RenderCamera.look_at([0.0, -4.0, 1.0], [0.0, 0.0, 1.0], width=W, height=H, fov_y=55.0,
                              near=0.05, far=100.0)
DEPTH = 4.0
ODD = RenderCamera(333, 217, CAMERA.fov_y, CAMERA.near, CAMERA.far, CAMERA.position, CAMERA.orientation)
RED, GREEN, ORANGE = (255, 0, 0), (0, 255, 0), (200, 100, 50)


def cloud(key: str, points, colours=None, **props) -> Cloud:
    xyz = np.asarray(points, np.float32).reshape(-1, 3)
    if colours is not None:
        props["colors"] = np.asarray(colours, np.uint8).reshape(len(xyz), -1)
    return Cloud(key=key, vertices=xyz, **props)


def linear(byte: float) -> float:
    c = byte / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def srgb(value: float) -> float:
    c = value * 12.92 if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055
    return 255.0 * c


def side_px(metres: float, depth: float = DEPTH) -> float:
    return metres * CAMERA.focal_length / depth


@pytest.fixture(scope="module")
def grabs():
    scenes = {
        "flat": [cloud("flat", [(-1.0, 0, 1.5), (1.0, 0, 0.5)], [RED, GREEN], style="Flat Squares",
                       size=0.2)],
        "points": [cloud("dots", [(-1.0, 0, 1.0), (1.0, 0, 1.0)], [RED, GREEN], style="Points",
                         size=9, units="pixels"),
                   cloud("small", [(0.0, 0, 1.5)], color="#ff8000", style="Points", size=3,
                         units="pixels")],
        "squares": [cloud("squares", [(0.0, 0, 1.0)], [ORANGE], style="Squares", size=0.4)],
        "spheres": [cloud("spheres", [(0.0, 0, 1.0)], [ORANGE], style="Spheres", size=0.4)],
        "boxes": [cloud("boxes", [(0.5, 0, 0.4)], [ORANGE], style="Boxes", size=0.4)],
        "alpha": [cloud("opaque", [(-1.0, 0, 1.0)], color=[1.0, 0.0, 0.0], size=0.3),
                  cloud("glass", [(1.0, 0, 1.0)], color=[1.0, 0.0, 0.0], size=0.3, alpha=0.5)],
    }
    # one key, updated in place: 3 points, then 1 (buffers reused), then 40 (grown)
    grid = [(x, 0.0, z) for x in np.linspace(-1.5, 1.5, 8) for z in np.linspace(0.2, 1.8, 5)]
    updates = [grid[:3], grid[:1], grid]

    async def main():
        out = {}
        async with VuerServer(port=0) as server:
            async with HeadlessBrowser(server, W, H) as browser:
                sess = browser.session
                for name, elements in scenes.items():
                    server.set @ DefaultScene(*elements, grid=False)
                    out[name] = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA,
                                                depth=name == "alpha")
                    if name == "flat":   # another image size, then the first again
                        out["flat-odd"] = await sess.grab(format="rgb", width=ODD.width,
                                                          height=ODD.height, camera=ODD)
                        out["flat-again"] = await sess.grab(format="rgb", width=W, height=H,
                                                            camera=CAMERA)
                server.set @ DefaultScene(grid=False)
                for i, pts in enumerate(updates):
                    server.upsert @ cloud("stream", pts, [GREEN] * len(pts), size=0.1)
                    out[f"update{i}"] = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)
        return out
    return asyncio.run(asyncio.wait_for(main(), 120))


def square_at(centre, metres: float) -> tuple[np.ndarray, float]:
    (uv,) = CAMERA.project(np.array(centre, float))
    return uv, side_px(metres)


@pytest.mark.parametrize("centre,colour", [((-1.0, 0, 1.5), RED), ((1.0, 0, 0.5), GREEN)])
def test_flat_squares_are_size_metres_wide_where_the_pinhole_model_puts_them(grabs, centre, colour):
    mask = colour_mask(grabs["flat"].rgb, colour, tol=2)   # unlit: exactly the point's colour
    area, got, extent = measured_silhouette(mask)
    want, side = square_at(centre, 0.2)
    assert np.linalg.norm(got - want) <= 1.0, (got, want)
    assert np.all(np.abs(extent - side) <= 1.0), (extent, side)
    assert abs(area - side * side) <= 2 * side + 1, (area, side * side)


@pytest.mark.parametrize("grab,camera", [("flat-odd", ODD), ("flat-again", CAMERA)])
def test_flat_squares_follow_the_image_size_of_each_grab(grabs, grab, camera):
    mask = colour_mask(grabs[grab].rgb, RED, tol=2)
    area, got, extent = measured_silhouette(mask)
    (want,) = camera.project(np.array((-1.0, 0, 1.5)))
    side = 0.2 * camera.focal_length / DEPTH
    assert np.linalg.norm(got - want) <= 1.0, (got, want)
    assert np.all(np.abs(extent - side) <= 1.0), (extent, side)


def test_points_are_round_dots_of_their_pixel_size(grabs):
    rgb = grabs["points"].rgb
    for centre, colour in (((-1.0, 0, 1.0), RED), ((1.0, 0, 1.0), GREEN)):
        mask = colour_mask(rgb, colour, tol=2)
        area, got, extent = measured_silhouette(mask)
        (want,) = CAMERA.project(np.array(centre))
        assert np.linalg.norm(got - want) <= 1.0
        assert np.all(np.abs(extent - 9) <= 1), extent
        # a disc, not a square: about pi r^2 pixels, the bounding box's corners empty
        assert abs(area - math.pi * 4.5 ** 2) <= 12, area
        v, u = np.nonzero(mask)
        assert not mask[v.min(), u.min()] and not mask[v.max(), u.max()]
    # a 3-pixel dot is 3 x 3 pixels
    area, _, extent = measured_silhouette(colour_mask(rgb, (255, 128, 0), tol=3))
    assert tuple(extent) == (3, 3) and area == 9


def test_squares_have_rviz_rim_and_flat_inside(grabs):
    rgb = grabs["squares"].rgb.astype(int)
    (u, v), side = square_at((0.0, 0, 1.0), 0.4)
    assert tuple(rgb[round(v), round(u)]) == ORANGE
    # the rim: a bright colour blends towards 0.2 (51 levels) darker at the edge
    inner = colour_mask(rgb.astype(np.uint8), ORANGE, tol=2)
    _, _, extent = measured_silhouette(inner)
    assert side - 6 <= extent[0] <= side - 1, (extent, side)
    edge = rgb[round(v), round(u - side / 2 + 0.5)]
    assert np.all(np.abs(edge - (np.array(ORANGE) - 51).clip(0)) <= 12), edge


def test_spheres_are_discs_shaded_towards_the_rim(grabs):
    rgb = grabs["spheres"].rgb
    lit = (rgb.astype(int) - 48).any(axis=2)          # anything but the background
    area, got, extent = measured_silhouette(lit)
    (want,), side = CAMERA.project(np.array((0.0, 0, 1.0))), side_px(0.4)
    assert np.linalg.norm(got - want) <= 1.0
    assert abs(extent[0] - side) <= 1.5
    assert abs(area - math.pi * side * side / 4) <= 0.03 * area
    centre = rgb[round(want[1]), round(want[0])].astype(int)
    assert np.all(np.abs(centre - ORANGE) <= 2), centre
    rim = rgb[round(want[1]), round(want[0] - side / 2 + 1.5)].astype(int)
    assert np.all(np.abs(rim - 0.8 * np.array(ORANGE)) <= 6), rim


def test_boxes_cover_their_cube_and_shade_faces_as_rviz(grabs):
    rgb = grabs["boxes"].rgb
    lit = (rgb.astype(int) - 48).any(axis=2)
    area, got, extent = measured_silhouette(lit)
    p_area, p_centroid, p_extent = predicted_silhouette(CAMERA, box_corners((0.5, 0, 0.4), (0.4,) * 3))
    assert np.linalg.norm(got - p_centroid) <= 2.0, (got, p_centroid)
    assert np.all(np.abs(extent - p_extent) <= 2), (extent, p_extent)
    assert area == pytest.approx(p_area, rel=0.05)
    # the camera sees the -Y face (lightness 0.4) and, from above, the +Z face (0.9)
    (uf,), (ut,) = CAMERA.project(np.array((0.5, -0.2, 0.4))), CAMERA.project(np.array((0.5, 0.0, 0.6)))
    front = rgb[round(uf[1]), round(uf[0])].astype(int)
    assert np.all(np.abs(front - 0.4 * np.array(ORANGE)) <= 3), front
    top = rgb[round(ut[1]) - 1, round(ut[0])].astype(int)
    assert np.all(np.abs(top - 0.9 * np.array(ORANGE)) <= 3), top


def test_opaque_clouds_write_depth_translucent_ones_blend_without(grabs):
    frame = grabs["alpha"]
    (uo,) = CAMERA.project(np.array((-1.0, 0, 1.0)))
    (ug,) = CAMERA.project(np.array((1.0, 0, 1.0)))
    assert tuple(frame.rgb[round(uo[1]), round(uo[0])]) == RED
    assert frame.depth[round(uo[1]), round(uo[0])] == pytest.approx(DEPTH, abs=1e-3)
    blended = frame.rgb[round(ug[1]), round(ug[0])].astype(int)
    # half over the background, blended in linear light as the whole pipeline blends
    want = [srgb(0.5 * linear(c) + 0.5 * linear(48)) for c in (255, 0, 0)]
    assert np.all(np.abs(blended - want) <= 2), (blended, want)
    assert math.isinf(frame.depth[round(ug[1]), round(ug[0])])


@pytest.mark.parametrize("i,count", [(0, 3), (1, 1), (2, 40)])
def test_a_cloud_updated_in_place_shows_exactly_its_new_points(grabs, i, count):
    mask = colour_mask(grabs[f"update{i}"].rgb, GREEN, tol=2)
    import cv2
    n, _ = cv2.connectedComponents(mask.astype(np.uint8))
    assert n - 1 == count
    side = side_px(0.1)
    assert mask.sum() == pytest.approx(count * side * side, rel=0.2)
