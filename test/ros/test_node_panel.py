"""The side panel of a person's browser on the real node's page (Playwright driving
Debian's Chromium; web/src/panel.js, local-view.js): a visibility toggle removes exactly
the pixels of what it names (the pinhole model of the view says where), tapped on a
touch screen too; a fixed frame chosen in the panel re-roots the view; the status line
shows the rates and problems the node has; the camera buttons put the camera at rviz's
default view and at the render camera (its published image, scaled); the headless
renderer's page has no panel.

One node (conftest ``node``: render camera 400x300, fov 50, no grid) and one Chromium
for the module; each test uses its own marker namespaces and deletes them.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator, Sequence

import numpy as np
import pytest
from panel_page import (
    browser_session,
    camera_state,
    canvas_rgb,
    canvas_size,
    open_page,
    status_number,
    status_text,
    wait_canvas,
    wait_panel,
)
from ros_helpers import CAMERA_PARAMS, box_points, centroid, colour_mask, marker, tf, transform_points

from vuer_ros.render.camera import RenderCamera
from vuer_ros.render.rviz_view import rviz_orbit_camera

CUBE, SPHERE = 1, 2
DELETEALL = 3
RED, GREEN, BLUE = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)
MAGENTA = (1.0, 0.0, 1.0, 1.0)
SIZE = 0.5
TOLERANCE_PX = 2.0
MARKERS = "Marker:/visualization_marker"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_session()


@pytest.fixture
def page(browser: Any, node: Any) -> Iterator[Any]:
    p = open_page(browser, node.viewer.port)
    try:
        yield p
    finally:
        p.context.close()


def publish(node: Any, *markers: Any) -> None:
    c = node.client
    c.wait_subscribers(c.marker_pub)
    for m in markers:
        c.marker_pub.publish(m)


def clear(node: Any, *namespaces: str) -> None:
    publish(node, *(marker(ns, 0, CUBE, action=DELETEALL) for ns in namespaces))


def rviz_camera(page: Any) -> RenderCamera:
    """The pinhole model of the page's view after "rviz default view"."""
    w, h = canvas_size(page)
    return rviz_orbit_camera(width=w, height=h)


