"""The grader's end of trusted scoring: one sandboxed worker per notebook, and the requests sent to it.

A `Session` starts `python -P -m autograder.trusted.worker` in a sandbox of its own (or as
a plain child process with --no-sandbox: the same runner, sandbox.Sandbox), waits until
the notebook's answers are defined, and sends requests over a Unix socket in the worker's
scratch folder: look up a name, call a function, call a method of an object. While a
request runs, the worker may call back the grader's own functions (a test's helper).

Each test cell (and the definition of the answers) has a budget of CPU time: what the
worker's whole process tree uses from the start of the test, read while the grader waits
for a reply; and a wall-clock backstop, WALL_FACTOR times as long, for code that waits.
A worker that runs past either, dies or breaks the protocol is stopped, and the next
request starts a fresh one, unless the worker never finished defining the answers. The
proxies the tests hold are in proxies.py.
"""
from __future__ import annotations

import select
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..course import ROOT
from ..sandbox import WALL_FACTOR, Sandbox, SandboxLimits, SandboxRun
from .proxies import GraderCodec, remote_error
from .wire import Exchange, WireError, receive, send

SOCKET_NAME = "grader.sock"
POLL_SECONDS = 0.2   # how often the budget is read while the grader waits for the worker


@dataclass(frozen=True)
class WorkerPlan:
    """How to start workers for one submission."""
    submission_dir: Path          # the restored notebooks (and any other submitted files)
    limits: SandboxLimits         # the worker's whole life
    sandbox: bool
    env: dict
    visible: tuple[Path, ...] = ()
    test_seconds: float = 120.0   # CPU seconds each test cell, and the worker's definitions, may use


class GraderBudgetSpent(TimeoutError):
    """The submission's budget for the trusted phase (trusted.tests.Budget) ran out during a test."""


BUDGET_SPENT = GraderBudgetSpent.__name__


class WorkerGone(Exception):
    """The worker ended, or was stopped, during a call."""


