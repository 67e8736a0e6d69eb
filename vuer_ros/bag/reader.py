"""BagInput: one ROS 2 recording (a rosbag2 folder of sqlite3 or mcap files, a
bare .db3 file, or an MCAP file from any writer) read as a time-ordered
stream, with each message type decoded by the recording's own definitions.

- Storage: rosbags reads what ``ros2 bag`` writes (folders, .db3, ``ros2``-profile
  .mcap). An MCAP file rosbags refuses (another writer's profile, such as the
  Foxglove SDK's empty one, or channels rosbags cannot describe) is read by
  :class:`~vuer_ros.bag.mcap_file.McapFile` (the ``mcap`` package): its ``cdr``
  channels with ``ros2msg``/``ros2idl`` schemas, whatever the profile; every
  other channel, and one whose schema does not parse, is skipped with one log
  line naming its topic.
- Streaming: ``messages()`` yields ``(connection, bag time ns, raw bytes)`` in
  bag-time order (log time for MCAP) one chunk / one query page at a time, so
  memory does not grow with the bag's length.
- Types: a connection whose definition the bag carries (Iron and later, and
  every MCAP file) is decoded with a typestore built from that definition, so
  a Galactic and a Jazzy ``Marker``, and types no ROS distro has, all decode; a
  bag without definitions (Humble sqlite3) falls back to the store of its
  ``ros_distro`` (Humble, else Jazzy). Messages are only decoded for the topics
  the renderer uses; everything else stays raw bytes for the copy into the
  output bag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Collection, Iterator

from rosbags.interfaces import Connection, MessageDefinitionFormat
from rosbags.rosbag2 import Reader
from rosbags.typesys.store import Typestore

from ..cdr.typestore import distro_store, store_from_definition
from .errors import BagReadError
from .mcap_file import McapFile, is_mcap

logger = logging.getLogger("vuer_ros.bag")

class BagInput:
    """An open ROS 2 bag. ``BagReadError`` (one line, what to do) when it is not one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagReadError(f"input bag {self.path} does not exist; give a ROS 2 bag (a folder "
                               "with metadata.yaml, a .db3 file, or an MCAP file)")
        if self.path.suffix == ".bag":
            raise BagReadError(f"{self.path} is a ROS 1 bag; convert it to ROS 2 first "
                               f"(rosbags-convert --src {self.path} --dst {self.path.stem})")
        self.reader: Reader | McapFile = self._open()
        self._default_store: Typestore | None = None
        self._stores: dict[tuple[str, Any, str], Typestore] = {}
        try:
            self.connections: list[Connection] = list(self.reader.connections)
            count = self.reader.message_count
            if isinstance(self.reader, McapFile):
                self.connections = [c for c in self.connections if self._schema_parses(c)]
                count = sum(c.msgcount for c in self.connections)
            if not count:
                raise BagReadError(f"bag {self.path} holds no messages{self._skipped_note()}; "
                                   "nothing to render")
            self.message_count = int(count)
            self.start_ns = int(self.reader.start_time)
            self.end_ns = int(self.reader.end_time) - 1    # the last message's bag time
            self.ros_distro = self.reader.ros_distro
        except BaseException:
            self.close()
            raise

    def _open(self) -> Reader | McapFile:
        """rosbags' reader; for an MCAP file it refuses, :class:`McapFile`."""
        try:
            reader = Reader(self.path)
            reader.open()
            return reader
        except Exception as e:  # rosbags raises ReaderError, but also KeyError/OSError/sqlite errors
            error = e
        if is_mcap(self.path):
            try:
                return McapFile(self.path)
            except Exception as e:
                error = e
        raise BagReadError(
            f"cannot read bag {self.path}: {_one_line(error)}; give a ROS 2 bag (a folder with "
            "metadata.yaml, a .db3 file, or an MCAP file) that `ros2 bag info` or Foxglove can "
            "open") from None

    def _schema_parses(self, connection: Connection) -> bool:
        """Whether an MCAP channel's embedded schema describes its type (logged once if not)."""
        fmt, text = connection.msgdef.format, connection.msgdef.data
        try:
            store = store_from_definition(connection.msgtype, text,
                                          idl=fmt == MessageDefinitionFormat.IDL)
        except Exception as e:
            assert isinstance(self.reader, McapFile)
            if connection.topic not in self.reader.skipped:
                schema = "ros2idl" if fmt == MessageDefinitionFormat.IDL else "ros2msg"
                self.reader.skipped[connection.topic] = f"its {schema} schema does not parse"
                why = f"it does not define {e.args[0]}" if isinstance(e, KeyError) else _one_line(e)
                logger.warning("%s: skipped, its %s schema of %s does not parse (%s)",
                               connection.topic, schema, connection.msgtype, why)
            return False
        self._stores[(connection.msgtype, fmt, text)] = store
        return True

    def _skipped_note(self) -> str:
        skipped = self.reader.skipped if isinstance(self.reader, McapFile) else {}
        if not skipped:
            return ""
        return " it can read (skipped: " + "; ".join(f"{t}: {why}" for t, why in skipped.items()) + ")"

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        reader = getattr(self, "reader", None)
        if reader is not None and reader.is_open:
            reader.close()

    def __enter__(self) -> "BagInput":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is in it -----------------------------------------------------------------------
    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    def topic_types(self) -> dict[str, str]:
        """topic -> message type (the first connection's, for a topic with several)."""
        out: dict[str, str] = {}
        for c in self.connections:
            out.setdefault(c.topic, c.msgtype)
        return out

    def connections_of(self, topic: str) -> list[Connection]:
        return [c for c in self.connections if c.topic == topic]

    # -- reading --------------------------------------------------------------------------------
    def messages(self, connections: Collection[Connection] = (), stop_ns: int | None = None
                 ) -> Iterator[tuple[Connection, int, bytes]]:
        """``(connection, bag time, raw)`` in bag-time order; all connections when
        none are given; messages before ``stop_ns`` (exclusive) when given."""
        if not connections:
            connections = self.connections
        try:
            yield from self.reader.messages(connections=list(connections), stop=stop_ns)
        except BagReadError:
            raise
        except Exception as e:
            raise BagReadError(f"bag {self.path} is damaged: {_one_line(e)}; check it with "
                               "`ros2 bag info`, or render a part before the damage with --end") from None

    def typestore_for(self, connection: Connection) -> Typestore:
        """The typestore that decodes ``connection`` (its own definition if the bag has it)."""
        fmt, text = connection.msgdef.format, connection.msgdef.data
        if fmt == MessageDefinitionFormat.NONE or not text:
            return self.default_store
        key = (connection.msgtype, fmt, text)
        store = self._stores.get(key)
        if store is None:
            try:
                store = store_from_definition(connection.msgtype, text,
                                              idl=fmt == MessageDefinitionFormat.IDL)
            except Exception as e:
                logger.warning("%s: cannot use the bag's definition of %s (%s); decoding with the "
                               "built-in %s definition", connection.topic, connection.msgtype,
                               _one_line(e), (self.ros_distro or "jazzy"))
                store = self.default_store
            self._stores[key] = store
        return store

    @property
    def default_store(self) -> Typestore:
        if self._default_store is None:
            self._default_store = distro_store(self.ros_distro)
        return self._default_store

    def decode(self, connection: Connection, raw: bytes) -> Any:
        """The message object (fields by name, like rclpy's)."""
        return self.typestore_for(connection).deserialize_cdr(raw, connection.msgtype)

    def definition(self, connection: Connection) -> tuple[str, str] | None:
        """``(msgdef text, RIHS01 hash)`` for writing this connection into a new bag;
        None when the bag has no definition and no built-in store knows the type."""
        fmt, text, digest = connection.msgdef.format, connection.msgdef.data, connection.digest
        msgtype = connection.msgtype
        if fmt != MessageDefinitionFormat.NONE and text:
            if digest:
                return text, digest
            try:
                return text, self.typestore_for(connection).hash_rihs01(msgtype)
            except Exception:
                return None
        store = self.default_store
        if msgtype not in store.fielddefs:
            return None
        msgdef, _ = store.generate_msgdef(msgtype, ros_version=2)
        return msgdef, digest or store.hash_rihs01(msgtype)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."
