"""The websocket + HTTP server: sessions, the shared scene, grab RPCs and
the vuer-compatible app API. Imports protocol only (never rclpy or render)."""

from .app import DEFAULT_HOST, DEFAULT_PORT, VuerServer
from .errors import GrabError, RpcError, ServerError, SessionClosed
from .frames import Frame
from .scene_ops import At, SceneOps
from .session import VuerSession
from .vuer import Vuer

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "At", "Frame", "GrabError", "RpcError",
           "SceneOps", "ServerError", "SessionClosed", "Vuer", "VuerServer", "VuerSession"]
