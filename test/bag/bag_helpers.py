"""Helpers for the bag tests: reading output bags back with rosbags, and where
the pinhole model puts a box in an image (the same geometry as test/render)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.highlevel import AnyReader

from vuer_ros.render.camera import RenderCamera

from pixels import box_corners, predicted_silhouette  # noqa: F401 (box_corners re-exported)


def ctrl_c_when(cmd: Sequence[Any], ready: Callable[[], bool], timeout: float) -> tuple[int, str]:
    """Run ``cmd``, press Ctrl-C (SIGINT) once ``ready()`` holds, and wait for it to end:
    its exit code and stderr. Fails if it ends first or ``ready()`` takes over ``timeout``."""
    proc = subprocess.Popen([str(a) for a in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"not ready within {timeout:.0f} s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def read_bag(path: Path) -> dict[str, list[tuple[int, Any, bytes, Any]]]:
    """topic -> [(bag time, message, raw bytes, connection)] in time order, decoded with
    the bag's own definitions (AnyReader also checks every definition's hash)."""
    out: dict[str, list[tuple[int, Any, bytes, Any]]] = {}
    with AnyReader([Path(path)]) as reader:
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t, reader.deserialize(raw, conn.msgtype), raw, conn))
    return out


def stamp_ns(stamp: Any) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def camera_from_output(bag: dict[str, list[tuple[int, Any, bytes, Any]]], index: int = 0,
                       fixed: str = "world", optical: str = "vuer_camera_optical") -> RenderCamera:
    """The render camera as a ROS user sees it in the output bag: intrinsics from
    /vuer/camera_info, pose from the optical frame on /tf_static (a child of the
    fixed frame: the fixed-camera case)."""
    info = bag["/vuer/camera_info"][index][1]
    pose = None
    for _, msg, _, _ in bag["/tf_static"]:
        for t in msg.transforms:
            if t.child_frame_id == optical:
                assert t.header.frame_id == fixed
                pose = t.transform
    assert pose is not None, "camera optical frame not on /tf_static"
    fy = float(info.k[4])
    fov = math.degrees(2 * math.atan((info.height / 2) / fy))
    tr, q = pose.translation, pose.rotation
    camera = RenderCamera(int(info.width), int(info.height), fov, 0.05, 100.0,
                          np.array([tr.x, tr.y, tr.z]), np.array([q.x, q.y, q.z, q.w]))
    np.testing.assert_allclose(camera.K.flatten(), np.asarray(info.k), atol=1e-9)
    return camera


def predicted_centroid(camera: RenderCamera, corners: np.ndarray) -> np.ndarray:
    """Centroid (u, v) of a convex body's silhouette: the hull of its projected corners."""
    return predicted_silhouette(camera, corners)[1]


def red_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of a lit red surface (every face shade of a red box, nothing grey)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (r > 50) & (g * 3 < r) & (b * 3 < r)


def colour_mask(rgb: np.ndarray, channel: int) -> np.ndarray:
    """Pixels where one channel clearly dominates (lit green / blue / red surfaces)."""
    c = rgb[..., channel].astype(int)
    others = [rgb[..., i].astype(int) for i in range(3) if i != channel]
    return (c > 50) & (others[0] * 3 < c) & (others[1] * 3 < c)


def centroid(mask: np.ndarray) -> np.ndarray:
    v, u = np.nonzero(mask)
    assert len(u), "colour not found in the image"
    return np.array([u.mean(), v.mean()])


def image_array(msg: Any) -> np.ndarray:
    """sensor_msgs/Image rgb8 -> HxWx3 uint8."""
    assert msg.encoding == "rgb8" and msg.step == msg.width * 3
    return np.asarray(msg.data, dtype=np.uint8).reshape(msg.height, msg.width, 3)
