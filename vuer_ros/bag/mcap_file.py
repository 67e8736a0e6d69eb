"""McapFile: an MCAP file from any writer (the Foxglove SDK, the mcap libraries,
bridges), read with the ``mcap`` package where rosbags refuses it (rosbags reads
only the ``ros2`` profile with ROS 2 schemas). It offers the part of rosbags'
``Reader`` that :class:`~vuer_ros.bag.reader.BagInput` uses, with rosbags
``Connection`` objects, so the rest of render-bag does not know the difference.

- Channels: each ``cdr`` channel with a ``ros2msg`` or ``ros2idl`` schema is a
  connection: its type is the schema's name (``pkg/Type`` spelled
  ``pkg/msg/Type``), its definition the schema's text, its QoS and type hash
  those a rosbag2 writer leaves in the channel's metadata (none otherwise).
  Every other channel is left out, with one log line saying why: another
  message encoding (json, protobuf, ...), or no schema to decode it with.
- Messages stream in log-time order, chunk by chunk: a chunk is read and
  decompressed only when the merge reaches its first log time, so memory holds
  the chunks that overlap in time, never the file. A file without a chunk index
  is read front to back and must then be in log-time order (as rosbags requires).
- Counts and times come from the summary's statistics; a file without them is
  scanned once when opened.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Collection, Iterator
from operator import itemgetter
from pathlib import Path
from typing import IO

from mcap.data_stream import ReadDataStream
from mcap.reader import NonSeekingReader, SeekingReader
from mcap.records import Channel, Chunk, ChunkIndex, Message, Schema
from mcap.stream_reader import StreamReader, breakup_chunk
from rosbags.interfaces import (Connection, ConnectionExtRosbag2, MessageDefinition,
                                MessageDefinitionFormat, Qos)
from rosbags.rosbag2.metadata import parse_qos

logger = logging.getLogger("vuer_ros.bag")

MAGIC = b"\x89MCAP0\r\n"
SCHEMA_FORMATS = {"ros2msg": MessageDefinitionFormat.MSG, "ros2idl": MessageDefinitionFormat.IDL}

# (log time, chunk number, index in the chunk, connection, raw): a chunk's entry with
# index -1 stands for the chunk itself, not yet read
_Entry = tuple[int, int, int, Connection | None, bytes]
_ORDER = itemgetter(0, 1, 2)


def is_mcap(path: Path) -> bool:
    """Whether ``path`` is a file that starts with MCAP's magic bytes."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def ros_type_name(name: str) -> str:
    """``pkg/Type`` -> ``pkg/msg/Type`` (ROS 2's spelling); other names as they are."""
    parts = name.split("/")
    return f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 and all(parts) else name


