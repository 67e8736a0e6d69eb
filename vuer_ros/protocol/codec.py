"""msgpack framing: one websocket binary frame holds one msgpack map.

Floats go out as float64 (the reference server sends float32, which puts a
robot 5 km from the map origin 0.5 mm off); bulk geometry travels as packed
float32 ``bin`` props instead, so the size cost stays small.

:func:`decode_client_event` turns one browser message into a validated
:class:`ClientEvent`, or a :class:`DecodeError` whose ``cause`` names the kind
of problem (the server logs each cause once, not each message).
"""

from __future__ import annotations

from typing import Any

import msgpack

from .events import ClientEvent

# A browser message larger than this is refused (frames from grabs are the big ones:
# 1920x1080 RGBA is 8 MiB, with depth 16 MiB).
MAX_CLIENT_MESSAGE = 64 * 1024 * 1024


class DecodeError(ValueError):
    """A browser message that is not one valid client event.

    ``cause`` is a short stable name for the kind of problem (``oversize``,
    ``text``, ``not-msgpack``, or the message itself for a malformed event)."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause if cause is not None else message


def _default(obj: Any) -> Any:
    to_wire = getattr(obj, "to_wire", None)
    if to_wire is not None:
        return to_wire()
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode(obj: Any) -> bytes:
    """Encode an event (an object with ``to_wire`` or a plain map)."""
    if hasattr(obj, "to_wire"):
        obj = obj.to_wire()
    packed: bytes = msgpack.packb(obj, use_bin_type=True, default=_default)
    return packed


def decode(data: bytes | bytearray | memoryview | str) -> Any:
    if isinstance(data, str):
        raise DecodeError("text frame; the protocol sends binary msgpack frames", cause="text")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as e:
        raise DecodeError(f"not a msgpack message: {e}", cause="not-msgpack") from e


def decode_client_event(message: bytes | str, max_bytes: int = MAX_CLIENT_MESSAGE) -> ClientEvent:
    """One browser message as a :class:`ClientEvent`; :class:`DecodeError` says what is wrong."""
    if isinstance(message, bytes) and len(message) > max_bytes:
        raise DecodeError(f"message of {len(message)} bytes is over the {max_bytes}-byte limit",
                          cause="oversize")
    payload = decode(message)
    try:
        return ClientEvent.from_wire(payload)
    except ValueError as e:
        raise DecodeError(str(e)) from e
