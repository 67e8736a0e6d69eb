"""ViewOptions: the viewer node's parameters as the core uses them, live and offline;
RenderOptions: an offline render's (the node's options plus a window and topics).

The node (vuer_ros/ros/viewer_node.py) reads its ROS parameters, offline
rendering reads the node's parameter file (vuer_ros/config.py); both hand the
flat ``{name: value}`` map to :meth:`ViewOptions.from_params`, so a bag renders
with exactly the settings the live node runs with. tf2's frame-id rule
(vuer_ros/scene/frame_id.py) is applied once: the fixed and camera frames as the
scene takes them in, the optical frame (which only goes out) here.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from ..cameras import listed_cameras, read_path
from ..config import ConfigError, read_params_file, viewer_params
from ..displays import AUTO, DisplayConfig, display_configs
from ..render.settings import RenderSettings
from ..scene.frame_id import frame_id
from ..server.access import check_token


def settings_from_params(params: Mapping[str, Any], *, headless: bool | None = None,
                         lazy: bool | None = None) -> RenderSettings:
    """The render.* parameters as :class:`RenderSettings` (``headless``/``lazy``
    override the parameters: offline rendering is always headless and eager).
    Raises :class:`ConfigError` naming the parameter when a value cannot work."""
    try:
        for name in ("render.eye", "render.target"):
            v = list(params[name])
            if len(v) != 3 or not all(math.isfinite(float(x)) for x in v):
                raise ValueError(f"{name} must be 3 finite numbers [x, y, z], got {v}")
        path = str(params.get("render.camera_path", "") or "").strip()
        settings = RenderSettings(
            rate=float(params["render.rate"]), width=int(params["render.width"]),
            height=int(params["render.height"]), fov=float(params["render.fov"]),
            near=float(params["render.near"]), far=float(params["render.far"]),
            camera_frame=str(params["render.camera_frame"]),
            camera_frame_is_optical=bool(params["render.camera_frame_is_optical"]),
            eye=_vec3(params["render.eye"]), target=_vec3(params["render.target"]),
            target_frame=frame_id(str(params["render.target_frame"]).strip()),
            optical_frame=frame_id(str(params["render.optical_frame"])),
            headless=bool(params["render.headless"]) if headless is None else headless,
            depth=bool(params["render.depth"]), jpeg_quality=int(params["render.jpeg_quality"]),
            lazy=bool(params["render.lazy"]) if lazy is None else lazy,
            grab_timeout=float(params["render.grab_timeout"]),
            camera_path=read_path(path, "render.camera_path") if path else None)
        settings = replace(settings, cameras=listed_cameras(params, settings.camera))
        settings.check()
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None
    return settings


def _vec3(values: Any) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


@dataclass(frozen=True)
class ViewOptions:
    """Everything the core needs from the node's parameters (params.py says what each means)."""

    fixed_frame: str
    settings: RenderSettings
    marker_topics: tuple[str, ...] = ("/visualization_marker",)
    marker_array_topics: tuple[str, ...] = ("/visualization_marker_array",)
    robot_description_topic: str = "/robot_description"
    robot_description_file: str = ""
    mesh_roots: tuple[str, ...] = ()
    max_marker_points: int = 1_000_000
    grid: bool = True
    marker_lists: bool = True                    # simple markers as MarkerLists
    scene_rate: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8012
    token: str = ""                              # "" : random per start off loopback
    tls_cert: str = ""
    tls_key: str = ""
    displays: tuple[DisplayConfig, ...] = ()     # listed under displays.<name> (displays.py)
    auto_displays: bool = True                   # displays.auto

    @property
    def hidden_topics(self) -> frozenset[str]:
        """Topics of displays listed with ``enabled: false``: never shown."""
        return frozenset(d.topic for d in self.displays if not d.enabled and d.topic)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, headless: bool | None = None,
                    lazy: bool | None = None) -> "ViewOptions":
        """From a full parameter map (``config.viewer_params``, or the node's own)."""
        fixed = str(params["fixed_frame"])
        if not frame_id(fixed):
            raise ConfigError("fixed_frame must not be empty")
        return cls(fixed_frame=fixed,
                   settings=settings_from_params(params, headless=headless, lazy=lazy),
                   marker_topics=_unique(params["marker_topics"]),
                   marker_array_topics=_unique(params["marker_array_topics"]),
                   robot_description_topic=str(params["robot_description_topic"]).strip(),
                   robot_description_file=str(params["robot_description_file"]).strip(),
                   mesh_roots=tuple(str(r) for r in params["mesh_roots"]),
                   max_marker_points=int(params["max_marker_points"]),
                   grid=bool(params["grid"]), marker_lists=bool(params["marker_lists"]),
                   scene_rate=max(float(params["scene_rate"]), 1.0),
                   host=str(params["host"]).strip(), port=int(params["port"]),
                   **_access_params(params),
                   displays=tuple(display_configs(params)),
                   auto_displays=bool(params.get(AUTO, True)))


