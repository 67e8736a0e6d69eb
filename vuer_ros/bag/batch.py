"""render_bags: many bags rendered by a pool of workers (``vuer-ros render-bags``).

    bags = find_bags(["fleet/", "extra/**/*.mcap", "@more.txt"], exclude="out")
    summary = render_bags(bags, Path("out"), options, OutputKinds(video=True),
                          pool=lambda: LocalPool(4))

Each bag is one task (tasks.py), or with ``segments`` > 1 that many segment tasks
and then a join task (for few long bags on many machines); the pool (executors.py)
runs them on local worker processes or a Ray cluster, each task with its own
browser. The outputs of bag ``NAME`` (inputs.py names them) are ``OUTDIR/NAME.mcap``
(or ``.db3``), ``OUTDIR/NAME.mp4`` and ``OUTDIR/NAME.frames/``, each exactly what
``render-bag`` writes for that bag alone.

- A bag that fails is reported with its one-line error and the rest go on.
- ``OUTDIR/manifest.json`` (manifest.py) lists inputs, outputs, frame counts and
  failures; it is rewritten atomically as bags finish. A rerun skips the bags it
  says are complete (and, unless ``retry_failed``, those that failed on their
  input), without starting a pool when nothing is left to do.
- Outputs already in OUTDIR are replaced only when the manifest lists them (an
  earlier run's) or with ``overwrite``; otherwise that bag fails.
- ``should_stop()``: every task stops after its current frame, queued ones do not
  start, the outputs are closed and readable (a bag in segments is joined up to
  its first tick not rendered); ``should_abort()``: running renders are cancelled.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..render.camera_spec import CameraSpec
from ..view.errors import RenderError
from ..view.options import RenderOptions
from .errors import OutputError
from .executors import Pool
from .inputs import FoundBag, fingerprint
from .manifest import DONE, FAILED, INTERRUPTED, RUNNING, BagEntry, Manifest
from .outputs import frames_dirs, video_paths
from .render import prepare_frames_dir
from .tasks import BagOutputs, BagTask, JoinTask, SegmentTask, Task, TaskResult

logger = logging.getLogger("vuer_ros.bag")

SEGMENTS_DIR = ".vuer-segments"     # spools of bags rendered in segments, under OUTDIR


@dataclass(frozen=True)
class OutputKinds:
    """Which outputs every bag gets."""

    bag: bool = True
    video: bool = False
    frames: bool = False
    storage: str = "mcap"            # the output bag: one .mcap or .db3 file

    def relative(self, name: str, cameras: Sequence[CameraSpec]) -> dict[str, str]:
        """Output -> its path under OUTDIR for bag ``name`` (with listed cameras, a video
        and a PNG folder each: ``video front``, ``frames front``, as render-bag names them)."""
        out: dict[str, str] = {}
        if self.bag:
            out["bag"] = name + (".mcap" if self.storage == "mcap" else ".db3")
        if self.video:
            for camera, p in video_paths(Path(name + ".mp4"), cameras).items():
                out["video" + (f" {camera}" if camera else "")] = p.as_posix()
        if self.frames:
            for camera, p in frames_dirs(Path(name + ".frames"), cameras).items():
                out["frames" + (f" {camera}" if camera else "")] = p.as_posix()
        return out


@dataclass
class BatchProgress:
    bags: int                # given
    finished: int            # done, failed or stopped in this run, plus those skipped
    failed: int
    running: int
    frames: int              # rendered in this run
    elapsed_s: float
    remaining_s: float | None

    @property
    def rate(self) -> float:
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchSummary:
    bags: int = 0
    rendered: int = 0              # done in this run
    complete: int = 0              # skipped: complete from an earlier run
    failed_before: int = 0         # skipped: failed on the same input before
    failed: list[BagEntry] = field(default_factory=list)
    interrupted: int = 0
    frames: int = 0                # rendered in this run
    elapsed_s: float = 0.0
    manifest: str = ""

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


def options_fingerprint(options: RenderOptions, kinds: OutputKinds, segments: int) -> str:
    """What must match for an earlier render to count as this one's (segments do not
    change the outputs, so they are left out)."""
    del segments
    return hashlib.sha256(repr((options, kinds)).encode()).hexdigest()[:16]


@dataclass
class _Bag:
    found: FoundBag
    entry: BagEntry
    outputs: BagOutputs                                    # absolute paths
    overwrite: bool
    parts: dict[str, TaskResult | None] = field(default_factory=dict)   # segment key -> result
    spool_dir: Path | None = None


def render_bags(bags: list[FoundBag], outdir: Path, options: RenderOptions, kinds: OutputKinds,
                *, pool: Callable[[], Pool], segments: int = 1, retry_failed: bool = False,
                overwrite: bool = False, inputs: list[str] | None = None,
                progress: Callable[[BatchProgress], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                should_abort: Callable[[], bool] | None = None,
                log: Callable[[str, int, str], None] | None = None) -> BatchSummary:
    """Render ``bags`` into ``outdir`` (see the module docstring). ``pool()`` is
    called once, only when there is work. ``log(bag name, level, message)`` gets each
    task's log lines, once per bag and message."""
    started = time.monotonic()
    outdir = outdir.resolve()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot make the output folder {outdir}: {e.strerror or e}") from None
    manifest = Manifest.load(outdir)
    manifest.inputs = list(inputs or [])
    summary = BatchSummary(bags=len(bags), manifest=str(manifest.path))
    fp_options = options_fingerprint(options, kinds, segments)
    todo: list[_Bag] = []
    entries: dict[str, BagEntry] = {}
    for found in bags:
        old = manifest.bags.get(found.name)
        try:
            fp_input = fingerprint(found.path)
        except OSError as e:
            fp_input = []
            logger.debug("cannot stat %s: %s", found.path, e)
        if manifest.complete(old, fp_input, fp_options):
            assert old is not None
            entries[found.name] = old
            summary.complete += 1
            continue
        if not retry_failed and manifest.failed_on_input(old, fp_input, fp_options):
            assert old is not None
            entries[found.name] = old
            summary.failed_before += 1
            continue
        entry = BagEntry(found.name, str(found.path), status=RUNNING,
                         outputs=kinds.relative(found.name, options.settings.camera_specs),
                         segments=segments,
                         input_fingerprint=fp_input, options_fingerprint=fp_options)
        entries[found.name] = entry
        absolute = {k: outdir / rel for k, rel in entry.outputs.items()}
        conflict = [p for k, p in absolute.items() if (p.exists() or p.is_symlink()) and not (
            overwrite or (old is not None and old.outputs.get(k) == entry.outputs[k]))]
        if conflict:
            _fail(entry, OutputError(f"{conflict[0]} exists and no earlier run in {manifest.path} "
                                     "wrote it; remove it, or pass --overwrite"))
            manifest.finish(entry)
            continue
        for p in absolute.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        base = {k: outdir / rel for k, rel in kinds.relative(found.name, (CameraSpec(),)).items()}
        todo.append(_Bag(found, entry, BagOutputs(
            bag=str(base["bag"]) if "bag" in base else None,
            video=str(base["video"]) if "video" in base else None,
            frames=str(base["frames"]) if "frames" in base else None), overwrite=True))
    manifest.bags = entries
    manifest.save()
    if not todo:
        summary.failed = [e for e in entries.values() if e.status == FAILED]
        summary.elapsed_s = time.monotonic() - started
        return summary

    running = _Run(todo, outdir, options, segments, manifest, summary, log)
    workers = pool()
    try:
        running.submit_all(workers)
        stopping = aborting = False
        while running.open:
            for kind, key, payload in workers.poll(0.5):
                running.event(workers, kind, key, payload)
            if should_abort is not None and not aborting and should_abort():
                aborting = True
                workers.abort()
            elif should_stop is not None and not stopping and should_stop():
                stopping = True
                workers.stop()
            if progress is not None:
                progress(running.progress(len(bags), started))
    finally:
        workers.close()
        running.clean_up()
    summary.failed = [e for e in entries.values() if e.status == FAILED]
    summary.elapsed_s = time.monotonic() - started
    if progress is not None:
        progress(running.progress(len(bags), started))
    return summary


