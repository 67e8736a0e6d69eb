"""rclpy message classes by ROS type name, and rclpy messages from the core's field values.

The core says what to publish as :class:`~vuer_ros.view.image_fields.Fields`
(a type name and field values); this edge only constructs the rclpy message.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
from rclpy.serialization import deserialize_message

from ..view.image_fields import Fields


@lru_cache(maxsize=None)
def message_class(msgtype: str) -> Any:
    """``sensor_msgs/msg/Image`` -> the rclpy class (ImportError/AttributeError if absent)."""
    package, kind, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def layout_matches(msgtype: str, layout: Mapping[str, str] | None) -> bool:
    """Whether the installed rclpy class of ``msgtype`` has exactly ``layout``'s fields
    (the layout a fast CDR decoder reads); True when no layout is asked for."""
    if layout is None:
        return True
    try:
        return dict(message_class(msgtype).get_fields_and_field_types()) == dict(layout)
    except Exception:
        return False


def to_rclpy(fields: Fields) -> Any:
    """The rclpy message with these field values (nested Fields recursively)."""
    msg = message_class(fields.type)()
    for name, value in fields.values.items():
        setattr(msg, name, _value(value))
    return msg


def _value(value: Any) -> Any:
    if isinstance(value, Fields):
        return to_rclpy(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, np.ndarray):
        # uint8[] takes bytes (one copy, fast); other arrays take lists
        return value.tobytes() if value.dtype == np.uint8 else value.tolist()
    return value


def deserialize(msgtype: str, raw: bytes) -> Any:
    """rclpy's own deserialisation (the middleware's: any CDR encoding it reads)."""
    return deserialize_message(raw, message_class(msgtype))
