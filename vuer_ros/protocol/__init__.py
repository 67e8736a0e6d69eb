"""The Vuer wire protocol, sans I/O: elements, events, the msgpack codec, the
scene tree the server keeps and the RPC book each session keeps. Nothing here
touches sockets, event loops or ROS (the RPC book's deadlines are numbers on
its caller's clock)."""

from .codec import DecodeError, decode, decode_client_event, encode
from .errors import GrabError, RpcError
from .events import Add, ClientEvent, GrabRenderRequest, Remove, ServerEvent, ServerRPC, Set, Update, Upsert
from .rpc import Answered, GaveUp, Late, RpcBook, Unknown
from .scene_tree import SceneTree, SceneTreeError

__all__ = ["Add", "Answered", "ClientEvent", "DecodeError", "GaveUp", "GrabError", "GrabRenderRequest",
           "Late", "Remove", "RpcBook", "RpcError", "SceneTree", "SceneTreeError", "ServerEvent", "ServerRPC",
           "Set", "Unknown", "Update", "Upsert", "decode", "decode_client_event", "encode"]
