"""RenderSettings: the render.* parameters of the viewer node, as plain data.

Built from the node's parameters by vuer_ros/view/options.py, for the live
node and offline rendering alike, so both place and size the cameras the same
way. Frame names here are already normalised (tf2's rule, at that boundary).

The single-camera parameters (render.width, ..., render.camera_path) are the node's
own camera (:attr:`RenderSettings.camera`, topics ``vuer/image``, ...). Cameras listed
under render.cameras / render.cameras_file (vuer_ros/cameras.py) replace it: then
:attr:`RenderSettings.camera_specs` are those, each with its own topics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .camera_path import CameraPath
from .camera_spec import BODY_TO_OPTICAL, CameraSpec, Mount

__all__ = ["BODY_TO_OPTICAL", "RenderSettings"]


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
    camera_path: CameraPath | None = None
    cameras: tuple[CameraSpec, ...] = ()     # listed cameras (vuer_ros/cameras.py)

    @property
    def camera(self) -> CameraSpec:
        """The node's own camera, as the single-camera parameters say."""
        return CameraSpec("", self.width, self.height, self.fov, self.near, self.far,
                          self.camera_frame, self.camera_frame_is_optical, self.eye, self.target,
                          self.target_frame, self.camera_path, self.optical_frame)

    @property
    def camera_specs(self) -> tuple[CameraSpec, ...]:
        """The cameras rendered each tick: the listed ones, else the node's own."""
        return self.cameras or (self.camera,)

    def camera_parent(self, fixed_frame: str) -> str:
        """The frame whose TF places the node's own camera: render.camera_frame (riding
        it), render.target_frame (following its origin) or the fixed frame."""
        return self.camera_frame or self.target_frame or fixed_frame

    def camera_mount(self, fixed_frame: str) -> Mount | None:
        """Where the node's own camera's optical frame hangs on TF for good
        (:meth:`CameraSpec.camera_mount`)."""
        return self.camera.camera_mount(fixed_frame)

    def check(self) -> None:
        """ValueError with the parameter's name when a value cannot work."""
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"render.rate {self.rate}: must be a positive number of Hz")
        for spec in self.camera_specs:
            spec.check()
        optical: dict[str, str] = {}
        for spec in self.camera_specs:
            other = optical.setdefault(spec.optical_frame, spec.name)
            if other != spec.name:
                raise ValueError(f"cameras '{other}' and '{spec.name}' have the same optical "
                                 f"frame '{spec.optical_frame}'; give each its own optical_frame")
