"""The manifest of a ``render-bags`` output folder: ``OUTDIR/manifest.json``.

It lists every bag a run was given: its input, its outputs (relative to OUTDIR),
frame counts, where and how long it rendered, and its error if it failed. It is
written atomically (a temporary file renamed over it) when the run starts and
each time a bag finishes, so it is always whole and says what is done even after
a crash or Ctrl-C.

A rerun uses it to skip work: a bag is complete when the manifest says ``done``
for the same input (each file's size and mtime), the same render options and
outputs, and its outputs are all there with the sizes recorded. A bag that failed
because of its input (unreadable, a topic or frame missing) is not tried again on
the same input and options unless asked (``--retry-failed``); one that failed on
its outputs or in rendering, or was stopped, is.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .inputs import InputError

FORMAT = "vuer-ros render-bags manifest 1"
NAME = "manifest.json"

DONE, FAILED, INTERRUPTED, PENDING, RUNNING = "done", "failed", "interrupted", "pending", "running"
# errors that come from the input itself (with these options): the same input fails again
INPUT_ERRORS = frozenset({"BagReadError", "TopicError", "FrameError", "RobotModelError"})


@dataclass
class BagEntry:
    name: str
    input: str
    status: str = PENDING
    outputs: dict[str, str] = field(default_factory=dict)       # kind -> path under OUTDIR
    output_sizes: dict[str, int] = field(default_factory=dict)  # kind -> bytes (frames: PNGs)
    frames: int = 0
    total: int = 0                   # ticks in the window
    skipped_ticks: int = 0           # ticks without a camera pose
    segments: int = 1
    elapsed_s: float = 0.0           # wall time of its task(s), on the worker
    render_s: float = 0.0            # of which rendering (the rest: start-up, browser, bag opening)
    host: str = ""
    error: str = ""
    error_type: str = ""
    exit_code: int = 0
    problems: list[str] = field(default_factory=list)
    input_fingerprint: list[Any] = field(default_factory=list)
    options_fingerprint: str = ""
    finished_at: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BagEntry:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def output_size(path: Path) -> int:
    """A file's bytes; a folder's: its files' (a rosbag2 folder, a PNG folder)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


class Manifest:
    def __init__(self, outdir: Path, inputs: list[str] | None = None) -> None:
        self.outdir = outdir
        self.path = outdir / NAME
        self.inputs = inputs or []
        self.bags: dict[str, BagEntry] = {}
        self.started_at = _now()

    @classmethod
    def load(cls, outdir: Path) -> Manifest:
        """The folder's manifest (empty when there is none). :class:`InputError` when
        it is not one (so no bag's outputs are taken for complete by mistake)."""
        manifest = cls(outdir)
        if not manifest.path.exists():
            return manifest
        try:
            data = json.loads(manifest.path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
            manifest.bags = {b["name"]: BagEntry.from_json(b) for b in data["bags"]}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{manifest.path} is not a render-bags manifest ({e}); move it "
                             "away, or choose another output folder") from None
        return manifest

    def complete(self, entry: BagEntry | None, input_fingerprint: list[Any],
                 options_fingerprint: str) -> bool:
        """Whether ``entry`` (this manifest's) is a finished render of this input with
        these options whose outputs are all still there."""
        if entry is None or entry.status != DONE or not self._same(entry, input_fingerprint,
                                                                   options_fingerprint):
            return False
        for kind, rel in entry.outputs.items():
            path = self.outdir / rel
            try:
                if output_size(path) != entry.output_sizes.get(kind):
                    return False
            except OSError:
                return False
        return True

    def failed_on_input(self, entry: BagEntry | None, input_fingerprint: list[Any],
                        options_fingerprint: str) -> bool:
        """Whether ``entry`` failed because of this very input (not its outputs, nor
        the renderer), with these options."""
        return (entry is not None and entry.status == FAILED and entry.error_type in INPUT_ERRORS
                and self._same(entry, input_fingerprint, options_fingerprint))

    @staticmethod
    def _same(entry: BagEntry, input_fingerprint: list[Any], options_fingerprint: str) -> bool:
        # through JSON, so tuples and lists compare equal
        return (entry.options_fingerprint == options_fingerprint
                and json.loads(json.dumps(input_fingerprint)) == entry.input_fingerprint)

    def finish(self, entry: BagEntry) -> None:
        """Record the time ``entry`` finished, and its outputs there are (a failed or
        stopped bag may have some, or none) with their sizes."""
        entry.finished_at = _now()
        entry.output_sizes = {}
        for kind, rel in list(entry.outputs.items()):
            try:
                entry.output_sizes[kind] = output_size(self.outdir / rel)
            except OSError:
                del entry.outputs[kind]

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for b in self.bags.values():
            counts[b.status] = counts.get(b.status, 0) + 1
        return {"format": FORMAT, "updated_at": _now(), "started_at": self.started_at,
                "inputs": self.inputs,
                "totals": {"bags": len(self.bags), **counts,
                           "frames": sum(b.frames for b in self.bags.values())},
                "bags": [asdict(b) for b in self.bags.values()]}

    def save(self) -> None:
        """Write it atomically (readers see the old or the new file, never a part)."""
        text = json.dumps(self.to_json(), indent=1)
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=self.outdir)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)   # as a plain open() would make it
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = ["DONE", "FAILED", "INTERRUPTED", "PENDING", "RUNNING", "BagEntry", "Manifest"]
