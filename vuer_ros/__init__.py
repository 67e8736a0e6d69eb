"""vuer_ros: ROS 2 TF/markers -> Vuer-protocol browser renderer -> sensor_msgs/Image.

The seed-compatible API: ``from vuer_ros import Vuer, VuerSession`` and
``from vuer_ros.schemas import DefaultScene, Box, ...`` (imported lazily, so
``import vuer_ros`` stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Vuer", "VuerSession", "__version__"]

if TYPE_CHECKING:
    from .render.vuer_app import Vuer
    from .server import VuerSession


def __getattr__(name: str) -> Any:
    if name == "Vuer":  # the app that can start its own headless renderer
        from .render.vuer_app import Vuer

        return Vuer
    if name == "VuerSession":
        from .server import VuerSession

        return VuerSession
    raise AttributeError(f"module 'vuer_ros' has no attribute {name!r}")
