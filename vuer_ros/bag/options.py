"""RenderOptions: how to render a bag, from the viewer node's parameters.

The node's parameter table (defaults), the node's parameter file
(``--config``) and the command line's flags, in that order, give the same
values the live node would run with; ``settings`` is the node's own
:class:`RenderSettings` (camera size, fov, clip range, camera mount, JPEG
quality, depth), built exactly as ``ViewerNode._settings_from_params`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..config import ConfigError, viewer_params
from ..render.settings import RenderSettings

# A grab may take longer offline than live (first mesh loads, big scenes); it is
# retried, never dropped, so the wait only decides when a stuck browser is restarted.
MIN_OFFLINE_GRAB_TIMEOUT_S = 10.0


def settings_from_params(params: Mapping[str, Any]) -> RenderSettings:
    """The node's RenderSettings for a full parameter dict (``config.viewer_params``)."""
    settings = RenderSettings(
        rate=float(params["render.rate"]), width=int(params["render.width"]),
        height=int(params["render.height"]), fov=float(params["render.fov"]),
        near=float(params["render.near"]), far=float(params["render.far"]),
        camera_frame=str(params["render.camera_frame"]).lstrip("/"),
        camera_frame_is_optical=bool(params["render.camera_frame_is_optical"]),
        eye=tuple(float(x) for x in params["render.eye"]),  # type: ignore[arg-type]
        target=tuple(float(x) for x in params["render.target"]),  # type: ignore[arg-type]
        optical_frame=str(params["render.optical_frame"]).strip("/"),
        headless=True, depth=bool(params["render.depth"]),
        jpeg_quality=int(params["render.jpeg_quality"]), lazy=False,
        grab_timeout=float(params["render.grab_timeout"]))
    try:
        settings.check()
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return settings


def _topic(name: str) -> str:
    name = name.strip()
    return name if name.startswith("/") else "/" + name


@dataclass(frozen=True)
class RenderOptions:
    """Everything a bag render needs besides its input and outputs."""

    settings: RenderSettings
    fixed_frame: str
    marker_topics: tuple[str, ...]
    marker_array_topics: tuple[str, ...]
    topics: tuple[str, ...] | None = None     # explicit marker topics: all must be in the bag
    topics_from_config: bool = False          # the marker lists came from a parameter file
    mesh_roots: tuple[str, ...] = ()
    robot_description_topic: str = "/robot_description"
    urdf: str = ""                            # a URDF file shown instead of the bag's description
    max_marker_points: int = 1_000_000
    grid: bool = True
    start: float | None = None                # seconds from the bag's first message
    end: float | None = None
    storage: str | None = None                # "sqlite3" / "mcap" for a folder output

    @property
    def grab_timeout(self) -> float:
        return max(self.settings.grab_timeout, MIN_OFFLINE_GRAB_TIMEOUT_S)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], **kw: Any) -> "RenderOptions":
        fixed = str(params["fixed_frame"]).strip("/")
        if not fixed:
            raise ConfigError("fixed_frame must not be empty")
        return cls(settings=settings_from_params(params), fixed_frame=fixed,
                   marker_topics=tuple(_topic(t) for t in params["marker_topics"]),
                   marker_array_topics=tuple(_topic(t) for t in params["marker_array_topics"]),
                   mesh_roots=tuple(params["mesh_roots"]),
                   robot_description_topic=_topic(params["robot_description_topic"]),
                   urdf=str(params["robot_description_file"]),
                   max_marker_points=int(params["max_marker_points"]),
                   grid=bool(params["grid"]), **kw)

    @classmethod
    def create(cls, config: str | os.PathLike[str] | None = None,
               params: Mapping[str, Any] | None = None, *,
               rate: float | None = None, width: int | None = None, height: int | None = None,
               fov: float | None = None, fixed_frame: str | None = None,
               camera_frame: str | None = None, camera_frame_is_optical: bool | None = None,
               eye: Sequence[float] | None = None, target: Sequence[float] | None = None,
               topics: Sequence[str] | None = None, depth: bool | None = None,
               jpeg_quality: int | None = None, start: float | None = None,
               end: float | None = None, storage: str | None = None,
               urdf: str | None = None) -> "RenderOptions":
        """Options from the node's defaults, a parameter file ``config``, then ``params``
        (node parameter names, e.g. ``{"render.near": 0.1}``), then the keyword
        arguments (the command line's flags). ``eye``/``target`` select the fixed
        camera (clearing a configured ``render.camera_frame``)."""
        overrides: dict[str, Any] = dict(params or {})
        flags = {"render.rate": rate, "render.width": width, "render.height": height,
                 "render.fov": fov, "fixed_frame": fixed_frame,
                 "render.camera_frame_is_optical": camera_frame_is_optical,
                 "render.depth": depth, "render.jpeg_quality": jpeg_quality,
                 "robot_description_file": urdf}
        overrides.update({k: v for k, v in flags.items() if v is not None})
        if camera_frame is not None and (eye is not None or target is not None):
            raise ConfigError("give either a camera frame (--camera-frame) or a fixed camera "
                              "(--eye/--target), not both")
        if camera_frame is not None:
            overrides["render.camera_frame"] = camera_frame
        if eye is not None or target is not None:
            overrides["render.camera_frame"] = ""
            if eye is not None:
                overrides["render.eye"] = [float(v) for v in eye]
            if target is not None:
                overrides["render.target"] = [float(v) for v in target]
        values, unknown = viewer_params(config, overrides)
        if unknown:
            import logging
            logging.getLogger("vuer_ros.bag").warning(
                "%s sets parameters the viewer does not have (ignored): %s", config,
                ", ".join(sorted(unknown)))
        from_config = False
        if config is not None:
            from ..config import read_params_file
            file_values, _ = read_params_file(config)
            from_config = "marker_topics" in file_values or "marker_array_topics" in file_values
        if start is not None and start < 0:
            raise ConfigError(f"--start {start}: must be >= 0 (seconds from the bag's start)")
        if end is not None and end <= (start or 0.0):
            raise ConfigError(f"--end {end}: must be after --start ({start or 0.0})")
        if storage is not None and storage not in ("sqlite3", "mcap"):
            raise ConfigError(f"storage {storage!r}: use sqlite3 or mcap")
        return cls.from_params(values, topics=tuple(_topic(t) for t in topics) if topics else None,
                               topics_from_config=from_config, start=start, end=end,
                               storage=storage)
