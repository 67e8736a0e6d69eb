"""Pools that run tasks (tasks.py) in other processes: :class:`LocalPool` (worker
processes on this machine, no Ray needed) and :class:`RayPool` (a Ray cluster, or a
local Ray instance). The driver sees both the same way:

    pool.submit(task)                 # queued; runs when a worker is free
    for event in pool.poll(0.5):      # ("progress", key, (done, total))
        ...                           # ("log", key, (level, message)), ("done", key, TaskResult)
    pool.stop()    # every task stops after its current frame (outputs closed); queued ones do not start
    pool.abort()   # running renders are cancelled now (their outputs are still closed)
    pool.close()

Every task starts its own render session (a server and a headless Chromium), so a
worker needs what ``render-bag`` needs: this package installed with its client
bundle built, and Chromium (``bash scripts/setup.sh`` on each machine).

Local workers run in their own session (``os.setsid``), so a Ctrl-C at the terminal
reaches only the driver, which then stops them in order; a worker whose driver died
stops too. A worker that dies mid-task gives that task a failed result.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Any, Protocol

from .tasks import REPORT_INTERVAL_S, Task, TaskResult, run_task

logger = logging.getLogger("vuer_ros.bag")

Event = tuple[str, str, Any]


class Pool(Protocol):
    def submit(self, task: Task) -> None: ...

    def poll(self, timeout: float) -> list[Event]: ...

    def stop(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


# -- local processes ------------------------------------------------------------------------------------
class _LocalChannel:
    def __init__(self, events: Any, stopping: Any, parent: int) -> None:
        self.events, self.stopping, self.parent = events, stopping, parent

    def report(self, key: str, done: int, total: int) -> None:
        self.events.put(("progress", key, (done, total)))

    def log(self, key: str, level: int, message: str) -> None:
        self.events.put(("log", key, (level, message)))

    def should_stop(self) -> bool:
        return bool(self.stopping.is_set()) or os.getppid() != self.parent


def _local_worker(tasks: Any, events: Any, stopping: Any, parent: int) -> None:
    """A worker process: tasks from ``tasks`` until a None, or the driver is gone."""
    os.setsid()   # the terminal's Ctrl-C is the driver's to handle
    signal.signal(signal.SIGINT, signal.default_int_handler)   # ignored while starting (submit)
    channel = _LocalChannel(events, stopping, parent)
    try:
        while os.getppid() == parent:
            try:
                task = tasks.get(timeout=1.0)
            except queue.Empty:
                continue
            if task is None:
                return
            events.put(("started", task.key, os.getpid()))
            events.put(("done", task.key, run_task(task, channel)))
    except KeyboardInterrupt:   # the driver's abort between tasks
        return


class LocalPool:
    """``workers`` processes on this machine (started on demand, spawned: a fresh
    interpreter each, no state shared with the driver)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers {workers}: at least 1")
        self.size = workers
        self._ctx = multiprocessing.get_context("spawn")
        self._tasks: Any = self._ctx.Queue()
        self._events: Any = self._ctx.Queue()
        self._stopping: Any = self._ctx.Event()
        self._procs: list[Any] = []
        self._queued: dict[str, Task] = {}      # submitted, not started
        self._running: dict[str, int] = {}      # key -> worker pid
        self._closed = False

    def submit(self, task: Task) -> None:
        self._queued[task.key] = task
        self._tasks.put(task)
        busy = len(self._running) + len(self._queued)
        while len(self._procs) < min(self.size, busy):
            proc = self._ctx.Process(target=_local_worker, name="vuer-render-worker",
                                     args=(self._tasks, self._events, self._stopping, os.getpid()),
                                     daemon=True)
            # the new interpreter starts with Ctrl-C ignored (an ignored signal stays ignored
            # across exec) until it is in its own session: a Ctrl-C while it imports would
            # print a traceback and kill it
            main = threading.current_thread() is threading.main_thread()
            saved = signal.getsignal(signal.SIGINT) if main else None
            if saved is not None:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                proc.start()
            finally:
                if saved is not None:
                    signal.signal(signal.SIGINT, saved)
            self._procs.append(proc)

    @property
    def busy(self) -> int:
        return len(self._running) + len(self._queued)

    def poll(self, timeout: float) -> list[Event]:
        out: list[Event] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._events.get(timeout=max(0.0, deadline - time.monotonic()) if not out else 0)
            except queue.Empty:
                break
            kind, key, payload = event
            if kind == "started":
                self._queued.pop(key, None)
                self._running[key] = payload
                continue
            if kind == "done":
                self._running.pop(key, None)
                self._queued.pop(key, None)
            out.append(event)
        out.extend(self._dead_workers())
        return out

    def _dead_workers(self) -> list[Event]:
        out: list[Event] = []
        for proc in list(self._procs):
            if proc.exitcode is None:
                continue
            self._procs.remove(proc)
            for key, pid in list(self._running.items()):
                if pid == proc.pid:
                    del self._running[key]
                    out.append(("done", key, TaskResult(
                        key, "failed", exit_code=1, error_type="WorkerDied",
                        error=f"the worker process died (exit code {proc.exitcode}) while rendering")))
        if not self._procs and self._queued and not self._closed:
            for key in list(self._queued):   # no worker left to take them (all died)
                del self._queued[key]
                out.append(("done", key, TaskResult(key, "failed", exit_code=1,
                                                    error="no worker process left to run it")))
        return out

    def stop(self) -> None:
        self._stopping.set()

    def abort(self) -> None:
        """Stop, and cancel the renders running now (SIGINT to their workers: asyncio.run
        cancels the render, whose outputs close). Workers without a task just stop."""
        self._stopping.set()
        for pid in set(self._running.values()):
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def close(self, timeout: float = 30.0) -> None:
        """End the workers (after their current task, which ``stop`` shortens)."""
        self._closed = True
        for _ in self._procs:
            self._tasks.put(None)
        deadline = time.monotonic() + timeout
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.exitcode is None:
                proc.kill()   # Chromium goes with it (its reaper watches the worker)
                proc.join()
        self._procs.clear()
        for q in (self._tasks, self._events):
            q.cancel_join_thread()
            q.close()


