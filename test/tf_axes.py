"""Where the TF display draws (rviz's TF display sizes, vuer_ros/scene/tf_display.py): the
axes, parent arrows and names of frames at known poses, for the pixel tests of the live
node (test/ros) and of render-bag (test/bag). A camera is anything with ``project``,
``width`` and ``height`` (RenderCamera, the node tests' PinholeCamera); a pose is
(position, 3x3 rotation) in the fixed frame."""

from __future__ import annotations

import numpy as np
from pixels import hue_mask, rod_points, silhouette_mask

AXES = {"x": (0, (1.0, 0.0, 0.0)), "y": (1, (0.0, 1.0, 0.0)), "z": (2, (0.0, 0.0, 1.0))}
ARROW_SHAFT, ARROW_HEAD = (0.8, 0.8, 0.3), (1.0, 0.1, 0.6)


def axis_points(pose, axis: str, scale: float) -> np.ndarray:
    p, R = pose
    return rod_points(p, p + 0.2 * scale * R[:, AXES[axis][0]], 0.02 * scale)


def arrow_parts(child, parent, scale: float) -> list[np.ndarray]:
    """rviz's parent arrow: a shaft and a 0.1 (x scale) head, from child to parent origin."""
    p, q = child[0], parent[0]
    d = np.linalg.norm(q - p)
    head = 0.1 * scale * (d if d < 0.1 * scale else 1.0)
    neck = p + (q - p) * (d - head) / d
    return [rod_points(p, neck, 0.01 * scale), rod_points(neck, q, 0.04 * scale, 0.0)]


def name_box(camera, pose, name: str, scale: float) -> np.ndarray:
    """Where the frame's name may be drawn: centred below its origin, capitals 0.1
    (x scale) high facing the camera (a generous box: 0.8 em a letter, descenders)."""
    origin = np.asarray(pose[0], float)[None]
    (u, v), = camera.project(origin)
    h = 0.1 * scale * float(camera.K[1, 1]) / _depth(camera, origin)
    w = 0.8 * h * len(name)
    mask = np.zeros((camera.height, camera.width), bool)
    mask[max(0, int(v - 3)):int(v + 1.5 * h + 3), max(0, int(u - w / 2 - 3)):int(u + w / 2 + 3)] = True
    return mask


def _depth(camera, point: np.ndarray) -> float:
    """Distance along the optical axis (RenderCamera and PinholeCamera name it apart)."""
    to_optical = getattr(camera, "world_to_optical", None) or camera.to_optical
    return float(to_optical(point)[0, 2])


def axes_errors(rgb: np.ndarray, camera, frames: dict, scale: float,
                skip: tuple[str, ...] = (), tolerance: float = 2.0) -> list[str]:
    """How each axis' colour misses its predicted silhouette (empty: every one lands):
    coverage, centroid and tip (how far the colour reaches along the projected axis)
    within ``tolerance`` px, compared where no other axis is predicted (they cross in
    the image, and meet at each frame's origin)."""
    errors = []
    parts = {(f, a): axis_points(pose, a, scale) for f, pose in frames.items() for a in AXES}
    for (frame, axis), points in parts.items():
        if frame in skip:
            continue
        others = silhouette_mask(camera, [p for key, p in parts.items() if key[0] != frame], grow=3)
        others |= silhouette_mask(camera, [p for key, p in parts.items()
                                           if key[0] == frame and key[1] != axis], grow=1)
        want = silhouette_mask(camera, [points]) & ~others
        got = hue_mask(rgb, AXES[axis][1]) & silhouette_mask(camera, [points], grow=4) & ~others
        label = f"{frame} {axis}: {int(got.sum())} of {int(want.sum())} px"
        # (the filled silhouette counts every pixel its outline touches: more than the area)
        if want.sum() < 30 or got.sum() < 0.5 * want.sum():
            errors.append(f"{label}: too few")
            continue
        off = np.linalg.norm(_centroid(got) - _centroid(want))
        p, R = frames[frame]
        o, tip = camera.project(np.array([p, p + 0.2 * scale * R[:, AXES[axis][0]]]))
        direction = (tip - o) / np.linalg.norm(tip - o)
        short = abs(_reach(got, direction) - _reach(want, direction))
        if off > tolerance or short > tolerance:
            errors.append(f"{label}: centroid {off:.2f} px off, tip {short:.2f} px off")
    return errors


def _centroid(mask: np.ndarray) -> np.ndarray:
    return np.array(np.nonzero(mask)[::-1]).mean(axis=1)


def _reach(mask: np.ndarray, direction: np.ndarray) -> float:
    return float((np.array(np.nonzero(mask)[::-1]).T @ direction).max())
