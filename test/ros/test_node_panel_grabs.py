"""With ``render.headless: false`` the node grabs its images from a person's browser;
what that person does in the panel (hides a namespace, re-roots the view at another
frame, rides the render camera) stays in their view, and the published images still
show the scene by the node's parameters: the hidden cube is in /vuer/image where the
pinhole model from /vuer/camera_info and the camera's /tf_static puts it."""

from __future__ import annotations

import math
import time
from typing import Any, Iterator

import numpy as np
import pytest
from panel_page import browser_session, open_page, wait_canvas, wait_panel
from ros_helpers import box_points, centroid, colour_mask, hull_mask, marker, tf, transform_points

NODE_PARAMS = {"render.headless": False}
CUBE, DELETEALL = 1, 3
RED = (1.0, 0.0, 0.0, 1.0)
SIZE = 0.5
MARKERS = "Marker:/visualization_marker"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_session()


def test_grabs_from_a_person_browser_ignore_its_panel(browser: Any, node: Any):
    c = node.client
    c.wait_subscribers(c.marker_pub)
    c.publish_tf(tf("map", "grab_odom", (1.5, 0.5, 0.0),
                    (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))), static=True)
    at = (0.2, 0.1, SIZE / 2)
    c.marker_pub.publish(marker("grab_a", 1, CUBE, xyz=at, scale=[SIZE] * 3, rgba=RED))
    page = open_page(browser, node.viewer.port)
    try:
        wait_panel(page, f"{MARKERS}/grab_a")
        page.click("#vp-rviz-view")
        wait_canvas(page, lambda rgb: colour_mask(rgb, RED).sum() > 50, "the cube on screen")
        page.wait_for_selector('#vp-fixed-frame option[value="grab_odom"]', state="attached")
        page.select_option("#vp-fixed-frame", "grab_odom")
        page.click(f'#vp-displays input[data-id="{MARKERS}/grab_a"]')
        page.click("#vp-camera-view")
        wait_canvas(page, lambda rgb: colour_mask(rgb, RED).sum() == 0, "the cube hidden on screen")
        assert page.evaluate("window.__vuerRos.local.renderCamera !== null")
        camera = c.camera()
        want = hull_mask(camera, [transform_points(box_points([SIZE] * 3), at)])
        since = time.monotonic()
        image, got = c.wait_image(lambda im: centroid(colour_mask(im.rgb, RED)) if colour_mask(im.rgb, RED).sum() > 30
                                  else None, after=since, timeout=30.0, what="the cube in a published image")
        assert math.dist(got, centroid(want)) <= 2.0, (got, centroid(want))
        mask = colour_mask(image.rgb, RED)
        assert (mask & want).sum() / max(1, (mask | want).sum()) > 0.8
        # and the screen still hides it: the grab left this browser's view as it was
        assert colour_mask(np.asarray(wait_canvas(page, lambda rgb: True, "a screenshot")[0]), RED).sum() == 0
    finally:
        page.context.close()
        c.marker_pub.publish(marker("grab_a", 0, CUBE, action=DELETEALL))