def _fail(entry: BagEntry, error: BaseException) -> None:
    entry.status = FAILED
    entry.error = str(error)
    entry.error_type = type(error).__name__
    entry.exit_code = error.exit_code if isinstance(error, RenderError) else 1


class _Run:
    """The bags of one run in flight: their tasks, progress and manifest entries."""

    def __init__(self, bags: list[_Bag], outdir: Path, options: RenderOptions, segments: int,
                 manifest: Manifest, summary: BatchSummary,
                 log: Callable[[str, int, str], None] | None) -> None:
        self.bags = {b.found.name: b for b in bags}
        self.outdir, self.options, self.segments = outdir, options, segments
        self.manifest, self.summary, self.log = manifest, summary, log
        self.owner: dict[str, _Bag] = {}          # task key -> its bag
        self.done: dict[str, int] = {}            # task key -> frames done
        self.finished_frames = 0
        self.finished = 0
        self.failed = 0
        self._said: set[tuple[str, int, str]] = set()

    @property
    def open(self) -> bool:
        return bool(self.owner)

    def submit_all(self, pool: Pool) -> None:
        for bag in self.bags.values():
            if self.segments <= 1:
                self._submit(pool, bag, BagTask(bag.found.name, str(bag.found.path), bag.outputs,
                                                self.options, overwrite=bag.overwrite))
                continue
            try:
                if bag.outputs.frames is not None:   # the segments write into them
                    for folder in frames_dirs(Path(bag.outputs.frames),
                                              self.options.settings.camera_specs).values():
                        prepare_frames_dir(folder, overwrite=True)
                        folder.mkdir(parents=True, exist_ok=True)
                bag.spool_dir = self.outdir / SEGMENTS_DIR / bag.found.name
                shutil.rmtree(bag.spool_dir, ignore_errors=True)
                bag.spool_dir.mkdir(parents=True)
            except (OSError, RenderError) as e:
                self._finish(bag, None, e)
                continue
            for i in range(self.segments):
                key = f"{bag.found.name} (segment {i + 1} of {self.segments})"
                bag.parts[key] = None
                self._submit(pool, bag, SegmentTask(
                    key, str(bag.found.path), self.options, part=i, parts=self.segments,
                    spool=str(bag.spool_dir / f"segment-{i:04d}.spool"), frames=bag.outputs.frames,
                    spool_messages=bag.outputs.bag is not None,
                    spool_rgb=bag.outputs.video is not None and bag.outputs.bag is None))

    def _submit(self, pool: Pool, bag: _Bag, task: Task) -> None:
        self.owner[task.key] = bag
        pool.submit(task)

    def event(self, pool: Pool, kind: str, key: str, payload: object) -> None:
        bag = self.owner.get(key)
        if kind == "progress" and bag is not None:
            assert isinstance(payload, tuple)
            self.done[key] = payload[0]
        elif kind == "log":
            assert isinstance(payload, tuple)
            name = bag.found.name if bag is not None else key.split(" (segment")[0]
            said = (name, payload[0], payload[1])
            if said not in self._said:
                self._said.add(said)
                if self.log is not None:
                    self.log(name, payload[0], payload[1])
        elif kind == "done" and bag is not None:
            assert isinstance(payload, TaskResult)
            del self.owner[key]
            self.done.pop(key, None)
            if key in bag.parts:
                bag.parts[key] = payload
                self.finished_frames += payload.frames
                if all(r is not None for r in bag.parts.values()):
                    self._segments_done(pool, bag)
            else:
                if self.segments <= 1:
                    self.finished_frames += payload.frames
                self._finish(bag, payload)

    def _segments_done(self, pool: Pool, bag: _Bag) -> None:
        results = [r for r in bag.parts.values() if r is not None]
        failed = [r for r in results if r.status == "failed"]
        if failed:
            self._finish(bag, failed[0])
            return
        if all(r.status == "not started" for r in results):
            self._finish(bag, results[0])
            return
        assert bag.spool_dir is not None
        self._submit(pool, bag, JoinTask(
            f"{bag.found.name} (join)", str(bag.found.path), bag.outputs, self.options,
            spools=tuple(str(bag.spool_dir / f"segment-{i:04d}.spool")
                         for i in range(self.segments)),
            went=tuple(r.went for r in results), overwrite=bag.overwrite))

    def _finish(self, bag: _Bag, result: TaskResult | None, error: BaseException | None = None) -> None:
        entry = bag.entry
        if result is None:
            assert error is not None
            _fail(entry, error)
        else:
            entry.frames, entry.total, entry.skipped_ticks = result.frames, result.total, result.skipped
            entry.host, entry.elapsed_s = result.host, result.elapsed_s
            entry.render_s = result.render_s
            parts = [r for r in bag.parts.values() if r is not None]
            if parts:
                entry.elapsed_s = max(r.elapsed_s for r in parts) + result.elapsed_s
                entry.render_s = max(r.render_s for r in parts) + result.render_s
                entry.problems = list(dict.fromkeys(p for r in parts for p in r.problems))
                entry.host = ", ".join(dict.fromkeys(r.host for r in parts + [result] if r.host))
            else:
                entry.problems = result.problems
            stopped = result.status in ("interrupted", "not started") or any(
                r.status != "done" for r in parts)
            if result.status == "failed":
                entry.status, entry.error, entry.exit_code = FAILED, result.error, result.exit_code
                entry.error_type = result.error_type
            elif stopped:
                entry.status, entry.error = INTERRUPTED, "stopped (Ctrl-C) before it was complete"
            else:
                entry.status = DONE
        if entry.status == DONE:
            self.summary.rendered += 1
        elif entry.status == FAILED:
            self.failed += 1
        else:
            self.summary.interrupted += 1
        self.summary.frames += entry.frames if entry.status != FAILED else 0
        self.finished += 1
        if bag.spool_dir is not None:
            shutil.rmtree(bag.spool_dir, ignore_errors=True)
            bag.spool_dir = None
            frames = Path(bag.outputs.frames) if bag.outputs.frames else None
            for folder in (frames_dirs(frames, self.options.settings.camera_specs).values()
                           if frames is not None else ()):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()   # made for the segments, none of which wrote to it
        self.manifest.finish(entry)
        self.manifest.save()

    def progress(self, bags: int, started: float) -> BatchProgress:
        elapsed = time.monotonic() - started
        left = len(self.bags) - self.finished
        already = bags - len(self.bags)
        remaining = elapsed / self.finished * left if self.finished else None
        running = len({b.found.name for b in self.owner.values()})
        return BatchProgress(bags, already + self.finished, self.failed, running,
                             self.finished_frames + sum(self.done.values()), elapsed, remaining)

    def clean_up(self) -> None:
        """The spools go (a stopped bag's too: its rerun renders it again)."""
        if self.segments > 1:
            shutil.rmtree(self.outdir / SEGMENTS_DIR, ignore_errors=True)


__all__ = ["BatchProgress", "BatchSummary", "OutputKinds", "render_bags"]
