"""RenderSettings: the render.* parameters of the viewer node, as plain data.

Built from the node's parameters by vuer_ros/view/options.py, for the live
node and offline rendering alike, so both place and size the camera the same
way. Frame names here are already normalised (tf2's rule, at that boundary).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .camera import RenderCamera, matrix_to_quat, optical_look_at

# REP 103 body frame (x forward, z up) -> optical frame (z forward, x right, y down)
BODY_TO_OPTICAL = matrix_to_quat(np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]))


@dataclass(frozen=True)
class RenderSettings:
    """The render.* parameters (see params.py for what each means)."""

    rate: float = 10.0
    width: int = 640
    height: int = 480
    fov: float = 45.0
    near: float = 0.05
    far: float = 100.0
    camera_frame: str = ""
    camera_frame_is_optical: bool = False
    eye: tuple[float, float, float] = (5.0, 5.0, 7.0711)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    target_frame: str = ""
    optical_frame: str = "vuer_camera_optical"
    headless: bool = True
    depth: bool = False
    jpeg_quality: int = 90
    lazy: bool = True
    grab_timeout: float = 10.0

    def camera_parent(self, fixed_frame: str) -> str:
        """The frame whose TF places the camera: render.camera_frame (riding it),
        render.target_frame (following its origin) or the fixed frame."""
        return self.camera_frame or self.target_frame or fixed_frame

    def camera_mount(self, fixed_frame: str) -> tuple[str, tuple[float, float, float],
                                                       tuple[float, float, float, float]] | None:
        """Where the optical frame hangs on TF, for good (/tf_static): (parent frame, xyz,
        quaternion xyzw). None when the camera follows render.target_frame: it moves in
        the fixed frame with that frame's origin but keeps its orientation there, which
        no fixed child of a turning frame does, so its pose goes out with each image
        (on /tf, a child of the fixed frame at the image's stamp)."""
        if self.target_frame and not self.camera_frame:
            return None
        if self.camera_frame:
            q = (0.0, 0.0, 0.0, 1.0) if self.camera_frame_is_optical else \
                tuple(float(v) for v in BODY_TO_OPTICAL)
            return self.camera_frame, (0.0, 0.0, 0.0), q  # type: ignore[return-value]
        q = optical_look_at(self.eye, self.target)
        return fixed_frame, tuple(float(v) for v in self.eye), \
            tuple(float(v) for v in q)  # type: ignore[return-value]

    def check(self) -> None:
        """ValueError with the parameter's name when a value cannot work."""
        RenderCamera(self.width, self.height, self.fov, self.near, self.far)
        if not self.camera_frame:
            optical_look_at(self.eye, self.target)
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"render.rate {self.rate}: must be a positive number of Hz")
        if not self.optical_frame:
            raise ValueError("render.optical_frame must not be empty")
        if self.camera_frame and self.target_frame:
            raise ValueError(f"render.camera_frame '{self.camera_frame}' and render.target_frame "
                             f"'{self.target_frame}': the camera rides a frame or follows one; "
                             "set one of them")