# -- Ray --------------------------------------------------------------------------------------------------
RAY_MISSING = ("Ray is not installed: pip install 'vuer_ros[ray]' (or the ray version pinned in "
               "requirements.txt) on the driver and every worker")


class _Board:
    """A Ray actor: the tasks' progress and log lines for the driver, and the stop flag."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.stopping = False

    def post(self, event: Event) -> None:
        self.events.append(event)

    def take(self) -> list[Event]:
        out, self.events = self.events, []
        return out

    def stop(self) -> None:
        self.stopping = True

    def is_stopping(self) -> bool:
        return self.stopping


class _RayChannel:
    def __init__(self, board: Any) -> None:
        self.board = board
        self._stop = False
        self._checked = float("-inf")
        self._asked: Any = None   # the flag's answer on its way

    def report(self, key: str, done: int, total: int) -> None:
        self.board.post.remote(("progress", key, (done, total)))

    def log(self, key: str, level: int, message: str) -> None:
        self.board.post.remote(("log", key, (level, message)))

    def should_stop(self) -> bool:
        """The flag, asked without blocking: a task blocked in ray.get lends its CPUs
        to another task, and the node would run more renders than it has CPUs."""
        import ray

        now = time.monotonic()
        if self._stop:
            return True
        try:
            if self._asked is not None:
                ready, _ = ray.wait([self._asked], timeout=0)
                if ready:
                    self._stop = bool(ray.get(self._asked))
                    self._asked = None
                elif now - self._checked > 30.0:   # no answer for 30 s: the driver is gone
                    self._stop = True
            elif now - self._checked >= REPORT_INTERVAL_S:
                self._checked = now
                self._asked = self.board.is_stopping.remote()
        except Exception:   # the driver (and its board) is gone: stop
            self._stop = True
        return self._stop


def _ray_task(task: Task, board: Any) -> TaskResult:
    return run_task(task, _RayChannel(board))


class RayPool:
    """Tasks as Ray tasks of ``cpus_per_task`` CPUs each, on the cluster at ``address``
    (Ray's meaning: ``auto`` the running cluster, ``local`` a new local instance, or
    ``host:port``); a Ray already initialised in this process is used as it is."""

    def __init__(self, address: str | None, cpus_per_task: float = 1.0,
                 init_options: dict[str, Any] | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError(RAY_MISSING) from None
        self._ray = ray
        self._own = not ray.is_initialized()
        if self._own:
            ray.init(address=address, log_to_driver=False, include_dashboard=False,
                     logging_level=logging.WARNING, **(init_options or {}))
        self.cpus_per_task = cpus_per_task
        self._board: Any = ray.remote(num_cpus=0)(_Board).remote()
        self._remote = ray.remote(_ray_task).options(num_cpus=cpus_per_task, max_retries=0)
        self._refs: dict[Any, str] = {}

    @property
    def busy(self) -> int:
        return len(self._refs)

    def submit(self, task: Task) -> None:
        self._refs[self._remote.remote(task, self._board)] = task.key

    def poll(self, timeout: float) -> list[Event]:
        ray = self._ray
        out: list[Event] = []
        if self._refs:
            ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
            if ready:
                ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
        else:
            ready = []
            time.sleep(timeout)
        out.extend(ray.get(self._board.take.remote()))
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as e:   # the worker died, the task was cancelled, ...
                text = " ".join(str(e).split())[:300] or type(e).__name__
                result = TaskResult(key, "failed", exit_code=1, error_type=type(e).__name__,
                                    error=f"the Ray task failed: {type(e).__name__}: {text}")
            out.append(("done", key, result))
        return out

    def stop(self) -> None:
        self._board.stop.remote()

    def abort(self) -> None:
        self.stop()
        for ref in list(self._refs):
            self._ray.cancel(ref)   # KeyboardInterrupt in the task: its render is cancelled,
            #                         its outputs closed

    def close(self) -> None:
        if self._own:
            self._ray.shutdown()


__all__ = ["RAY_MISSING", "LocalPool", "Pool", "RayPool"]