def cube_mask(camera: RenderCamera, at: Sequence[float]) -> np.ndarray:
    import cv2
    uv = camera.project(transform_points(box_points([SIZE] * 3), at))
    mask = np.zeros((camera.height, camera.width), np.uint8)
    hull = cv2.convexHull((uv * 16).round().astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / max(1, int((a | b).sum()))


def near(a: tuple[float, float], b: tuple[float, float], tol: float = TOLERANCE_PX) -> bool:
    return math.dist(a, b) <= tol


def test_a_toggle_removes_exactly_the_pixels_of_what_it_names(browser: Any, node: Any):
    """Tapped on a touch screen: the namespace's cube goes, pixel for pixel where the
    pinhole model of the view put it; the other namespace's sphere stays untouched."""
    red_at, green_at = (0.0, 0.0, SIZE / 2), (1.2, -0.6, SIZE / 2)
    publish(node, marker("toggle_a", 1, CUBE, xyz=red_at, scale=[SIZE] * 3, rgba=RED),
            marker("toggle_b", 1, SPHERE, xyz=green_at, scale=[SIZE] * 3, rgba=GREEN))
    page = open_page(browser, node.viewer.port, touch=True)
    try:
        wait_panel(page, f"{MARKERS}/toggle_a", f"{MARKERS}/toggle_b")
        page.locator("#vp-rviz-view").tap()
        camera = rviz_camera(page)
        want_red = cube_mask(camera, red_at)
        before, _ = wait_canvas(page, lambda rgb: near(centroid(colour_mask(rgb, RED)), centroid(want_red))
                                and colour_mask(rgb, GREEN).sum() > 50, "the cube and the sphere in view")
        page.locator(f'#vp-displays input[data-id="{MARKERS}/toggle_a"]').tap()
        after, _ = wait_canvas(page, lambda rgb: colour_mask(rgb, RED).sum() == 0, "the cube gone")
        changed = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 10
        overlap = iou(changed, want_red)
        assert overlap > 0.85, f"changed pixels vs the cube's silhouette: IoU {overlap:.2f}"
        assert near(centroid(changed), centroid(want_red), 1.0)
        green = colour_mask(before, GREEN)
        assert green.sum() > 50 and not (changed & green).any(), "the other namespace changed"
        # ticked again: back where it was
        page.locator(f'#vp-displays input[data-id="{MARKERS}/toggle_a"]').tap()
        wait_canvas(page, lambda rgb: iou(colour_mask(rgb, RED), colour_mask(before, RED)) > 0.98, "the cube back")
        # the whole topic: both namespaces go, and its namespaces' boxes are disabled
        page.locator(f'#vp-displays input[data-id="{MARKERS}"]').tap()
        wait_canvas(page, lambda rgb: colour_mask(rgb, RED).sum() == 0 and colour_mask(rgb, GREEN).sum() == 0,
                    "both namespaces gone with their topic")
        assert page.locator(f'#vp-displays input[data-id="{MARKERS}/toggle_b"]').is_disabled()
    finally:
        page.context.close()
        clear(node, "toggle_a", "toggle_b")


def test_another_fixed_frame_re_roots_the_view(page: Any, node: Any):
    """odom is 90 degrees about Z and (1.5, 0.5, 0) from map: chosen as the fixed frame,
    the cube in odom sits at its odom coordinates and the one in map moves by the inverse."""
    yaw = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))
    offset = np.array([1.5, 0.5, 0.0])
    node.client.publish_tf(tf("map", "panel_odom", offset, yaw), static=True)
    in_map, in_odom = (0.0, 0.0, SIZE / 2), (1.0, 0.0, SIZE / 2)
    publish(node, marker("frame_a", 1, CUBE, xyz=in_map, scale=[SIZE] * 3, rgba=RED),
            marker("frame_b", 1, CUBE, frame="panel_odom", xyz=in_odom, scale=[SIZE] * 3, rgba=BLUE))
    try:
        wait_panel(page, f"{MARKERS}/frame_a", f"{MARKERS}/frame_b")
        page.click("#vp-rviz-view")
        camera = rviz_camera(page)
        rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])   # odom in map
        blue_in_map = rot @ np.array(in_odom) + offset
        wait_canvas(page, lambda rgb: near(centroid(colour_mask(rgb, BLUE)), centroid(cube_mask(camera, blue_in_map)))
                    and near(centroid(colour_mask(rgb, RED)), centroid(cube_mask(camera, in_map))),
                    "both cubes where map puts them")
        page.wait_for_selector('#vp-fixed-frame option[value="panel_odom"]', state="attached")
        page.select_option("#vp-fixed-frame", "panel_odom")
        red_in_odom = rot.T @ (np.array(in_map) - offset)
        rgb, _ = wait_canvas(
            page, lambda rgb: near(centroid(colour_mask(rgb, BLUE)), centroid(cube_mask(camera, in_odom)))
            and near(centroid(colour_mask(rgb, RED)), centroid(cube_mask(camera, red_in_odom))),
            "both cubes where panel_odom puts them")
        assert iou(colour_mask(rgb, BLUE), cube_mask(camera, in_odom)) > 0.8
        # back to the node's fixed frame
        page.select_option("#vp-fixed-frame", "")
        wait_canvas(page, lambda rgb: near(centroid(colour_mask(rgb, RED)), centroid(cube_mask(camera, in_map))),
                    "the map cube back at the origin")
    finally:
        clear(node, "frame_a", "frame_b")


def test_the_status_line_shows_the_node_rates_and_problems(page: Any, node: Any):
    """TF published at 20 Hz: the panel's msg/s is that rate, its img/s the rate images
    arrive at on /vuer/image; a bad marker counts as a problem, listed by its key."""
    c = node.client
    stop = threading.Event()

    def publish_tf() -> None:
        while not stop.is_set():
            c.publish_tf(tf("map", "panel_rate", (0.0, 0.0, 0.0)))
            stop.wait(0.05)

    publisher = threading.Thread(target=publish_tf, daemon=True)
    publisher.start()
    try:
        wait_panel(page)
        assert "wall time" in status_text(page) and "connected" in status_text(page)

        def image_rate() -> float:
            now = time.monotonic()
            times = [im.received for im in list(c.images["/vuer/image"]) if now - im.received <= 3.0]
            return (len(times) - 1) / max(times[-1] - times[0], 1e-6) if len(times) > 2 else 0.0

        deadline = time.monotonic() + 40.0
        while True:
            msgs, imgs, truth = status_number(page, "msg/s"), status_number(page, "img/s"), image_rate()
            if (msgs is not None and abs(msgs - 20.0) <= 4.0 and imgs is not None and truth > 0
                    and abs(imgs - truth) <= 0.2 * truth):
                break
            assert time.monotonic() < deadline, f"status line {status_text(page)!r}; images arrive at {truth:.1f}/s"
            page.wait_for_timeout(200)
        problems = status_number(page, "problems") or 0.0
        publish(node, marker("panel_bad", 7, CUBE, xyz=(math.nan, 0.0, 0.0), rgba=RED))
        page.wait_for_function("n => (document.querySelector('#vp-status').textContent"
                               ".match(/(\\d+) problem/) || [0, 0])[1] > n", arg=problems, timeout=30000)
        page.wait_for_function("document.querySelector('.vp-problems').textContent.includes('panel_bad')",
                               timeout=30000)
    finally:
        stop.set()
        publisher.join(5)


