"""Pixel geometry helpers for rendering tests: where the pinhole model puts a
convex object, and where a colour actually landed in a grabbed image."""

from __future__ import annotations

import itertools

import numpy as np

from vuer_ros.render.camera import RenderCamera


def box_corners(center, size) -> np.ndarray:
    c, h = np.asarray(center, float), np.asarray(size, float) / 2
    return np.array([c + h * s for s in itertools.product((-1, 1), repeat=3)])


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise hull of 2-D points."""
    pts = sorted(map(tuple, points))

    def turn(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(seq):
        out: list[tuple] = []
        for p in seq:
            while len(out) >= 2 and turn(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]
    return np.array(half(pts) + half(pts[::-1]))


def polygon_area_centroid(poly: np.ndarray) -> tuple[float, np.ndarray]:
    x, y = poly[:, 0], poly[:, 1]
    xs, ys = np.roll(x, -1), np.roll(y, -1)
    cross = x * ys - xs * y
    area = cross.sum() / 2
    cx = ((x + xs) * cross).sum() / (6 * area)
    cy = ((y + ys) * cross).sum() / (6 * area)
    return abs(area), np.array([cx, cy])


def predicted_silhouette(camera: RenderCamera, corners: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Area (px^2), centroid (u, v) and extent (w, h) of a convex body's image.
    The silhouette of a convex polyhedron is the hull of its projected vertices."""
    hull = convex_hull(camera.project(corners))
    area, centroid = polygon_area_centroid(hull)
    return area, centroid, hull.max(axis=0) - hull.min(axis=0)


def colour_mask(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return (np.abs(rgb.astype(int) - np.array(colour)) <= tol).all(axis=2)


def measured_silhouette(mask: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Pixel count, centroid (u, v) in pixel-centre coordinates, extent (w, h)."""
    v, u = np.nonzero(mask)
    if len(u) == 0:
        raise AssertionError("colour not found in the image")
    return float(len(u)), np.array([u.mean(), v.mean()]), np.array([u.max() - u.min() + 1, v.max() - v.min() + 1])


def rod_points(start, end, diameter: float, end_diameter: float | None = None, n: int = 48) -> np.ndarray:
    """Surface samples of a cylinder (or a cone: ``end_diameter`` 0) from ``start`` to ``end``."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    axis = (end - start) / np.linalg.norm(end - start)
    u = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    circle = np.cos(a) * u + np.sin(a) * v
    d1 = diameter if end_diameter is None else end_diameter
    return np.vstack([start + diameter / 2 * circle, end + d1 / 2 * circle])


def silhouette_mask(camera, parts, grow: int = 0) -> np.ndarray:
    """Pixels (height x width) inside the union of the convex silhouettes of ``parts``
    (surface samples of convex bodies), grown by ``grow`` pixels. ``camera``: anything
    with ``project``, ``width`` and ``height`` (RenderCamera)."""
    import cv2
    mask = np.zeros((camera.height, camera.width), np.uint8)
    for pts in parts:
        hull = cv2.convexHull((camera.project(pts) * 16).round().astype(np.int32))
        # pixel centres sit at integers (ROS/OpenCV): fill with 4 fractional bits
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask.astype(bool)


def hue_mask(rgb: np.ndarray, colour, min_value: int = 30, tol: float = 0.2) -> np.ndarray:
    """Pixels of a lit surface of ``colour`` (0-1 rgb): lighting scales a colour, so the
    channels' ratios to the brightest one are compared (within ``tol``)."""
    img = rgb.astype(np.float32)
    mx = img.max(axis=2)
    ok = mx >= min_value
    top = max(colour)
    for c, want in enumerate(colour):
        ok &= np.abs(img[..., c] / np.maximum(mx, 1.0) - want / top) < tol
    return ok