class Session:
    """One worker for one notebook, started on first use and again after it was stopped."""

    def __init__(self, plan: WorkerPlan, notebook: str):
        self.plan, self.notebook = plan, notebook
        self.codec = GraderCodec(self)
        self.sock: socket.socket | None = None
        self.exchanges: list[Exchange] = []
        self.definition_errors: list[str] = []
        self.broken: Exception | None = None   # why the worker could not define the answers (not retried)
        self._scratch: Path | None = None
        self._sandbox: Sandbox | None = None
        self._ended: SandboxRun | None = None  # how the last worker ended
        self._defining = False                 # the worker is defining the answers
        self.start_test()

    def start_test(self, budget=None) -> None:
        """A test cell starts: its budget of CPU time and its wall-clock backstop count from now.

        `budget` (trusted.tests.Budget) also bounds the test by what is left of the submission's.
        """
        self._budget = budget
        self._test_started = self._checked = time.monotonic()
        self._cpu_before = 0.0     # CPU seconds this test's earlier workers used
        self._cpu_base = self._sandbox.cpu_seconds() if self._sandbox is not None else 0.0

    # --- calls --------------------------------------------------------------------------
    def request(self, op: str, **values):
        """Send one request and serve the worker's callbacks until its reply; return the reply's value."""
        self._ensure_started()
        exchange = Exchange(+1)
        self.exchanges.append(exchange)
        try:
            header, blobs = self.codec.pack({"op": op, "errstate": np.geterr()},
                                            {**values, "rng": np.random.get_state()}, exchange)
            self._send(header, blobs)
            while True:
                header, blobs = self._receive()
                if header.get("op") == "callback":
                    self._serve_callback(header, blobs, exchange)
                    continue
                received = self.codec.unpack(header, blobs, exchange)
                self._restore_rng(received.get("rng"))
                if header.get("op") == "return":
                    return received.get("value")
                if header.get("op") == "raise":
                    raise remote_error(header.get("error"))
                raise WireError(f"unexpected reply {header.get('op')!r}")
        except (WireError, RecursionError) as error:
            self.stop()
            raise WorkerGone(f"the worker broke the protocol ({error}) and was stopped") from None
        finally:
            self.exchanges.pop()

    def _serve_callback(self, header: dict, blobs: list[bytes], exchange: Exchange) -> None:
        values = self.codec.unpack(header, blobs, exchange)
        function = self.codec.exported.get(header.get("h"))
        try:
            result = function(*values.get("args", ()), **values.get("kwargs", {}))
            reply = self.codec.pack({"op": "return"}, {"value": result}, exchange)
        except Exception as error:  # the test's own function raised: the student's code sees it
            reply = self.codec.pack({"op": "raise", "error": {"type": type(error).__name__,
                                                              "message": str(error)}}, {}, exchange)
        self._send(*reply)

    def _restore_rng(self, state) -> None:
        if state is not None:
            try:
                np.random.set_state(state)
            except (TypeError, ValueError) as error:
                raise WireError(f"not a random generator state: {error}") from None

    def _send(self, header: dict, blobs: list[bytes]) -> None:
        self.sock.settimeout(max(self._wall_left(), 0.01))
        try:
            send(self.sock, header, blobs)
        except socket.timeout:
            raise self._timed_out("wall") from None
        except OSError:
            raise self._gone() from None

    def _receive(self) -> tuple[dict, list[bytes]]:
        self._wait_for(self.sock)
        self.sock.settimeout(max(self._wall_left(), 0.01))   # a reply that stalls half-way
        try:
            return receive(self.sock)
        except socket.timeout:
            raise self._timed_out("wall") from None
        except (EOFError, OSError):
            raise self._gone() from None

    # --- the budget -----------------------------------------------------------------------
    def _wait_for(self, sock: socket.socket) -> None:
        """Return once `sock` has something to read; stop the worker past this test's budget."""
        if time.monotonic() - self._checked > POLL_SECONDS:   # replies that come fast add up too
            self._check_budget()
        while not select.select([sock], [], [], POLL_SECONDS)[0]:
            self._check_budget()
            if self._sandbox is not None and not self._sandbox.running():
                return   # the socket says why (EOF), or _accept does

    def _check_budget(self) -> None:
        self._checked = time.monotonic()
        used = self._cpu_used()
        if self._budget is not None and used > self._budget.left():
            raise self._timed_out("budget")
        if used > self.plan.test_seconds:
            raise self._timed_out("cpu")
        if self._wall_left() <= 0:
            raise self._timed_out("budget" if self._past_budget_wall() else "wall")

    def test_cpu_seconds(self) -> float:
        """CPU seconds the current test's workers used so far."""
        return self._cpu_used()

    def _past_budget_wall(self) -> bool:
        return self._budget is not None and time.monotonic() >= self._budget.wall_end

    def _cpu_used(self) -> float:
        now = self._sandbox.cpu_seconds() if self._sandbox is not None else self._cpu_base
        return self._cpu_before + now - self._cpu_base

    def _wall_left(self) -> float:
        end = self._test_started + WALL_FACTOR * self.plan.test_seconds
        if self._budget is not None:
            end = min(end, self._budget.wall_end)
        return end - time.monotonic()

    def _timed_out(self, kind: str) -> TimeoutError:
        """Stop the worker; the TimeoutError that says which budget it ran past."""
        defining, seconds = self._defining, self.plan.test_seconds
        self.stop()
        if defining:
            budget = (f"{seconds:g} s of CPU time" if kind == "cpu" else
                      f"{WALL_FACTOR * seconds:g} s of wall-clock time, waiting (sleep, input, a lock)")
            return TimeoutError(f"the notebook's answer cells did not finish running within {budget} (is there a loop "
                                "outside a function?), so none of its tests could run")
        if kind == "budget":
            return GraderBudgetSpent("the grader's budget for running your functions was used up during this test")
        if kind == "cpu":
            return TimeoutError(f"the student's code used more than {seconds:g} s of CPU time in one test and was "
                                "stopped")
        return TimeoutError(f"the student's code was stopped after {WALL_FACTOR * seconds:g} s of wall-clock time in "
                            "one test without using its CPU budget: it was waiting (sleep, input, a lock)")

    # --- the worker's life --------------------------------------------------------------
    def _ensure_started(self) -> None:
        """Start the worker and wait until it has defined the answers; a worker that failed to is not retried."""
        if self.broken is not None:
            raise type(self.broken)(*self.broken.args)
        if self.sock is not None:
            return
        try:
            self._start()
        except (TimeoutError, WorkerGone) as error:
            self.broken = error
            raise

    def _start(self) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="trusted-"))
        shutil.copytree(self.plan.submission_dir, self._scratch, dirs_exist_ok=True)
        path = self._scratch / SOCKET_NAME
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        path.chmod(0o777)
        listener.listen(1)
        command = [sys.executable, "-P", "-m", "autograder.trusted.worker", str(path), self.notebook]
        env = {**self.plan.env, "PYTHONPATH": str(ROOT)}   # the kit's code; -P keeps the scratch folder off sys.path
        self._sandbox = Sandbox(command, self._scratch, self.plan.limits, isolate=self.plan.sandbox,
                                visible=self.plan.visible, env=env)
        self._cpu_base, self._defining = 0.0, True
        try:
            self._sandbox.start()
        except RuntimeError as error:   # the sandbox could not be made
            listener.close()
            self._sandbox, self._defining = None, False
            self.stop()
            raise WorkerGone(f"the worker could not be started: {error}") from None
        try:
            self.sock = self._accept(listener)
            header, _ = self._receive()
        except WorkerGone:
            self.stop()
            raise
        finally:
            listener.close()
            self._defining = False
        if header.get("op") != "ready":
            self.stop()
            raise WorkerGone("the worker did not start as expected")
        self.definition_errors = [str(e)[:300] for e in header.get("errors", [])][:20]

    def _accept(self, listener: socket.socket) -> socket.socket:
        self._wait_for(listener)
        if not self._sandbox.running() and not select.select([listener], [], [], 0)[0]:
            raise WorkerGone(self._why_gone())
        connection, _ = listener.accept()
        return connection

    def _gone(self) -> WorkerGone:
        """Why the worker ended, once it is cleaned up (the next request starts a fresh one)."""
        reason = self._why_gone()
        self.stop()
        return WorkerGone(reason)

    def _why_gone(self) -> str:
        run = self._sandbox.wait(timeout=10) if self._sandbox is not None else self._ended
        if run is None:
            return "the worker ended for an unknown reason"
        if run.stopped:
            return f"the student's code {run.stopped}"
        tail = " | ".join(line.strip() for line in run.output.strip().splitlines()[-2:])[-300:]
        return f"the student's code ended the worker (exit code {run.returncode}){': ' + tail if tail else ''}"

    def stop(self) -> None:
        """End the worker (the next request starts a fresh one)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self._sandbox is not None:
            self._sandbox.stop()
            self._ended = self._sandbox.wait()
            self._cpu_before += self._ended.cpu_seconds - self._cpu_base
            self._cpu_base = 0.0
            self._sandbox = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
