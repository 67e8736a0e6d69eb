"""decode_client_event: one browser message to a ClientEvent, or a DecodeError
whose cause names the kind of problem (one log line per cause)."""

from __future__ import annotations

import msgpack
import pytest

from vuer_ros.protocol import ClientEvent, DecodeError, decode_client_event, encode


def pack(obj: object) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def test_a_client_event_round_trips():
    event = decode_client_event(pack({"ts": 5, "etype": "CAMERA_MOVE", "key": "cam", "value": {"fov": 50}}))
    assert event == ClientEvent("CAMERA_MOVE", {"fov": 50}, key="cam", ts=5)
    assert decode_client_event(encode({"etype": "INIT"})).etype == "INIT"


@pytest.mark.parametrize("message, cause, text", [
    (b"\xc1 not msgpack", "not-msgpack", "not a msgpack message"),
    ("a text frame", "text", "text frame"),
    (b"\x00" * 1001, "oversize", "1001 bytes is over the 1000-byte limit"),
    (pack([1, 2, 3]), "client message is a list, expected a map", "is a list"),
    (pack({"value": "no etype"}), "client message has no string 'etype'", "no string 'etype'"),
    (pack({"etype": "X", "ts": "yesterday"}), "client event X: 'ts' is a str", "'ts' is a str"),
])
def test_bad_messages_say_what_is_wrong_and_name_a_cause(message, cause, text):
    with pytest.raises(DecodeError, match=text) as raised:
        decode_client_event(message, max_bytes=1000)
    assert raised.value.cause == cause
    assert isinstance(raised.value, ValueError)


def test_the_size_limit_is_inclusive():
    message = pack({"etype": "X", "value": b"\0" * 100})
    assert decode_client_event(message, max_bytes=len(message)).etype == "X"
    with pytest.raises(DecodeError):
        decode_client_event(message, max_bytes=len(message) - 1)
