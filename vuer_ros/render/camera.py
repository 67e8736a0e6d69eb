"""RenderCamera: the pinhole camera the browser renders from, and its CameraInfo.

The one place where camera conventions meet (written down once):
- The camera's pose is its ROS *optical* frame in the fixed frame: Z forward,
  X right, Y down (REP 103 / REP 105 camera convention).
- three.js cameras look down local -Z with +Y up: the three.js camera
  orientation is the optical orientation turned 180 degrees about X.
- Intrinsics follow three.js' projection exactly: square pixels, vertical field
  of view ``fov_y``, ``fy = fx = (height / 2) / tan(fov_y / 2)``. ROS/OpenCV put
  pixel *centres* at integer coordinates, three.js maps the image edges to NDC
  +-1, so the principal point is ``((width - 1) / 2, (height - 1) / 2)``.
Quaternions are [x, y, z, w] throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

# 180 degrees about X: optical frame <-> three.js camera frame.
_OPTICAL_TO_THREE = np.array([1.0, 0.0, 0.0, 0.0])


def quat_multiply(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def quat_to_matrix(q: Sequence[float]) -> np.ndarray:
    x, y, z, w = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrix -> [x, y, z, w] (Shepperd's method, stable for all angles)."""
    m = np.asarray(m, dtype=float)
    t = m[0, 0] + m[1, 1] + m[2, 2]
    if t > 0:
        s = 2.0 * math.sqrt(t + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def optical_look_at(eye: Sequence[float], target: Sequence[float],
                    up: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Orientation [x,y,z,w] of an optical frame at ``eye`` looking at ``target``."""
    z = np.asarray(target, float) - np.asarray(eye, float)
    if not np.linalg.norm(z) > 0:
        raise ValueError(f"camera eye {list(eye)} and target {list(target)} coincide")
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up, float))
    if np.linalg.norm(x) < 1e-9:  # looking straight along up: pick any right vector
        x = np.cross(z, [1.0, 0.0, 0.0] if abs(z[0]) < 0.9 else [0.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return matrix_to_quat(np.column_stack([x, y, z]))


@dataclass
class RenderCamera:
    """A pinhole render camera: size, vertical fov, clip range and optical-frame pose."""

    width: int = 640
    height: int = 480
    fov_y: float = 60.0  # degrees, vertical
    near: float = 0.05
    far: float = 100.0
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    orientation: np.ndarray = field(default_factory=lambda: optical_look_at((0, 0, 0), (1, 0, 0)))

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and isinstance(self.height, int)
                and 0 < self.width <= 8192 and 0 < self.height <= 8192):
            raise ValueError(f"render size {self.width}x{self.height}: width and height must be integers in 1..8192")
        if not 0.0 < self.fov_y < 180.0:
            raise ValueError(f"render fov {self.fov_y}: the vertical field of view must be in (0, 180) degrees")
        if not 0.0 < self.near < self.far:
            raise ValueError(f"clip range near={self.near} far={self.far}: need 0 < near < far")
        self.position = np.asarray(self.position, dtype=float).reshape(3)
        q = np.asarray(self.orientation, dtype=float).reshape(4)
        self.orientation = q / np.linalg.norm(q)

    @classmethod
    def look_at(cls, eye: Sequence[float], target: Sequence[float], **kw: Any) -> "RenderCamera":
        return cls(position=np.asarray(eye, float), orientation=optical_look_at(eye, target), **kw)

    # -- intrinsics ---------------------------------------------------------
    @property
    def focal_length(self) -> float:
        return (self.height / 2.0) / math.tan(math.radians(self.fov_y) / 2.0)

    @property
    def principal_point(self) -> tuple[float, float]:
        return (self.width - 1) / 2.0, (self.height - 1) / 2.0

    @property
    def K(self) -> np.ndarray:
        f = self.focal_length
        cx, cy = self.principal_point
        return np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])

    def camera_info_fields(self) -> dict[str, Any]:
        """sensor_msgs/CameraInfo fields (no header): an ideal pinhole, no distortion."""
        K = self.K
        P = np.hstack([K, np.zeros((3, 1))])
        return {
            "width": self.width, "height": self.height, "distortion_model": "plumb_bob",
            "d": [0.0] * 5, "k": K.flatten().tolist(), "r": np.eye(3).flatten().tolist(),
            "p": P.flatten().tolist(), "binning_x": 0, "binning_y": 0,
        }

    # -- extrinsics ---------------------------------------------------------
    def with_pose(self, position: Sequence[float], orientation: Sequence[float]) -> "RenderCamera":
        return RenderCamera(self.width, self.height, self.fov_y, self.near, self.far,
                            np.asarray(position, float), np.asarray(orientation, float))

    def world_to_optical(self, points: np.ndarray) -> np.ndarray:
        R = quat_to_matrix(self.orientation)
        return (np.asarray(points, float).reshape(-1, 3) - self.position) @ R

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u, v) of world points (pixel centres at integers)."""
        p = self.world_to_optical(points)
        uv = (p @ self.K.T)
        return uv[:, :2] / uv[:, 2:3]

    def three_quaternion(self) -> np.ndarray:
        return quat_multiply(self.orientation, _OPTICAL_TO_THREE)

    def to_wire(self) -> dict[str, Any]:
        """The camera as GRAB_RENDER's ``camera`` field (three.js convention)."""
        return {"position": self.position.tolist(), "quaternion": self.three_quaternion().tolist(),
                "fov": float(self.fov_y), "near": float(self.near), "far": float(self.far)}