def _access_params(params: Mapping[str, Any]) -> dict[str, str]:
    """token, tls.cert and tls.key, checked: a bad one stops the start with its name."""
    token = str(params.get("token", "")).strip()
    if token:
        try:
            check_token(token)
        except ValueError as e:
            raise ConfigError(str(e)) from None
    cert, key = (str(params.get(name, "")).strip() for name in ("tls.cert", "tls.key"))
    if bool(cert) != bool(key):
        given, missing = ("tls.cert", "tls.key") if cert else ("tls.key", "tls.cert")
        raise ConfigError(f"{given} is set but {missing} is empty: give both PEM files, or neither "
                          "(off loopback a self-signed certificate is made)")
    for name, path in (("tls.cert", cert), ("tls.key", key)):
        if path and not os.access(os.path.expanduser(path), os.R_OK):
            raise ConfigError(f"{name}: {path!r} does not exist or is not readable")
    return {"token": token, "tls_cert": cert, "tls_key": key}


def _unique(topics: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(t).strip() for t in topics if str(t).strip()))


# A grab may take longer offline than live (first mesh loads, big scenes); it is
# retried, never dropped, so the wait only decides when a stuck browser is restarted.
MIN_OFFLINE_GRAB_TIMEOUT_S = 10.0


def absolute_topic(name: str) -> str:
    """A recording's topics are absolute: a relative name is taken from the root namespace."""
    name = name.strip()
    return name if name.startswith("/") else "/" + name


