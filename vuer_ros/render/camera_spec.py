"""CameraSpec: one render camera as configured, for the live node and offline rendering
alike: its name and topics, size and intrinsics, its optical frame, and where it is.

Where it is, one of:
- fixed: at ``eye`` looking at ``target`` (fixed frame, +Z up in the image);
- riding ``camera_frame``: looking along its +X with +Z up (a REP 103 body frame), or
  along its +Z with ``camera_frame_is_optical``;
- following ``target_frame``'s origin (rviz's Orbit Target Frame): ``eye`` and
  ``target`` are offsets from it along the fixed frame's axes;
- on a ``path`` (render/camera_path.py): keyframes or an orbit in time.

The node's own camera (name ``""``, the render.* parameters) publishes on
``vuer/image``, ...; a listed camera ``front`` (vuer_ros/cameras.py) on
``vuer/front/image``, .... :meth:`CameraSpec.camera` is the camera at a time, given
a TF lookup (vuer_ros/view/player.py owns the lookup and reports what it lacks).
Frame names here are already normalised (tf2's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..params import CameraTopics
from ..scene.transform import Transform
from .camera import RenderCamera, matrix_to_quat, optical_look_at
from .camera_path import CameraPath

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Mount = tuple[str, Vec3, Quat]
"""(parent frame, xyz, quaternion xyzw) of an optical frame fixed on TF."""

# REP 103 body frame (x forward, z up) -> optical frame (z forward, x right, y down)
BODY_TO_OPTICAL = matrix_to_quat(np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]))

PoseLookup = Callable[[str, str], "np.ndarray | None"]
"""``(frame, what names it) -> its pose in the fixed frame (4x4)``; None while TF cannot say."""


@dataclass(frozen=True)
class CameraSpec:
    name: str = ""                       # "": the node's own camera (render.*)
    width: int = 640
    height: int = 480
    fov: float = 45.0                    # vertical, degrees
    near: float = 0.05
    far: float = 100.0
    camera_frame: str = ""
    camera_frame_is_optical: bool = False
    eye: Vec3 = (5.0, 5.0, 7.0711)
    target: Vec3 = (0.0, 0.0, 0.0)
    target_frame: str = ""
    path: CameraPath | None = None
    optical_frame: str = "vuer_camera_optical"

    @property
    def key(self) -> str:
        """The prefix of its parameters: ``render.`` or ``render.cameras.<name>.``."""
        return f"render.cameras.{self.name}." if self.name else "render."

    @property
    def path_key(self) -> str:
        return self.key + ("path" if self.name else "camera_path")

    @property
    def topics(self) -> CameraTopics:
        return CameraTopics.of(self.name)

    @property
    def label(self) -> str:
        """How messages name it."""
        return f"camera '{self.name}'" if self.name else "render camera"

    def lens(self) -> RenderCamera:
        """Its intrinsics (size, fov, clip range), at the origin."""
        return RenderCamera(self.width, self.height, self.fov, self.near, self.far)

    # -- on TF ---------------------------------------------------------------------------------------
    def tf_frames(self) -> dict[str, str]:
        """The TF frames it is placed by -> what names each (parameter, path key)."""
        if self.path is not None:
            return self.path.frames()
        if self.camera_frame:
            return {self.camera_frame: self.key + "camera_frame"}
        if self.target_frame:
            return {self.target_frame: self.key + "target_frame"}
        return {}

    def camera_mount(self, fixed_frame: str) -> Mount | None:
        """Where its optical frame hangs on TF for good (/tf_static). None when it moves in
        the fixed frame (following target_frame, or on a path): no fixed child of any
        frame says where it is, so its pose goes out with each image (on /tf, a child of
        the fixed frame at the image's stamp)."""
        if self.path is not None or (self.target_frame and not self.camera_frame):
            return None
        if self.camera_frame:
            q = (0.0, 0.0, 0.0, 1.0) if self.camera_frame_is_optical else _quat(BODY_TO_OPTICAL)
            return self.camera_frame, (0.0, 0.0, 0.0), q
        return fixed_frame, self.eye, _quat(optical_look_at(self.eye, self.target))

    def check(self) -> None:
        """ValueError naming the parameter when a value cannot work."""
        try:
            self.lens()
        except ValueError as e:
            raise ValueError(f"{self.label}: {e}") from None
        if not self.optical_frame:
            raise ValueError(f"{self.key}optical_frame must not be empty")
        placed = [f"{key} '{value}'" for key, value in (
            (self.key + "camera_frame", self.camera_frame),
            (self.key + "target_frame", self.target_frame),
            (self.path_key, self.path.source if self.path is not None else "")) if value]
        if len(placed) > 1:
            raise ValueError(f"{placed[0]} and {placed[1]}: the camera rides a frame, follows "
                             "one or runs a path; set one of them")
        if not self.camera_frame and self.path is None:
            try:
                optical_look_at(self.eye, self.target)
            except ValueError as e:
                raise ValueError(f"{self.key}eye/{self.key}target: {e}") from None

    # -- at a time -----------------------------------------------------------------------------------
    def camera(self, path_t_s: float, pose: PoseLookup) -> RenderCamera | None:
        """The camera ``path_t_s`` seconds after its path's start (only a path reads the
        time), by the TF ``pose`` gives; None while a frame it needs has none. A path
        whose eye meets its target raises ValueError."""
        if self.path is not None:
            def origin(frame: str, what: str) -> np.ndarray | None:
                m = pose(frame, what)
                return None if m is None else m[:3, 3]
            view = self.path.view(path_t_s, origin, self.fov)
            if view is None:
                return None
            return RenderCamera(self.width, self.height, view.fov, self.near, self.far, view.eye,
                                optical_look_at(view.eye.tolist(), view.target.tolist()))
        if self.camera_frame:
            mount = self.camera_mount("")
            assert mount is not None
            _, xyz, q = mount
            parent = pose(self.camera_frame, self.key + "camera_frame")
            if parent is None:
                return None
            m = parent @ Transform(xyz, q).matrix()
            return RenderCamera(self.width, self.height, self.fov, self.near, self.far,
                                np.array(m[:3, 3]), matrix_to_quat(m[:3, :3]))
        eye = np.asarray(self.eye, float)
        if self.target_frame:
            frame = pose(self.target_frame, self.key + "target_frame")
            if frame is None:
                return None
            eye = eye + frame[:3, 3]
        return RenderCamera(self.width, self.height, self.fov, self.near, self.far, eye,
                            optical_look_at(self.eye, self.target))


def _quat(q: np.ndarray) -> Quat:
    x, y, z, w = (float(v) for v in q)
    return (x, y, z, w)
