"""Batched drawing (web/src/batches.js): many same-shaped solids drawn as one mesh
still land where the pinhole model puts each of them, and the scene graph's
operations (moving a parent, hiding, removing, turning translucent) act on each
one alone. Round solids far away are drawn with fewer segments: their
silhouettes stay within a pixel of the true shape's."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_multiply, quat_to_matrix
from vuer_ros.schemas import Box, Cylinder, DefaultScene, Group, Sphere, Text
from vuer_ros.server import VuerServer

from pixels import (box_corners, colour_mask, convex_hull, measured_silhouette, polygon_area_centroid,
                    predicted_silhouette)

W, H = 640, 480
CAMERA = RenderCamera.look_at([0.0, -2.5, 5.0], [0.0, 0.0, 0.0], width=W, height=H, fov_y=55.0,
                              near=0.05, far=100.0)
SIZE = (0.2, 0.2, 0.2)
RED, GREEN, MAGENTA, CYAN, YELLOW, BLUE = ((255, 0, 0), (0, 255, 0), (255, 0, 255), (0, 255, 255),
                                           (255, 255, 0), (0, 0, 255))
SPECIAL = {(1, 1): ("carried", GREEN), (2, 5): ("hidden", MAGENTA), (5, 2): ("gone", CYAN),
           (6, 6): ("ghost", YELLOW)}
MOVE = (0.15, 0.0, 0.0)   # still clear of its neighbours


def hexcolour(rgb) -> str:
    return "#%02x%02x%02x" % rgb


def centre(i: int, j: int) -> tuple[float, float, float]:
    return (-1.75 + 0.5 * i, -1.75 + 0.5 * j, 0.1)


def edge_point(camera: RenderCamera, u: float, v: float, z: float) -> np.ndarray:
    """Where the ray through pixel (u, v) meets the plane at height z."""
    f = camera.focal_length
    cx, cy = camera.principal_point
    ray = quat_to_matrix(camera.orientation) @ np.array([(u - cx) / f, (v - cy) / f, 1.0])   # in the world
    eye = np.asarray(camera.position, float)
    return eye + ray * (z - eye[2]) / ray[2]


def box(key, at, colour, **kw):
    return Box(key=key, args=list(SIZE), position=list(at), materialType="basic",
               material={"color": hexcolour(colour)}, **kw)


def grid_scene(edge_at):
    nodes = []
    for i in range(8):
        for j in range(8):
            name, colour = SPECIAL.get((i, j), (f"b{i}{j}", RED))
            if name == "carried":   # under a group that will move
                nodes.append(Group(box(name, (0, 0, 0), colour), key="carrier", position=list(centre(i, j))))
            else:
                nodes.append(box(name, centre(i, j), colour))
    nodes.append(box("edge", edge_at, BLUE))
    return DefaultScene(*nodes, grid=False)


LABEL_AT = (0.75, 0.0, 0.0)


def sphere_scene():
    return DefaultScene(Sphere(key="ball", args=[0.5, 32, 16], position=[0, 0, 0], materialType="basic",
                               material={"color": "#ff0000"}),
                        Text(key="label", text="O", fontSize=0.3, billboard=True, position=list(LABEL_AT),
                             material={"color": "#00ff00"}),
                        grid=False)


# thin rods far away: 1 to 4 px in radius on screen (drawn with 8 sides, the coarsest level), tilted
# in the image (so their outlines cross the pixel rows), each turned about its own axis
ROD_CAMERA = RenderCamera.look_at([0.0, -7.0, 0.0], [0.0, 0.0, 0.0], width=W, height=H, fov_y=55.0,
                                  near=0.05, far=100.0)
RODS = [(-2.0 + 1.0 * k, 0.0, 0.6 * (k - 2), r) for k, r in enumerate((0.015, 0.022, 0.03, 0.04, 0.055))]


def rod_turn(k: int) -> list[float]:
    """Tilted 25 degrees about the view axis (Y), spun 0.4 k rad about its own (X)."""
    tilt = (0.0, math.sin(0.2182), 0.0, math.cos(0.2182))
    spin = (math.sin(0.2 * k), 0.0, 0.0, math.cos(0.2 * k))
    return list(quat_multiply(tilt, spin))


def rods_scene(look: str):
    """Cylinders along the group's X; ``look``: their materialType (a normal material is
    not batched)."""
    q_y_to_x = [0.0, 0.0, -math.sqrt(0.5), math.sqrt(0.5)]
    nodes = [Group(Cylinder(key=f"rod{k}", args=[r, r, 1.5, 32], quaternion=q_y_to_x, materialType=look,
                            material={"color": "#ff0000"}),
                   key=f"rod-turn{k}", position=[x, y, z], quaternion=rod_turn(k))
             for k, (x, y, z, r) in enumerate(RODS)]
    return DefaultScene(*nodes, grid=False)


def rod_outline(x: float, y: float, z: float, r: float, k: int) -> np.ndarray:
    """Points on the true cylinder's two end circles (in the world)."""
    a = np.linspace(0.0, 2 * math.pi, 256, endpoint=False)
    ring = np.stack([np.zeros_like(a), r * np.cos(a), r * np.sin(a)], axis=1)
    local = np.concatenate([ring - (0.75, 0.0, 0.0), ring + (0.75, 0.0, 0.0)])
    return local @ quat_to_matrix(rod_turn(k)).T + (x, y, z)


