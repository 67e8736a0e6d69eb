"""ScenePlayer: the scene and the render camera at each tick of a sim clock.

The piece of bag rendering that sim-time playback can reuse (a node following
/clock ticks a :class:`~vuer_ros.bag.ticks.TickClock` the same way):

    player = ScenePlayer("map", settings, resolve_mesh=...)
    for each message up to tick t, in bag-time order:
        player.on_tf(msg, static) / player.on_marker(msg, t_msg) / player.on_marker_array(msg, t_msg)
    events, camera = player.tick(t)   # advance(t), drain_events(), the camera at t
    send the events, then grab from ``camera`` (None: no camera pose yet, no frame)

Messages are received at their bag time (lifetimes count from it). The camera
is the live node's (``RenderSettings.camera_mount``): a fixed camera at
eye/target, or ``render.camera_frame``'s latest TF composed with the mount,
as ``RenderLoop._camera`` computes it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..protocol.events import ServerEvent
from ..render.camera import RenderCamera, matrix_to_quat
from ..render.settings import RenderSettings
from ..scene import SceneModel, TfError
from ..scene.markers import MeshResolver
from ..scene.transform import Transform


class ScenePlayer:
    def __init__(self, fixed_frame: str, settings: RenderSettings, *,
                 resolve_mesh: MeshResolver | None = None, max_marker_points: int = 1_000_000,
                 grid: bool = True, logger: logging.Logger | None = None) -> None:
        self.settings = settings
        self.model = SceneModel(fixed_frame, resolve_mesh=resolve_mesh,
                                max_marker_points=max_marker_points, grid=grid,
                                logger=logger or logging.getLogger("vuer_ros.scene"))
        self.fixed_frame = self.model.fixed_frame
        parent, xyz, q = settings.camera_mount(self.fixed_frame)
        self.mount = (parent, tuple(float(v) for v in xyz), tuple(float(v) for v in q))
        self._mount_matrix = Transform(self.mount[1], self.mount[2]).matrix()  # type: ignore[arg-type]
        self._fixed_camera: RenderCamera | None = None
        if parent == self.fixed_frame:   # exactly the node's fixed camera
            self._fixed_camera = RenderCamera.look_at(
                settings.eye, settings.target, width=settings.width, height=settings.height,
                fov_y=settings.fov, near=settings.near, far=settings.far)

    # -- inputs (receive time = bag time) ---------------------------------------------------------
    def on_tf(self, msg: Any, static: bool = False) -> None:
        self.model.on_tf(msg, static)

    def on_marker(self, msg: Any, receive_ns: int) -> None:
        self.model.on_marker(msg, receive_ns)

    def on_marker_array(self, msg: Any, receive_ns: int) -> None:
        self.model.on_marker_array(msg, receive_ns)

    # -- a tick ------------------------------------------------------------------------------------
    def tick(self, t_ns: int) -> tuple[list[ServerEvent], RenderCamera | None]:
        """The events that bring a browser to the scene at ``t_ns``, and the camera then."""
        self.model.advance(t_ns)
        return self.model.drain_events(), self.camera()

    def camera(self) -> RenderCamera | None:
        """The render camera now; None while its frame has no transform to the fixed frame
        (reported once through the scene's problem log)."""
        if self._fixed_camera is not None:
            return self._fixed_camera
        parent = self.mount[0]
        subject = ("render-camera", parent)
        try:
            m = self.model.pose_in_fixed(parent) @ self._mount_matrix
        except TfError as e:
            self.model.problems.report(subject, "tf",
                                       f"render camera: no transform from '{parent}' to fixed frame "
                                       f"'{self.fixed_frame}' ({e}); no frames until it is known")
            return None
        self.model.problems.resolve(subject)
        return self._camera_at(m)

    def _camera_at(self, m: np.ndarray) -> RenderCamera:
        s = self.settings
        return RenderCamera(s.width, s.height, s.fov, s.near, s.far, m[:3, 3].copy(),
                            matrix_to_quat(m[:3, :3]))
