"""Where the pinhole model puts what the pose displays draw, and where it landed in an image:
rviz's arrow and axes as convex parts, spheres, 1-pixel lines; colour masks by hue (lit
surfaces keep their channel ratios). ``camera`` is anything with ``project(points) -> (N, 2)``
pixel coordinates, ``width`` and ``height`` (RenderCamera, the node tests' PinholeCamera)."""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from vuer_ros.scene.transform import Transform


def hue_mask(rgb: np.ndarray, colour: Sequence[float], tol: float = 0.15, min_value: int = 30) -> np.ndarray:
    """Pixels whose channel ratios (to the brightest channel) are those of ``colour`` (0-255)."""
    img = rgb.astype(np.float32)
    mx = img.max(axis=2)
    want = np.asarray(colour, np.float32) / max(colour)
    ok = mx >= min_value
    for c in range(3):
        ok &= np.abs(img[..., c] / np.maximum(mx, 1.0) - want[c]) < tol
    return ok


def centroid(mask: np.ndarray) -> np.ndarray:
    v, u = np.nonzero(mask)
    assert len(u), "colour not found in the image"
    return np.array([u.mean(), v.mean()])


def _ring(diameter: float, base: np.ndarray, tip: np.ndarray, n: int = 48) -> np.ndarray:
    axis = (tip - base) / np.linalg.norm(tip - base)
    u = np.cross(axis, [0, 0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0, 0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    return base + diameter / 2 * (np.cos(a) * u + np.sin(a) * v)


def tube(diameter: float, a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Surface points of a cylinder of ``diameter`` from a to b (both end rings)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.vstack([_ring(diameter, a, b), _ring(diameter, b, a)])


def cone(diameter: float, base: Sequence[float], tip: Sequence[float]) -> np.ndarray:
    base, tip = np.asarray(base, float), np.asarray(tip, float)
    return np.vstack([_ring(diameter, base, tip), tip[None]])


def sphere(diameter: float, centre: Sequence[float], n: int = 40) -> np.ndarray:
    th, ph = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, 2 * n))
    pts = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
    return pts * diameter / 2 + np.asarray(centre, float)


def _world(pose: Transform, points: Sequence[Sequence[float]]) -> list[tuple[float, float, float]]:
    return [pose.apply((float(p[0]), float(p[1]), float(p[2]))) for p in points]


def arrow_parts(pose: Transform, shaft_length: float, shaft_diameter: float, head_length: float,
                head_diameter: float) -> list[np.ndarray]:
    """rviz's Arrow along the pose's +X: the shaft, then the head."""
    o, neck, tip = _world(pose, [(0, 0, 0), (shaft_length, 0, 0), (shaft_length + head_length, 0, 0)])
    return [tube(shaft_diameter, o, neck), cone(head_diameter, neck, tip)]


def axes_parts(pose: Transform, length: float, diameter: float) -> list[np.ndarray]:
    """rviz's Axes: X, Y, Z tubes from the pose's origin."""
    o, x, y, z = _world(pose, [(0, 0, 0), (length, 0, 0), (0, length, 0), (0, 0, length)])
    return [tube(diameter, o, x), tube(diameter, o, y), tube(diameter, o, z)]


def hull_mask(camera: Any, parts: Sequence[np.ndarray]) -> np.ndarray:
    """The union of the convex hulls of each (convex) part's projected points."""
    mask = np.zeros((camera.height, camera.width), np.uint8)
    for pts in parts:
        uv = camera.project(np.asarray(pts, float))
        hull = cv2.convexHull((uv * 16).round().astype(np.int32))
        # pixel (u, v) centres sit at integers: fill with 4 fractional bits
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def centroid_error(mask: np.ndarray, camera: Any, parts: Sequence[np.ndarray]) -> tuple[float, float]:
    """(distance in pixels between the centroids of ``mask`` and of the predicted
    silhouette, ``mask`` area / predicted area)."""
    want = hull_mask(camera, parts)
    return float(np.linalg.norm(centroid(mask) - centroid(want))), float(mask.sum() / want.sum())


def line_fit(mask: np.ndarray, camera: Any, points: Sequence[Sequence[float]],
             segments: bool = False) -> tuple[float, float]:
    """How a thin line drawn through world ``points`` (a strip, or pairs with ``segments``)
    sits in ``mask``: (the largest distance in pixels from a masked pixel to the projected
    line, the share of samples along the projected line with a masked pixel within 1.5 px)."""
    uv = camera.project(np.asarray(points, float))
    pairs = [(uv[i], uv[i + 1]) for i in range(0, len(uv) - 1, 2 if segments else 1)]
    v, u = np.nonzero(mask)
    pixels = np.stack([u, v], axis=1).astype(float)
    if len(pixels) == 0:
        return float("inf"), 0.0
    far = np.full(len(pixels), np.inf)
    samples = []
    for a, b in pairs:
        d = b - a
        t = np.clip(((pixels - a) @ d) / max(float(d @ d), 1e-12), 0.0, 1.0)
        far = np.minimum(far, np.linalg.norm(pixels - (a + t[:, None] * d), axis=1))
        n = max(2, int(np.linalg.norm(d)))
        samples.append(a + np.linspace(0.0, 1.0, n)[:, None] * d)
    along = np.vstack(samples)
    inside = (along[:, 0] >= 1) & (along[:, 0] <= camera.width - 2) & (along[:, 1] >= 1) & \
        (along[:, 1] <= camera.height - 2)
    along = along[inside]
    covered = [np.min(np.sum((pixels - p) ** 2, axis=1)) <= 1.5 ** 2 for p in along]
    return float(far.max()), float(np.mean(covered)) if covered else 0.0
