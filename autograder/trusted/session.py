"""The grader's end of trusted scoring: one sandboxed worker per notebook, and the requests sent to it.

A `Session` starts `python -P -m autograder.trusted.worker` in a sandbox of its own (or as
a plain child process with --no-sandbox), waits until the notebook's answers are defined,
and sends requests over a Unix socket in the worker's scratch folder: look up a name, call
a function, call a method of an object. While a request runs, the worker may call back
the grader's own functions (a test's helper). Each request has a deadline; a worker that
runs past it, dies or breaks the protocol is stopped, and the next request starts a
fresh one, unless the worker never finished defining the answers. The proxies the tests
hold are in proxies.py.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..course import ROOT
from ..sandbox import SandboxLimits, SandboxRun, run_sandboxed
from .proxies import GraderCodec, remote_error
from .wire import Exchange, WireError, receive, send

SOCKET_NAME = "grader.sock"


@dataclass(frozen=True)
class WorkerPlan:
    """How to start workers for one submission."""
    submission_dir: Path          # the restored notebooks (and any other submitted files)
    limits: SandboxLimits
    sandbox: bool
    env: dict
    hidden: tuple[Path, ...] = ()
    visible: tuple[Path, ...] = ()
    test_seconds: float = 120.0   # each test cell, and the worker's definitions, must finish in this


class WorkerGone(Exception):
    """The worker ended, or was stopped, during a call."""


class Session:
    """One worker for one notebook, started on first use and again after it was stopped."""

    def __init__(self, plan: WorkerPlan, notebook: str):
        self.plan, self.notebook = plan, notebook
        self.codec = GraderCodec(self)
        self.sock: socket.socket | None = None
        self.deadline = time.monotonic() + plan.test_seconds
        self.exchanges: list[Exchange] = []
        self.definition_errors: list[str] = []
        self.broken: Exception | None = None   # why the worker could not define the answers (not retried)
        self._scratch: Path | None = None
        self._stop: threading.Event | None = None
        self._ending: dict = {}
        self._thread: threading.Thread | None = None

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
        try:
            send(self.sock, header, blobs)
        except OSError:
            raise self._gone() from None

    def _receive(self) -> tuple[dict, list[bytes]]:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.stop()
            raise TimeoutError(f"the student's code ran past the {self.plan.test_seconds:g} s limit of a test and "
                               "was stopped")
        self.sock.settimeout(left)
        try:
            return receive(self.sock)
        except socket.timeout:
            self.stop()
            raise TimeoutError(f"the student's code ran past the {self.plan.test_seconds:g} s limit of a test and "
                               "was stopped") from None
        except (EOFError, OSError):
            raise self._gone() from None

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
        os.chmod(path, 0o777)
        listener.listen(1)
        command = [sys.executable, "-P", "-m", "autograder.trusted.worker", str(path), self.notebook]
        self._stop = threading.Event()
        self._ending = {}
        self._thread = threading.Thread(target=self._run_worker, args=(command,), daemon=True)
        self._thread.start()
        try:
            self.sock = self._accept(listener)
            header, _ = self._receive()
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"the notebook's answer cells did not finish running within {self.plan.test_seconds:g} s "
                               "(is there a loop outside a function?), so none of its tests could run") from None
        except WorkerGone:
            self.stop()
            raise
        finally:
            listener.close()
        if header.get("op") != "ready":
            self.stop()
            raise WorkerGone("the worker did not start as expected")
        self.definition_errors = [str(e)[:300] for e in header.get("errors", [])][:20]

    def _accept(self, listener: socket.socket) -> socket.socket:
        while True:
            listener.settimeout(0.1)
            try:
                connection, _ = listener.accept()
                return connection
            except socket.timeout:
                if not self._thread.is_alive():
                    raise WorkerGone(self._why_gone()) from None
                if time.monotonic() > self.deadline:
                    raise TimeoutError("the worker did not start in time") from None

    def _run_worker(self, command: list[str]) -> None:
        plan = self.plan
        env = {**plan.env, "PYTHONPATH": str(ROOT)}   # the kit's code; -P keeps the scratch folder off sys.path
        try:
            if plan.sandbox:
                run = run_sandboxed(command, self._scratch, plan.limits, hidden=plan.hidden, env=env,
                                    visible=plan.visible, stop=self._stop)
            else:
                run = _run_unsandboxed(command, self._scratch, plan.limits, env, self._stop)
            self._ending["run"] = run
        except Exception as error:  # the sandbox could not be made
            self._ending["error"] = str(error)

    def _gone(self) -> WorkerGone:
        """Why the worker ended, once it is cleaned up (the next request starts a fresh one)."""
        reason = self._why_gone()
        self.stop()
        return WorkerGone(reason)

    def _why_gone(self) -> str:
        if self._thread is not None:
            self._thread.join(timeout=10)
        run: SandboxRun | None = self._ending.get("run")
        if run is None:
            return f"the worker could not be started: {self._ending.get('error', 'unknown reason')}"
        if run.stopped:
            return f"the student's code {run.stopped}"
        tail = " | ".join(line.strip() for line in run.output.strip().splitlines()[-2:])[-300:]
        return f"the student's code ended the worker (exit code {run.returncode}){': ' + tail if tail else ''}"

    def stop(self) -> None:
        """End the worker (the next request starts a fresh one)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _run_unsandboxed(command, scratch: Path, limits: SandboxLimits, env: dict, stop: threading.Event) -> SandboxRun:
    """The worker as a plain child process with a memory cap (grading with --no-sandbox)."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))

    full_env = {**os.environ, **env, "PATH": f"{env.get('PATH', '')}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryFile() as output:   # a file, not a pipe: a chatty worker never blocks on it
        process = subprocess.Popen(command, cwd=scratch, env=full_env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=cap)
        deadline, stopped = time.monotonic() + limits.wall_seconds, None
        while process.poll() is None and stopped is None:
            if stop.wait(0.05):
                stopped = "was stopped by the grader"
            elif time.monotonic() > deadline:
                stopped = f"ran past the {limits.wall_seconds:g} s wall-clock limit and was stopped"
        if stopped:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
        process.wait()
        output.seek(max(0, output.seek(0, os.SEEK_END) - 2 ** 16))
        text = output.read().decode(errors="replace")
    return SandboxRun(None if stopped else process.returncode, text, stopped)