@pytest.fixture(scope="module")
def rendered():
    edge_at = edge_point(CAMERA, -0.5, H / 2, 0.1)   # half of it outside the image

    async def main():
        async with VuerServer(port=0) as server:
            server.set @ grid_scene(edge_at)
            async with HeadlessBrowser(server, W, H) as browser:
                sess = browser.session
                out = {"edge_at": edge_at, "before": await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)}
                server.update @ [Group(key="carrier", position=list(np.add(centre(1, 1), MOVE))),
                                 box("hidden", centre(2, 5), MAGENTA, visible=False),
                                 Box(key="ghost", material={"color": hexcolour(YELLOW), "opacity": 0.5})]
                server.remove @ "gone"
                out["after"] = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)
                server.set @ sphere_scene()
                for d in (2.0, 40.0):
                    cam = RenderCamera.look_at([0.0, -d, 0.0], [0.0, 0.0, 0.0], width=W, height=H,
                                               fov_y=55.0, near=0.05, far=100.0)
                    out[d] = (cam, await sess.grab(format="rgb", width=W, height=H, camera=cam))
                for look in ("basic", "normal"):   # batched (few sides), and one mesh each (32)
                    server.set @ rods_scene(look)
                    out[look] = await sess.grab(format="rgb", width=W, height=H, camera=ROD_CAMERA)
                return out
    return asyncio.run(asyncio.wait_for(main(), 90))


def predicted(at):
    return predicted_silhouette(CAMERA, box_corners(at, SIZE))


def test_every_batched_box_is_where_the_camera_model_puts_it(rendered):
    rgb = rendered["before"].rgb
    reds = [centre(i, j) for i in range(8) for j in range(8) if (i, j) not in SPECIAL]
    want = sum(predicted(c)[0] for c in reds)
    got = colour_mask(rgb, RED).sum()
    assert got == pytest.approx(want, rel=0.03)
    for (i, j), (_, colour) in SPECIAL.items():
        area, centroid, _ = predicted(centre(i, j))
        got_area, got_centroid, _ = measured_silhouette(colour_mask(rgb, colour))
        assert np.linalg.norm(got_centroid - centroid) <= 0.5, (colour, got_centroid, centroid)
        assert got_area == pytest.approx(area, rel=0.05)


def test_an_item_partly_in_view_is_not_culled(rendered):
    mask = colour_mask(rendered["before"].rgb, BLUE)
    _, (u, v), _ = predicted(rendered["edge_at"])
    assert abs(u) < 2, "the test box should straddle the left image edge"
    rows = np.nonzero(mask[:, 0])[0]
    assert len(rows) > 5 and abs(rows.mean() - v) < 2


