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
  the chunks that overlap in time, never the file. Messages outside chunks are
  read front to back and must then be in log-time order (as rosbags requires).
- Counts, times and where the chunks are come from the summary section. A file
  without one, or cut short (a recording that did not finish: no closing magic),
  is scanned once when opened; a cut-short file is read up to the cut, with one
  warning.
"""

from __future__ import annotations

import heapq
import logging
import os
import struct
from collections.abc import Collection, Iterator
from io import BytesIO
from operator import itemgetter
from pathlib import Path
from typing import IO, NamedTuple

from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.reader import SeekingReader
from mcap.records import Channel, Chunk, Message, Schema
from mcap.stream_reader import breakup_chunk
from rosbags.interfaces import (Connection, ConnectionExtRosbag2, MessageDefinition,
                                MessageDefinitionFormat, Qos)
from rosbags.rosbag2.metadata import parse_qos

logger = logging.getLogger("vuer_ros.bag")

MAGIC = b"\x89MCAP0\r\n"
SCHEMA_FORMATS = {"ros2msg": MessageDefinitionFormat.MSG, "ros2idl": MessageDefinitionFormat.IDL}
_RECORD_HEAD = struct.Struct("<BQ")   # opcode, length

# (log time, chunk number, index in the chunk, connection, raw): a chunk's entry with
# index -1 stands for the chunk itself, not yet read
_Entry = tuple[int, int, int, Connection | None, bytes]
_ORDER = itemgetter(0, 1, 2)


class _Span(NamedTuple):
    """A chunk: where its record starts, its first and last log time, the channels
    with messages in it (None: not known)."""

    offset: int
    start_ns: int
    end_ns: int
    channels: Collection[int] | None


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
        f = self._file
        self._size = os.fstat(f.fileno()).st_size
        reader = SeekingReader(f)
        self.profile = reader.get_header().profile
        f.seek(len(MAGIC))
        _, length = _RECORD_HEAD.unpack(f.read(_RECORD_HEAD.size))
        self._data_start = len(MAGIC) + _RECORD_HEAD.size + length    # after the header record
        f.seek(-len(MAGIC), os.SEEK_END)
        self.cut_short = f.read(len(MAGIC)) != MAGIC
        summary = None if self.cut_short else reader.get_summary()
        stats = summary.statistics if summary is not None else None
        self._spans: list[_Span] = []
        self._loose = False           # messages outside chunks: read front to back
        if (summary is not None and stats is not None and (summary.channels or not stats.channel_count)
                and (summary.chunk_indexes or not stats.chunk_count)):
            schemas, channels = summary.schemas, summary.channels
            counts = stats.channel_message_counts
            start, end = stats.message_start_time, stats.message_end_time
            self._spans = sorted(_Span(c.chunk_start_offset, c.message_start_time, c.message_end_time,
                                       c.message_index_offsets.keys() or None)
                                 for c in summary.chunk_indexes)
            self._loose = stats.message_count > 0 and not self._spans
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
        total = sum(counts.values())
        self.start_time = start if total else 0
        self.end_time = end + 1 if total else 0
        if self.cut_short:
            logger.warning("%s ends without MCAP's closing record (cut short while recording?): "
                           "reading the %d messages before the cut", self.path.name, total)

    def _records(self) -> Iterator[tuple[int, int, bytes]]:
        """``(offset, opcode, body)`` of the data section's records, front to back, up to the
        footer or to where the file is cut short."""
        f = self._file
        offset = self._data_start
        while True:
            f.seek(offset)
            head = f.read(_RECORD_HEAD.size)
            if len(head) < _RECORD_HEAD.size:
                return
            opcode, length = _RECORD_HEAD.unpack(head)
            if opcode == Opcode.FOOTER or offset + _RECORD_HEAD.size + length > self._size:
                return
            body = f.read(length)
            yield offset, opcode, body
            offset += _RECORD_HEAD.size + length

    def _scan(self) -> tuple[dict[int, Schema], dict[int, Channel], dict[int, int], int, int]:
        """Schemas, channels, per-channel counts, first and last log time, and where the
        chunks are, from the records front to back."""
        schemas: dict[int, Schema] = {}
        channels: dict[int, Channel] = {}
        counts: dict[int, int] = {}
        start, end = 2**64, 0
        self._spans = []
        for offset, opcode, body in self._records():
            if opcode == Opcode.CHUNK:
                records = breakup_chunk(Chunk.read(ReadDataStream(BytesIO(body))))
            elif opcode in (Opcode.MESSAGE, Opcode.SCHEMA, Opcode.CHANNEL):
                records = [_record(opcode, body)]
            else:
                continue
            times = []
            for record in records:
                if isinstance(record, Message):
                    counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
                    times.append(record.log_time)
                elif isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    channels[record.id] = record
            if times:
                first, last = min(times), max(times)
                start, end = min(start, first), max(end, last)
                if opcode == Opcode.CHUNK:
                    self._spans.append(_Span(offset, first, last, None))
                else:
                    self._loose = True
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
        if self._loose:
            yield from self._messages_front_to_back(wanted, stop)
            return
        chunks = [self._chunk_messages(n, span, wanted, stop) for n, span in enumerate(self._spans)
                  if (stop is None or span.start_ns < stop)
                  and (span.channels is None or any(cid in wanted for cid in span.channels))]
        for t, _, i, conn, raw in heapq.merge(*chunks, key=_ORDER):
            if i >= 0:
                assert conn is not None
                yield conn, t, raw

    def _chunk_messages(self, number: int, span: _Span, wanted: dict[int, Connection],
                        stop: int | None) -> Iterator[_Entry]:
        """One chunk's messages in log-time order, after an entry standing for the chunk at its
        first log time: the merge reads the chunk only when it gets there."""
        yield span.start_ns, number, -1, None, b""
        self._file.seek(span.offset + _RECORD_HEAD.size)
        entries: list[_Entry] = []
        for record in breakup_chunk(Chunk.read(ReadDataStream(self._file))):
            if isinstance(record, Message):
                conn = wanted.get(record.channel_id)
                if conn is not None and (stop is None or record.log_time < stop):
                    entries.append((record.log_time, number, len(entries), conn, record.data))
        entries.sort(key=_ORDER)
        yield from entries

    def _messages_front_to_back(self, wanted: dict[int, Connection], stop: int | None
                                ) -> Iterator[tuple[Connection, int, bytes]]:
        """Messages in file order (each chunk's sorted by log time), which must be log-time order."""
        last = -1
        for _, opcode, body in self._records():
            if opcode == Opcode.CHUNK:
                records = breakup_chunk(Chunk.read(ReadDataStream(BytesIO(body))))
            elif opcode == Opcode.MESSAGE:
                records = [_record(opcode, body)]
            else:
                continue
            for message in sorted((r for r in records if isinstance(r, Message)), key=lambda m: m.log_time):
                t = message.log_time
                if t < last:
                    raise ValueError("messages are not in log-time order and the file has no chunk "
                                     "index to sort them by (rewrite it with `mcap recover`)")
                last = t
                if stop is not None and t >= stop:
                    return
                conn = wanted.get(message.channel_id)
                if conn is not None:
                    yield conn, t, message.data

    @property
    def is_open(self) -> bool:
        return not self._file.closed

    def close(self) -> None:
        self._file.close()


def _record(opcode: int, body: bytes) -> Message | Schema | Channel:
    stream = ReadDataStream(BytesIO(body))
    record: Message | Schema | Channel
    if opcode == Opcode.MESSAGE:
        record = Message.read(stream, len(body))
    elif opcode == Opcode.SCHEMA:
        record = Schema.read(stream)
    else:
        record = Channel.read(stream)
    return record


def _qos(text: str) -> list[Qos]:
    """A rosbag2 writer's offered_qos_profiles metadata; [] when absent or unreadable."""
    if not text:
        return []
    try:
        return list(parse_qos(text))
    except Exception:  # noqa: BLE001 (any malformed YAML/field: the QoS is only metadata)
        return []
