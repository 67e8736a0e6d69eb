"""How a vuer_ros ROS program starts and stops: rclpy.init with a clear error for ROS
arguments rcl refuses, and a stop that no signal can interrupt.

rclpy.init installs rclpy's SIGINT/SIGTERM handlers: they shut the context down (which
ends the spin) and then chain to the Python-level handler that was there before. With
Python's default that handler raises KeyboardInterrupt wherever the main thread is, so
a second SIGINT (Ctrl-C twice; ``ros2 launch`` forwarding SIGINT to a node the terminal
already signalled; launch's SIGTERM escalation) landed inside the node's cleanup: exit
code -2, and Chromium or its profile left behind. :class:`RosProgram` installs, before
rclpy.init, a handler that only records the signal (and says ``<program>: SIGINT:
stopping``; a repeat is noted once); :meth:`RosProgram.spin` ends at the signal; the
cleanup always runs to its end, and a stop by signal exits with 0.

It owns the process's SIGINT and SIGTERM from :meth:`RosProgram.init` to exit: it is for
a program's main (``viewer``, ``vuer-ros demo``), not for library code.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from types import FrameType
from typing import Sequence

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

try:
    from rclpy._rclpy_pybind11 import RCLError
except ImportError:  # pragma: no cover
    RCLError = RuntimeError  # type: ignore[misc,assignment]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SPIN_SLICE_S = 0.1   # the longest a stop signal waits for the spin to notice it

# exit codes: a stop by signal is a normal end
OK, FAILED, BAD_ARGUMENTS = 0, 1, 2


class StartupError(Exception):
    """ROS arguments that cannot work (a missing --params-file, a rule rcl refuses)."""


class RosProgram:
    """rclpy.init, the stop signals and the exit code of one ROS program.

        program = RosProgram("vuer_ros viewer")
        try:
            program.init(argv)
            node = ...; program.spin(node)
        except BaseException as e:
            code = program.exit_code(e)
        finally:
            ...cleanup...; program.close()
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.stop_signal: str | None = None   # the first SIGINT/SIGTERM, by name
        self._repeat_noted = False

    @property
    def stopping(self) -> bool:
        """A stop signal arrived."""
        return self.stop_signal is not None

    def init(self, args: Sequence[str] | None) -> None:
        """Install the stop handler, check the ROS arguments, rclpy.init.

        Raises :class:`StartupError` with a one-line reason for arguments that fail."""
        argv = list(sys.argv if args is None else args)
        installed = rclpy.signals.get_current_signal_handlers_options()
        if installed != SignalHandlerOptions.NO:
            # rclpy chains to the handler it found when installed: put ours under it
            rclpy.signals.uninstall_signal_handlers()
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        if installed != SignalHandlerOptions.NO:
            rclpy.signals.install_signal_handlers(installed)
        check_params_files(argv)
        try:
            rclpy.init(args=argv)
        except RCLError as e:
            raise StartupError(f"rclpy refused the ROS arguments: {rcl_reason(e)}") from None
        if self.stopping:   # signalled before rclpy's handlers were there
            rclpy.try_shutdown()

    def spin(self, node: Node) -> None:
        """Run the node's callbacks until a stop signal or the context's shutdown.

        Not rclpy.spin: rclpy's handler wakes the executor before it shuts the context
        down, and an executor woken with nothing to do while the context is still ok
        waits again, for good if nothing else wakes it (a sim-time node without /clock).
        Waiting in slices, with the signal checked between them, cannot miss the stop."""
        executor = rclpy.get_global_executor()
        executor.add_node(node)
        try:
            while not self.stopping and executor.context.ok():
                executor.spin_once(timeout_sec=SPIN_SLICE_S)
        finally:
            executor.remove_node(node)

    def exit_code(self, error: BaseException | None) -> int:
        """The exit code for how the program ended; says why on stderr when it failed."""
        if error is None or isinstance(error, (KeyboardInterrupt, ExternalShutdownException)):
            return OK
        if isinstance(error, StartupError):
            self._say(str(error))
            return BAD_ARGUMENTS
        if self.stopping:   # a stop during startup: what failed was cut short by it
            return OK
        if not isinstance(error, Exception):
            raise error
        self._say(f"{type(error).__name__}: {error}")
        return FAILED

    def close(self) -> None:
        """rclpy.try_shutdown. The stop handler stays: the program is about to exit, and
        a signal arriving now has nothing left to stop."""
        rclpy.try_shutdown()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Runs between two bytecodes of the main thread: it must not raise, and must
        # not use sys.stderr (the main thread may be inside a write to it).
        if self.stop_signal is None:
            self.stop_signal = signal.Signals(signum).name
            _write_stderr(f"{self.name}: {self.stop_signal}: stopping\n")
        elif not self._repeat_noted:
            self._repeat_noted = True
            _write_stderr(f"{self.name}: {signal.Signals(signum).name} while stopping "
                          f"(after {self.stop_signal}): finishing the cleanup first\n")

    def _say(self, text: str) -> None:
        print(f"{self.name}: {text}", file=sys.stderr, flush=True)


def check_params_files(argv: Sequence[str]) -> None:
    """Every ``--params-file PATH`` of the ROS arguments names a readable file (rcl only
    says "Couldn't parse params file", launch_ros only warns)."""
    in_ros_args = False
    for i, arg in enumerate(argv):
        if arg == "--ros-args":
            in_ros_args = True
        elif arg == "--":
            in_ros_args = False
        elif in_ros_args and arg == "--params-file" and i + 1 < len(argv):
            path = argv[i + 1]
            if not os.path.exists(path):
                raise StartupError(f"--params-file {path}: no such file; give the path of a "
                                   "parameters YAML (e.g. the package's config/viewer.yaml)")
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                raise StartupError(f"--params-file {path}: not a readable file; give the path of "
                                   "a parameters YAML (e.g. the package's config/viewer.yaml)")


def rcl_reason(error: BaseException) -> str:
    """rcl's message without its source locations (", at /project/src/...:271")."""
    text = re.sub(r",? at /[^,]*:\d+", "", str(error))
    return text.removeprefix("failed to initialize rcl: ").strip()


def _write_stderr(text: str) -> None:
    try:
        os.write(2, text.encode(errors="replace"))
    except OSError:
        pass
