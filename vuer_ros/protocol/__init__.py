"""The Vuer wire protocol, sans I/O: elements, events, the msgpack codec and
the scene tree the server keeps. Nothing here touches sockets or ROS."""

from .codec import DecodeError, decode, encode
from .events import (Add, ClientEvent, GrabRenderRequest, Remove, ServerEvent, ServerRPC, Set, Update,
                     Upsert)
from .scene_tree import SceneTree, SceneTreeError

__all__ = ["Add", "ClientEvent", "DecodeError", "GrabRenderRequest", "Remove", "SceneTree",
           "SceneTreeError", "ServerEvent", "ServerRPC", "Set", "Update", "Upsert", "decode",
           "encode"]
