"""Decoding any ROS 2 message type from CDR through rosbags' type system.

The fast decoders (markers.py, tf.py, string.py) read one layout: ROS 2 Jazzy's.
Everything else decodes here: types without a fast decoder, and recorded
messages whose definition differs from Jazzy's (an older Marker, a custom
type), from the definition the bag carries. The decoded objects expose the
message's field names, like rclpy's, so the scene model reads both alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Protocol

from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from .messages import CdrError, endianness
from .occupancy import UPDATE_DEFINITION, UPDATE_MSGTYPE

_IDL_SEPARATOR = "=" * 80 + "\n"
_DIRECTIVE = re.compile(r"^[ \t]*#[^\n]*$", re.MULTILINE)


class Decoder(Protocol):
    """One topic's decoder: serialized CDR bytes -> a message read by field name."""

    def decode(self, buf: bytes) -> Any: ...


@lru_cache(maxsize=None)
def jazzy_store() -> Typestore:
    """The definitions the fast decoders were written for (and live topics use): rosbags'
    Jazzy store, plus map_msgs/OccupancyGridUpdate (map_msgs is not in it)."""
    store = get_typestore(Stores.ROS2_JAZZY)
    if UPDATE_MSGTYPE not in store.fielddefs:
        store.register(get_types_from_msg(UPDATE_DEFINITION, UPDATE_MSGTYPE))
    return store


def distro_store(ros_distro: str | None) -> Typestore:
    """The store for a recording without message definitions (Humble, else Jazzy)."""
    if (ros_distro or "").lower() == "humble":
        return get_typestore(Stores.ROS2_HUMBLE)
    return jazzy_store()


def store_from_definition(msgtype: str, text: str, idl: bool) -> Typestore:
    """A typestore holding ``msgtype`` and its dependencies from a recorded definition:
    ``.msg`` text (with ``====`` separated dependencies, as rosbag2 and MCAP's
    ros2msg store it) or IDL (one document, or ``IDL: <name>`` sections)."""
    store = get_typestore(Stores.EMPTY)
    if not idl:
        store.register(get_types_from_msg(text, msgtype))
    elif text.startswith(f"{_IDL_SEPARATOR}IDL: "):
        for part in text.split(_IDL_SEPARATOR)[1:]:
            _, body = part.split("\n", 1)
            store.register(get_types_from_idl(_without_directives(body)))
    else:
        store.register(get_types_from_idl(_without_directives(text)))
    store.get_msgdef(msgtype)   # KeyError/TypesysError now, not at the first message
    return store


def _without_directives(idl: str) -> str:
    """IDL without its preprocessor lines: rosidl's ``.idl`` files start with ``#include``s
    of their dependencies, which rosbags' parser does not take; the recording holds those
    dependencies' definitions anyway."""
    return _DIRECTIVE.sub("", idl)


def same_layout(store: Typestore, msgtype: str) -> bool:
    """Whether ``store``'s ``msgtype`` serializes exactly as Jazzy's (same RIHS01 hash)."""
    if store is jazzy_store():
        return True
    jazzy = jazzy_store()
    if msgtype not in jazzy.fielddefs:
        return False
    return _hash(store, msgtype) == _hash(jazzy, msgtype)


@lru_cache(maxsize=1024)
def _hash(store: Typestore, msgtype: str) -> str:
    return str(store.hash_rihs01(msgtype))


class StoreDecoder:
    """Decodes one type with a typestore (rosbags' generated deserializer)."""

    def __init__(self, store: Typestore, msgtype: str) -> None:
        self.store, self.msgtype = store, msgtype

    def decode(self, buf: bytes) -> Any:
        endianness(buf)   # UnsupportedEncoding for XCDR2 and other encodings
        try:
            return self.store.deserialize_cdr(buf, self.msgtype)
        except Exception as e:   # rosbags raises struct/index/value errors on bad bytes
            raise CdrError(f"cannot decode {len(buf)} bytes as {self.msgtype}: "
                           f"{type(e).__name__}: {e}") from None