@dataclass(frozen=True)
class RenderOptions:
    """An offline render: the node's options (``view``) plus what only a recording has:
    explicit topics, a time window, the output bag's storage."""

    view: ViewOptions
    topics: tuple[str, ...] | None = None     # explicit marker topics: all must be in the recording
    topics_from_config: bool = False          # the marker lists came from a parameter file
    start: float | None = None                # seconds from the recording's first message
    end: float | None = None
    storage: str | None = None                # "sqlite3" / "mcap" for a folder output bag

    @property
    def settings(self) -> RenderSettings:
        return self.view.settings

    @property
    def fixed_frame(self) -> str:
        return self.view.fixed_frame

    @property
    def marker_topics(self) -> tuple[str, ...]:
        return tuple(absolute_topic(t) for t in self.view.marker_topics)

    @property
    def marker_array_topics(self) -> tuple[str, ...]:
        return tuple(absolute_topic(t) for t in self.view.marker_array_topics)

    @property
    def urdf(self) -> str:
        """A URDF file shown instead of the recording's robot description ('' for none)."""
        return self.view.robot_description_file

    @property
    def grab_timeout(self) -> float:
        return max(self.settings.grab_timeout, MIN_OFFLINE_GRAB_TIMEOUT_S)

    @classmethod
    def create(cls, config: str | os.PathLike[str] | None = None,
               params: Mapping[str, Any] | None = None, *,
               rate: float | None = None, width: int | None = None, height: int | None = None,
               fov: float | None = None, fixed_frame: str | None = None,
               camera_frame: str | None = None, camera_frame_is_optical: bool | None = None,
               eye: Sequence[float] | None = None, target: Sequence[float] | None = None,
               target_frame: str | None = None, camera_path: str | None = None,
               cameras_file: str | None = None,
               topics: Sequence[str] | None = None, depth: bool | None = None,
               jpeg_quality: int | None = None, start: float | None = None,
               end: float | None = None, storage: str | None = None,
               urdf: str | None = None) -> "RenderOptions":
        """Options from the node's defaults, a parameter file ``config``, then ``params``
        (node parameter names, e.g. ``{"render.near": 0.1}``), then the keyword
        arguments (the command line's flags). ``eye``/``target``/``target_frame`` select
        the fixed camera (clearing a configured ``render.camera_frame``); ``camera_frame``
        clears a configured ``render.target_frame``; any of them clears a configured
        ``render.camera_path``, and ``camera_path`` (a path file) clears both frames.
        ``cameras_file``: a file listing cameras (vuer_ros/cameras.py)."""
        overrides: dict[str, Any] = dict(params or {})
        flags = {"render.rate": rate, "render.width": width, "render.height": height,
                 "render.fov": fov, "fixed_frame": fixed_frame,
                 "render.camera_frame_is_optical": camera_frame_is_optical,
                 "render.depth": depth, "render.jpeg_quality": jpeg_quality,
                 "robot_description_file": urdf}
        overrides.update({k: v for k, v in flags.items() if v is not None})
        if camera_frame is not None and (eye is not None or target is not None
                                         or target_frame is not None):
            raise ConfigError("give either a camera frame (--camera-frame) or a fixed camera "
                              "(--eye/--target/--target-frame), not both")
        if camera_path is not None and (camera_frame is not None or eye is not None
                                        or target is not None or target_frame is not None):
            raise ConfigError("give either a camera path (--camera-path) or a camera placed by "
                              "--camera-frame, --eye/--target or --target-frame, not both")
        if camera_path is not None and cameras_file is not None:
            raise ConfigError("--camera-path places the single camera, which --cameras replaces: "
                              "give each listed camera its own path (its `path` key)")
        if camera_frame is not None:
            overrides["render.camera_frame"] = camera_frame
            overrides["render.target_frame"] = ""
        if target_frame is not None:
            overrides["render.target_frame"] = target_frame
        if eye is not None or target is not None or target_frame is not None:
            overrides["render.camera_frame"] = ""
            if eye is not None:
                overrides["render.eye"] = [float(v) for v in eye]
            if target is not None:
                overrides["render.target"] = [float(v) for v in target]
        if camera_path is not None:
            overrides.update({"render.camera_path": camera_path, "render.camera_frame": "",
                              "render.target_frame": ""})
        elif camera_frame is not None or eye is not None or target is not None \
                or target_frame is not None:
            overrides["render.camera_path"] = ""
        if cameras_file is not None:
            overrides["render.cameras_file"] = cameras_file
        values, unknown = viewer_params(config, overrides)
        if unknown:
            logging.getLogger("vuer_ros.bag").warning(
                "%s sets parameters the viewer does not have (ignored): %s", config,
                ", ".join(sorted(unknown)))
        from_config = False
        if config is not None:
            file_values, _ = read_params_file(config)
            from_config = "marker_topics" in file_values or "marker_array_topics" in file_values
        if start is not None and start < 0:
            raise ConfigError(f"--start {start}: must be >= 0 (seconds from the bag's start)")
        if end is not None and end <= (start or 0.0):
            raise ConfigError(f"--end {end}: must be after --start ({start or 0.0})")
        if storage is not None and storage not in ("sqlite3", "mcap"):
            raise ConfigError(f"storage {storage!r}: use sqlite3 or mcap")
        view = ViewOptions.from_params(values, headless=True, lazy=False)
        return cls(view, topics=tuple(absolute_topic(t) for t in topics) if topics else None,
                   topics_from_config=from_config, start=start, end=end, storage=storage)