def test_the_camera_buttons_put_the_camera_where_expected(page: Any, node: Any):
    """rviz's default view: rviz's Orbit defaults. Render camera view: the node's camera
    pose and fov, the canvas letterboxed to its aspect, the picture the published image
    scaled to the canvas."""
    at = (0.3, 0.2, SIZE / 2)
    published_after = time.monotonic()
    publish(node, marker("camera_a", 1, CUBE, xyz=at, scale=[SIZE] * 3, rgba=MAGENTA))
    try:
        wait_panel(page, f"{MARKERS}/camera_a")
        page.click("#vp-rviz-view")
        state = camera_state(page)
        rviz = rviz_orbit_camera()
        assert np.allclose(state["position"], rviz.position, atol=1e-6)
        assert np.allclose(state["quaternion"], rviz.three_quaternion(), atol=1e-6) or \
            np.allclose(state["quaternion"], -rviz.three_quaternion(), atol=1e-6)
        assert state["fov"] == pytest.approx(45.0) and state["near"] == pytest.approx(0.01)

        page.wait_for_selector("#vp-camera-view:not([disabled])")
        page.click("#vp-camera-view")
        p = CAMERA_PARAMS
        render = RenderCamera.look_at(p["render.eye"], p["render.target"], width=p["render.width"],
                                      height=p["render.height"], fov_y=p["render.fov"])
        page.wait_for_function("([x, y, z]) => window.__vuerRos.viewer.camera.position.distanceTo({x, y, z}) < 1e-6",
                               arg=render.position.tolist())
        state = camera_state(page)
        assert np.allclose(state["position"], render.position, atol=1e-6)
        assert np.allclose(state["quaternion"], render.three_quaternion(), atol=1e-6) or \
            np.allclose(state["quaternion"], -render.three_quaternion(), atol=1e-6)
        assert state["fov"] == pytest.approx(p["render.fov"])
        w, h = canvas_size(page)
        assert (w, h) == (700, 525)   # 4:3 letterboxed in the 700x600 beside the panel

        def red_centroid(rgb: np.ndarray) -> tuple[float, float] | None:
            mask = colour_mask(rgb, MAGENTA)
            return centroid(mask) if mask.sum() > 30 else None

        published, red = node.client.wait_image(lambda im: red_centroid(im.rgb), timeout=30.0,
                                                after=published_after, what="the cube in the published image")
        scale = h / 300.0
        expect = ((red[0] + 0.5) * scale - 0.5, (red[1] + 0.5) * scale - 0.5)   # pixel centres scale
        on_screen = camera_state(page)
        assert on_screen["aspect"] == pytest.approx(w / h)
        wait_canvas(page, lambda rgb: near(centroid(colour_mask(rgb, MAGENTA)), expect, 2.5),
                    f"the cube where the published image has it, scaled ({expect})")
        # moving the view leaves the render camera: the canvas fills its area again
        box = page.locator("#viewport canvas").bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.down()
        page.mouse.move(box["x"] + 160, box["y"] + 120)
        page.mouse.up()
        page.wait_for_function("window.__vuerRos.viewer.height === 600")
    finally:
        clear(node, "camera_a")


def test_the_headless_renderer_page_has_no_panel(browser: Any, node: Any):
    page = open_page(browser, node.viewer.port, query="?renderer=headless&id=panel-test")
    try:
        page.wait_for_function("window.__vuerRos && window.__vuerRos.statuses >= 2", timeout=30000)
        assert page.evaluate("document.getElementById('vuer-panel') === null")
        assert page.evaluate("window.__vuerRos.local === null")
        assert canvas_size(page) == (1000, 600)
        assert canvas_rgb(page).shape[:2] == (600, 1000)
    finally:
        page.context.close()
