"""FrameSpool: one segment's rendered frames on their way to the join.

When a bag is rendered in segments (``render-bag --jobs N``, ``render-bags
--segments N``: vuer_ros/bag/segments.py), each segment's worker appends its
frames to a spool file, and the process that joins the segments
(vuer_ros/bag/join.py) reads it, in order, while it grows. A spooled frame holds
what the join needs and nothing it could compute cheaply itself:

- ``messages``: the frame's bag messages exactly as the output bag stores them
  (topic, type, CDR bytes; outputs.py's ``frame_messages``: JPEG encoding and
  serialisation are done in the worker, in parallel), when a bag is written;
- ``rgb``: the image, when a video is written and no bag (otherwise the video's
  frame is the ``/vuer/image`` message's data).

Format: records of a little-endian u64 length and a pickle. The file is private
to one render (written next to its outputs by this package and removed after the
join), so pickle's trust model holds. A record is flushed as soon as it is
written; a reader meeting a partial record waits for the rest.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

_LENGTH = struct.Struct("<Q")

Messages = list[tuple[str, str, bytes]]
"""(topic, type, CDR bytes) of one frame, in the order the output bag writes them."""


@dataclass
class SpooledFrame:
    """One camera's frame at one tick (a tick's cameras come one after the other)."""

    index: int                  # tick index in the window
    stamp_ns: int               # the tick's bag time
    camera: str                 # its name ('' for the node's own camera)
    messages: Messages | None   # the output bag's messages of this frame (when a bag is written)
    rgb: np.ndarray | None      # HxWx3 uint8 (when a video is written and no bag)


class SpoolWriter:
    """Appends frames to ``path`` (created or truncated). One thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "wb")
        self.frames = 0

    def write(self, frame: SpooledFrame) -> None:
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(_LENGTH.pack(len(data)))
        self._file.write(data)
        self._file.flush()
        self.frames += 1

    def close(self) -> None:
        self._file.close()


class SpoolReader:
    """Reads a spool while its writer may still be adding to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._offset = 0

    def _try_read(self) -> SpooledFrame | None:
        if self._file is None:
            if not self.path.exists():
                return None
            self._file = open(self.path, "rb")
        self._file.seek(self._offset)
        head = self._file.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return None
        (size,) = _LENGTH.unpack(head)
        data = self._file.read(size)
        if len(data) < size:
            return None
        self._offset += _LENGTH.size + size
        frame = pickle.loads(data)
        assert isinstance(frame, SpooledFrame)
        return frame

    def next(self, finished: Callable[[], bool], wait: Callable[[], None]) -> SpooledFrame | None:
        """The next frame; None once the writer has ``finished()`` and every frame
        was read. While neither, ``wait()`` (which sleeps a little, and raises when
        the writer failed) is called between looks."""
        while True:
            frame = self._try_read()
            if frame is not None:
                return frame
            if finished():
                return self._try_read()   # what was written before it finished
            wait()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