class McapFile:
    """An open MCAP file; ``mcap`` errors when it is not a readable one."""

    ros_distro: str | None = None   # only rosbag2 writers record one, and rosbags reads theirs

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open(self.path, "rb")   # noqa: SIM115 (open until close())
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> None:
        reader = SeekingReader(self._file)
        self.profile = reader.get_header().profile
        summary = reader.get_summary()
        self._chunks: list[ChunkIndex] = sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset) \
            if summary is not None else []
        stats = summary.statistics if summary is not None else None
        if summary is not None and stats is not None and (summary.channels or not stats.channel_count):
            schemas, channels = summary.schemas, summary.channels
            counts = stats.channel_message_counts
            start, end = stats.message_start_time, stats.message_end_time
        else:
            schemas, channels, counts, start, end = self._scan()
        self.skipped: dict[str, str] = {}     # topic -> why its channel is not read
        self.connections: list[Connection] = []
        for channel in sorted(channels.values(), key=lambda c: c.id):
            conn = self._connection(channel, schemas.get(channel.schema_id), counts.get(channel.id, 0))
            if conn is not None:
                self.connections.append(conn)
        self.message_count = sum(c.msgcount for c in self.connections)
        # rosbags' convention: [start_time, end_time) spans the messages of the whole file
        self.start_time = start if self.message_count else 0
        self.end_time = end + 1 if self.message_count else 0

    def _scan(self) -> tuple[dict[int, Schema], dict[int, Channel], dict[int, int], int, int]:
        """Schemas, channels, per-channel counts, first and last log time, read front to back."""
        self._file.seek(0)
        schemas: dict[int, Schema] = {}
        channels: dict[int, Channel] = {}
        counts: dict[int, int] = {}
        start, end = 2**64, 0
        for record in StreamReader(self._file).records:
            if isinstance(record, Message):
                counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
                start, end = min(start, record.log_time), max(end, record.log_time)
            elif isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                channels[record.id] = record
        return schemas, channels, counts, start, end

    def _connection(self, channel: Channel, schema: Schema | None, count: int) -> Connection | None:
        """The rosbags connection of a channel; None (logged once) for one that is not read."""
        topic, encoding = channel.topic, channel.message_encoding
        why = None
        if encoding != "cdr":
            why = f"{encoding or 'unnamed'}-encoded messages, not ROS 2 CDR"
        elif schema is None or not schema.data:
            why = "a cdr channel without a schema to decode it with"
        elif schema.encoding not in SCHEMA_FORMATS:
            why = f"a cdr channel with a {schema.encoding or 'nameless'} schema, not ros2msg/ros2idl"
        if why is None:
            assert schema is not None
            try:
                text = schema.data.decode("utf-8")
            except UnicodeDecodeError:
                why = "its ros2msg/ros2idl schema is not UTF-8 text"
        if why is not None:
            if topic not in self.skipped:
                self.skipped[topic] = why
                logger.warning("%s: skipped, %s (channel %d of %s)", topic, why, channel.id, self.path.name)
            return None
        assert schema is not None
        meta = channel.metadata
        return Connection(
            id=channel.id, topic=topic, msgtype=ros_type_name(schema.name),
            msgdef=MessageDefinition(SCHEMA_FORMATS[schema.encoding], text),
            digest=meta.get("topic_type_hash", ""), msgcount=count,
            ext=ConnectionExtRosbag2(serialization_format="cdr",
                                     offered_qos_profiles=_qos(meta.get("offered_qos_profiles", ""))),
            owner=self)

    # -- reading -------------------------------------------------------------------------------
    def messages(self, connections: Collection[Connection] = (), stop: int | None = None
                 ) -> Iterator[tuple[Connection, int, bytes]]:
        """``(connection, log time, raw)`` of ``connections`` (all when empty) in log-time order,
        before ``stop`` (exclusive) when given."""
        wanted = {c.id: c for c in (connections or self.connections)}
        if not self._chunks:
            yield from self._messages_in_file_order(wanted, stop)
            return
        chunks = [self._chunk_messages(n, index, wanted, stop) for n, index in enumerate(self._chunks)
                  if (stop is None or index.message_start_time < stop)
                  and (not index.message_index_offsets
                       or any(cid in wanted for cid in index.message_index_offsets))]
        for t, _, i, conn, raw in heapq.merge(*chunks, key=_ORDER):
            if i >= 0:
                assert conn is not None
                yield conn, t, raw

    def _chunk_messages(self, number: int, index: ChunkIndex, wanted: dict[int, Connection],
                        stop: int | None) -> Iterator[_Entry]:
        """One chunk's messages in log-time order, after an entry standing for the chunk at its
        first log time: the merge reads the chunk only when it gets there."""
        yield index.message_start_time, number, -1, None, b""
        self._file.seek(index.chunk_start_offset + 1 + 8)    # past the opcode and record length
        chunk = Chunk.read(ReadDataStream(self._file))
        entries: list[_Entry] = []
        for record in breakup_chunk(chunk):
            if isinstance(record, Message):
                conn = wanted.get(record.channel_id)
                if conn is not None and (stop is None or record.log_time < stop):
                    entries.append((record.log_time, number, len(entries), conn, record.data))
        del chunk
        entries.sort(key=_ORDER)
        yield from entries

    def _messages_in_file_order(self, wanted: dict[int, Connection], stop: int | None
                                ) -> Iterator[tuple[Connection, int, bytes]]:
        self._file.seek(0)
        last = -1
        for _, channel, message in NonSeekingReader(self._file).iter_messages(log_time_order=False):
            t = message.log_time
            if t < last:
                raise ValueError("messages are not in log-time order and the file has no chunk "
                                 "index to sort them by (re-write it with `mcap recover`)")
            last = t
            if stop is not None and t >= stop:
                return
            conn = wanted.get(channel.id)
            if conn is not None:
                yield conn, t, message.data

    @property
    def is_open(self) -> bool:
        return not self._file.closed

    def close(self) -> None:
        self._file.close()


def _qos(text: str) -> list[Qos]:
    """A rosbag2 writer's offered_qos_profiles metadata; [] when absent or unreadable."""
    if not text:
        return []
    try:
        return list(parse_qos(text))
    except Exception:  # noqa: BLE001 (any malformed YAML/field: the QoS is only metadata)
        return []