def test_each_item_follows_its_own_node(rendered):
    rgb = rendered["after"].rgb
    _, centroid, _ = predicted(np.add(centre(1, 1), MOVE))
    _, got, _ = measured_silhouette(colour_mask(rgb, GREEN))
    assert np.linalg.norm(got - centroid) <= 0.5, "a batched box moves with its parent group"
    assert colour_mask(rgb, MAGENTA).sum() == 0, "visible=False hides just that box"
    assert colour_mask(rgb, CYAN).sum() == 0, "a removed box is gone"
    # turned translucent: drawn on its own, blended with the background
    _, (u, v), _ = predicted(centre(6, 6))
    r, g, b = rgb[round(v), round(u)].astype(int)
    assert 90 < r < 230 and 90 < g < 230 and b < 100, (r, g, b)
    reds = [centre(i, j) for i in range(8) for j in range(8) if (i, j) not in SPECIAL]
    assert colour_mask(rgb, RED).sum() == pytest.approx(sum(predicted(c)[0] for c in reds), rel=0.03)


@pytest.mark.parametrize("distance", [2.0, 40.0])
def test_a_sphere_near_or_far_keeps_its_silhouette(rendered, distance):
    """At 40 m the 0.5 m ball is ~12 px across: it is drawn with 8 segments
    instead of 32, and still within a pixel of the true circle."""
    cam, frame = rendered[distance]
    f = cam.focal_length
    rho = f * 0.5 / math.sqrt(distance ** 2 - 0.25)   # image radius of a sphere seen on axis
    area, centroid, _ = measured_silhouette(colour_mask(frame.rgb, RED))
    assert np.linalg.norm(centroid - np.array(cam.principal_point)) <= 0.3
    assert math.sqrt(area / math.pi) == pytest.approx(rho, abs=0.6)


@pytest.mark.parametrize("distance", [2.0, 40.0])
def test_a_label_near_or_far_is_centred_on_its_place(rendered, distance):
    """Far away the "O" (3.5 px high) is drawn with fewer segments per curve: it stays
    centred where its position projects."""
    cam, frame = rendered[distance]
    (u, v), = cam.project(np.array([LABEL_AT]))
    area, centroid, extent = measured_silhouette(colour_mask(frame.rgb, GREEN, tol=90))
    assert np.linalg.norm(centroid - (u, v)) <= (1.0 if distance < 10 else 0.7), (centroid, (u, v))
    cap_px = 0.3 * cam.focal_length / distance
    assert extent[1] == pytest.approx(cap_px * 1.04, abs=1.5)   # an O overshoots the capitals by ~4%


def test_a_grab_says_where_the_browser_time_went(rendered):
    """The grab reply's timing (the node's DEBUG statistics read it)."""
    frame = rendered["before"]
    assert frame.timing is not None and set(frame.timing) == {"queue", "render", "apply"}
    assert 0.0 < frame.timing["render"] <= frame.delta_ms
    assert frame.timing["apply"] > 0.0, "building the 65-box scene before the first grab took time"


def test_thin_rods_drawn_with_few_sides_keep_their_silhouettes(rendered):
    """Rods 1-4 px in radius on screen are drawn with 8 sides instead of 32, each
    within half a pixel of the 32-sided rod: its pixels differ from those of the rod
    drawn in full (a mesh of its own) only in that half-pixel band along the outline;
    and both cover the true cylinder's image."""
    batched = colour_mask(rendered["basic"].rgb, RED)
    full = (np.abs(rendered["normal"].rgb.astype(int) - 48) > 30).any(axis=2)
    f = ROD_CAMERA.focal_length
    for k, (x, y, z, r) in enumerate(RODS):
        hull = convex_hull(ROD_CAMERA.project(rod_outline(x, y, z, r, k)))
        area, _ = polygon_area_centroid(hull)
        perimeter = np.linalg.norm(np.roll(hull, -1, axis=0) - hull, axis=1).sum()
        (u0, v0), (u1, v1) = hull.min(axis=0).astype(int) - 3, hull.max(axis=0).astype(int) + 4
        a, b = batched[v0:v1, u0:u1], full[v0:v1, u0:u1]
        assert 0.9 < r * f / 7.0 < 3.7
        assert abs(int(b.sum()) - area) <= 0.5 * perimeter, (k, b.sum(), area)
        assert (a ^ b).sum() <= 0.5 * perimeter, (k, (a ^ b).sum(), perimeter)
