"""Serialized ROS messages (CDR bytes) -> objects read by field name, without rclpy.

Live subscriptions (``raw=True``) and bag records hand the viewer the same
bytes; these decoders serve both. Fast decoders for the busy types
(markers.py and marker_columns.py, tf.py, string.py: ROS 2 Jazzy's layouts) and rosbags' type system
for everything else (typestore.py)."""

from .marker_columns import ArrayDecoder, decode_marker_array
from .markers import decode_marker
from .messages import CdrError, UnsupportedEncoding
from .string import decode_string
from .tf import decode_tf
from .typestore import Decoder, StoreDecoder, distro_store, jazzy_store, same_layout, store_from_definition

__all__ = ["ArrayDecoder", "CdrError", "Decoder", "StoreDecoder", "UnsupportedEncoding",
           "decode_marker", "decode_marker_array", "decode_string", "decode_tf", "distro_store",
           "jazzy_store", "same_layout", "store_from_definition"]
