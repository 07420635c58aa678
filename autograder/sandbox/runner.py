"""Run one untrusted command, sandboxed or plainly, under budgets of CPU time, wall clock and memory.

A `Sandbox` starts the command (in bubblewrap, see bwrap.py, or as a plain child process
in a session of its own) and a watcher thread that drains its output, keeping the tail,
and every POLL_SECONDS reads the CPU time of the command's whole process tree (meter.py).
Past the CPU budget, past the wall-clock backstop, or once `stop()` is called, it kills
every process of the sandbox. `wait()` says how the command ended, in a `SandboxRun`.

The command is started through a shell line that changes to the scratch folder and
prints a marker line before it execs the command: output before the marker, or none,
means the sandbox could not be set up.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import select
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

from .bwrap import bwrap_command, tool
from .cgroup import MemoryCap
from .ending import SandboxRun, describe
from .limits import SandboxLimits
from .meter import TreeMeter
from .plumbing import chown_tree, read_init, read_marker

MAX_OUTPUT = 2 ** 20   # bytes of output kept (the tail)
POLL_SECONDS = 0.2
FIRST_UID = 200_000    # run as root, each sandbox's command gets a uid of its own from here
DEFAULT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
_uids = itertools.count()


class Sandbox:
    """One command in `scratch` (its cwd and HOME), started by `start()`, metered until it ends."""

    def __init__(self, command: list[str], scratch: Path, limits: SandboxLimits = SandboxLimits(), *,
                 isolate: bool = True, visible=(), env: dict[str, str] | None = None):
        self.command, self.limits, self.isolate = list(command), limits, isolate
        self.scratch = Path(scratch).resolve()
        self.visible = tuple(visible)
        self.env = {"HOME": str(self.scratch), **(DEFAULT_ENV if env is None else env)}
        self.uid = FIRST_UID + (os.getpid() % 2 ** 20) * 64 + next(_uids) % 64 \
            if isolate and os.geteuid() == 0 else None
        self._cap: MemoryCap | None = None
        self._init: int | None = None        # a pidfd of bwrap's process 1
        self._kind: str | None = None        # why the watcher killed it: cpu, wall, stopped
        self._done = threading.Event()
        self._result: SandboxRun | None = None
        self._wake_r = self._wake_w = None     # stop() wakes the watcher through this pipe

    # --- the caller's side ----------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start the command once the sandbox is set up; RuntimeError if it cannot be.

        Call it from a thread that outlives the sandbox: bubblewrap's --die-with-parent
        ends the sandbox when the thread that started it ends.
        """
        self._wake_r, self._wake_w = os.pipe()
        if self.isolate:
            self._cap = MemoryCap.create(self.limits.memory_bytes)
        if self.uid is not None:
            chown_tree(self.scratch, self.uid, self.uid)
        try:
            self._spawn()
        except BaseException:
            self._clean_up()
            raise
        threading.Thread(target=self._watch, daemon=True, name="sandbox-watcher").start()
        return self

    def cpu_seconds(self) -> float:
        """CPU seconds the command's whole process tree has used so far (read at most 0.1 s ago)."""
        if self._done.is_set():
            return self._result.cpu_seconds
        return max(self._meter.seconds(max_age=0.1), self._cap.cpu_seconds() if self._cap else 0.0)

    def running(self) -> bool:
        return not self._done.is_set()

    def stop(self) -> None:
        """Kill the command and everything it started (reported as stopped, unless it had ended)."""
        if not self._done.is_set() and self._wake_w is not None:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    def wait(self, timeout: float | None = None) -> SandboxRun | None:
        """How the command ended; None if it is still running after `timeout` seconds."""
        self._done.wait(timeout)
        return self._result

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.wait()

    # --- starting -------------------------------------------------------------------------
    def _argv(self, marker: str, info_fd: int, block_fd: int) -> list[str]:
        limits = self.limits
        argv = [tool("prlimit"), "--core=0"]
        if self.isolate:
            argv += [f"--nproc={limits.max_processes}", f"--fsize={limits.max_file_bytes}"]
        if self._cap is None:
            argv.append(f"--as={limits.memory_bytes}")
        line = f'cd -- {shlex.quote(str(self.scratch))} || exit 126; unset OLDPWD PWD; echo {marker}; exec "$@"'
        argv += ["--", "/bin/sh", "-c", line, "sandbox", *self.command]
        if not self.isolate:
            return argv
        return bwrap_command(argv, self.scratch, limits.max_file_bytes, self.visible, self.uid, info_fd,
                             block_fd if self._cap is not None else None)

    def _spawn(self) -> None:
        """Start the command and wait until the sandbox is set up (bwrap's process 1 in the cgroup, the marker seen)."""
        marker = f"sandbox-ready-{secrets.token_hex(8)}"
        output, info, block = os.pipe(), os.pipe(), os.pipe()
        # bwrap reads these and closes them; nothing else reaches the command
        passed = ((info[1],) + ((block[0],) if self._cap is not None else ())) if self.isolate else ()
        try:
            self._process = subprocess.Popen(   # closes every other descriptor in the child
                self._argv(marker, info[1], block[0]), stdin=subprocess.DEVNULL, stdout=output[1],
                stderr=output[1], pass_fds=passed, env=self.env, cwd="/", start_new_session=True)
        finally:
            for fd in (output[1], info[1], block[0]):
                os.close(fd)
        self.pid, self._output = self._process.pid, output[0]
        self._pidfd = os.pidfd_open(self.pid)
        self._meter = TreeMeter(self.pid, session=None if self.isolate else self.pid)
        try:
            if self.isolate:
                init = read_init(info[0])
                with contextlib.suppress(OSError, TypeError):
                    self._init = os.pidfd_open(init)
                if self._cap is not None and init is not None:
                    for pid in (self.pid, init):
                        self._cap.add(pid)
                    os.write(block[1], b"x")
            self._head, ready = read_marker(self._output, marker.encode())
            if not ready:
                self._kill()
                self._reap()
                raise RuntimeError(f"the sandbox could not be set up: {self._head.decode(errors='replace').strip()[-500:]}")
        except BaseException:
            for fd in (self._output, self._pidfd, self._init):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            for fd in (info[0], block[1]):
                os.close(fd)
        self._started = time.monotonic()

    # --- the watcher ----------------------------------------------------------------------
    def _watch(self) -> None:
        try:
            self._drain_and_meter()
        except BaseException as error:   # a fault of the grader's own: end the command, never hang a caller
            self._kill()
            with contextlib.suppress(OSError):
                self._reap()
            if not self._done.is_set():
                words = f"was stopped: the sandbox's watcher failed ({type(error).__name__}: {error})"
                self._result = SandboxRun(None, "", words, "stopped", self._meter.add(0.0))
                with contextlib.suppress(OSError):
                    self._clean_up()
                self._done.set()
            raise

    def _drain_and_meter(self) -> None:
        tail, received, status, drain_until = bytearray(self._head), len(self._head), None, 0.0
        waiting = [self._output, self._pidfd, self._wake_r]
        next_check = time.monotonic()
        # Until the command has ended and its output is drained: a process that escaped
        # the plain (unsandboxed) tree may hold the output open, so that waits 2 s at most.
        while status is None or (self._output in waiting and time.monotonic() < drain_until):
            timeout = 0.1 if status is not None else max(0.0, next_check - time.monotonic())
            ready, _, _ = select.select(waiting, [], [], timeout)
            if self._output in ready:
                chunk = os.read(self._output, 2 ** 16)
                received += len(chunk)
                tail += chunk
                del tail[:-MAX_OUTPUT]
                if not chunk:
                    waiting.remove(self._output)
            if self._pidfd in ready:
                waiting.remove(self._pidfd)
                if not self.isolate:
                    self._kill()            # what it left behind in its session
                status = self._reap()
                drain_until = time.monotonic() + 2
            if self._wake_r in ready:
                waiting.remove(self._wake_r)
                if status is None:
                    self._end("stopped")
            if status is None and time.monotonic() >= next_check:
                next_check = time.monotonic() + POLL_SECONDS
                self._check()
        cut = f"[... the first {received - len(tail)} bytes of output were cut ...]\n" if received > len(tail) else ""
        self._finish(status, cut + tail.decode(errors="replace"))

    def _check(self) -> None:
        """Kill the command past its CPU budget or its wall-clock backstop."""
        if self.cpu_seconds() > self.limits.cpu_seconds:
            self._end("cpu")
        elif time.monotonic() - self._started > self.limits.wall:
            self._end("wall")

    def _end(self, kind: str) -> None:
        if self._kind is None:
            self._kind = kind
            self._kill()

    def _kill(self) -> None:
        """SIGKILL bwrap's process 1 (the kernel then ends its whole pid namespace), or the plain tree."""
        if self._init is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._init, signal.SIGKILL)
        for _ in range(1 if self.isolate else 10):
            pids = [] if self.isolate else self._meter.pids()
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            if len(pids) <= 1:
                break

    def _reap(self) -> tuple[int, float]:
        """Wait for our child; its exit code (negative: the signal) and the CPU seconds its rusage counts."""
        _, status, usage = os.wait4(self.pid, 0)
        self._process.returncode = code = os.waitstatus_to_exitcode(status)   # reaped: Popen must not try
        return code, usage.ru_utime + usage.ru_stime

    def _finish(self, status: tuple[int, float], output: str) -> None:
        code, reaped_cpu = status
        cpu = max(self._meter.add(reaped_cpu), self._cap.cpu_seconds() if self._cap else 0.0)
        oom = self._cap is not None and self._cap.oom_kills() > 0
        self._result = describe(code, output, self._kind, oom, cpu, self.limits, shell_signals=self.isolate)
        self._clean_up()
        for fd in (self._output, self._pidfd, self._init):
            if fd is not None:
                os.close(fd)
        self._done.set()

    def _clean_up(self) -> None:
        if self._cap is not None:
            self._cap.remove()
        if self.uid is not None:
            with contextlib.suppress(FileNotFoundError):   # the caller may have removed it
                chown_tree(self.scratch, os.geteuid(), os.getegid())
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError, TypeError):
                os.close(fd)


def run(command: list[str], scratch: Path, limits: SandboxLimits = SandboxLimits(), *, isolate: bool = True,
        visible=(), env: dict[str, str] | None = None, stop: threading.Event | None = None) -> SandboxRun:
    """Run `command` to its end (see Sandbox); setting `stop` from another thread kills it early."""
    with Sandbox(command, scratch, limits, isolate=isolate, visible=visible, env=env) as sandbox:
        while sandbox.wait(0.05 if stop is not None else None) is None:
            if stop.is_set():
                sandbox.stop()
    return sandbox.wait()
