"""The sandboxed side of trusted scoring: define one notebook's answers, then answer calls.

    python -m autograder.trusted.worker SOCKET NOTEBOOK

Runs in the grading sandbox, as the student's code does. It executes the notebook's
defining cells (setup, answer and locked helper cells, and cells tagged `export`; never
test cells, nor cells tagged `training`) in one namespace, connects to the grader's
socket, and serves calls: the grader runs the tests and sends only inputs; this process
calls the student's functions and sends back plain results (wire.py). Nothing here is
trusted: the grader decodes what it receives as data and checks every value itself.
"""
from __future__ import annotations

import builtins
import json
import linecache
import socket
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from autograder.trusted.wire import MAX_REQUEST, Codec, Exchange, WireError, receive, send
from nn_helpers import cells
from nn_helpers.cells import NoIPython, python_source

ERRSTATE_VALUES = ("ignore", "warn", "raise", "call", "print", "log")


class Worker:
    """One notebook's namespace, served over one connection."""

    def __init__(self, sock: socket.socket, notebook: Path):
        self.sock = sock
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": NoIPython}
        self.answer_files: set[str] = set()
        self.codec = WorkerCodec(self)
        self.exchanges: list[Exchange] = []
        self.errors = self.define(notebook)

    def define(self, notebook: Path) -> list[str]:
        """Execute the defining cells; return what went wrong in each that failed."""
        import nn_helpers.data
        nn_helpers.data.get_CIFAR10_data = _lazily(nn_helpers.data.get_CIFAR10_data)
        errors = []
        notebook_cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        for number, cell in cells.defining_cells(notebook_cells, with_locked=True):
            source = cells.source(cell)
            filename = f"<cell {number}>"
            if cells.is_answer(cell):
                self.answer_files.add(filename)
            try:
                code = python_source(source)
                linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
                exec(compile(code, filename, "exec"), self.namespace)
            except BaseException as error:  # noqa: B036 (a student's SystemExit must not end the worker)
                errors.append(f"cell {number}: {type(error).__name__}: {error}")
        return errors

    def serve(self) -> None:
        header, _ = self.codec.pack({"op": "ready", "errors": self.errors}, {}, Exchange(-1))
        send(self.sock, header, [])
        while True:
            try:
                header, blobs = receive(self.sock, MAX_REQUEST)
            except EOFError:
                return
            self.answer(header, blobs)

    def answer(self, header: dict, blobs: list[bytes]) -> None:
        """Run one request of the grader and send the reply, with every object of the exchange."""
        exchange = Exchange(-1)
        self.exchanges.append(exchange)
        values = {}
        try:
            try:
                values = self.codec.unpack(header, blobs, exchange)
                _set_context(values.get("rng"), header.get("errstate"))
                result = self.run(header.get("op"), values)
                reply = {"op": "return"}, {"value": result}
            except BaseException as error:  # noqa: B036 (everything the student's code raises is reported)
                reply = {"op": "raise", "error": self.describe(error)}, {}
            try:
                frame = self.codec.pack(reply[0], {**reply[1], "rng": _rng_if_changed(values.get("rng"))},
                                        exchange, sync=True)
            except (WireError, RecursionError, TypeError, ValueError) as error:
                frame = self.codec.pack({"op": "raise", "error": self.describe(error, "the result cannot be graded: ")},
                                        {}, Exchange(-1))
            send(self.sock, *frame)
        finally:
            self.exchanges.pop()

    def run(self, op: str, values: dict):
        if op == "lookup":
            name = values["name"]
            if name not in self.namespace:
                raise NameError(f"name '{name}' is not defined")
            return self.namespace[name]
        target = values.get("target")
        if op == "call":
            return target(*values.get("args", ()), **values.get("kwargs", {}))
        if op == "call_method":
            return getattr(target, values["name"])(*values.get("args", ()), **values.get("kwargs", {}))
        if op == "getattr":
            return getattr(target, values["name"])
        raise WireError(f"unknown request {op!r}")

    def callback(self, handle: int, args: tuple, kwargs: dict):
        """Call a function of the grader (a test's own helper) from the student's code."""
        exchange = self.exchanges[-1]
        send(self.sock, *self.codec.pack({"op": "callback", "h": handle}, {"args": args, "kwargs": kwargs},
                                         exchange, sync=True))
        while True:
            header, blobs = receive(self.sock, MAX_REQUEST)
            if header.get("op") == "return":
                return self.codec.unpack(header, blobs, exchange).get("value")
            if header.get("op") == "raise":
                error = header.get("error", {})
                raise GraderError(f"{error.get('type', 'Error')}: {error.get('message', '')}")
            self.answer(header, blobs)   # the grader's function called back into the notebook

    def describe(self, error: BaseException, prefix: str = "") -> dict:
        """An exception as plain data: its type, the builtin types it is, its message, where it was raised."""
        bases = [cls.__name__ for cls in type(error).__mro__ if getattr(builtins, cls.__name__, None) is cls]
        try:
            message = str(error)
        except Exception:  # a student's exception whose __str__ fails
            message = ""
        return {"type": type(error).__name__, "bases": bases, "message": prefix + message[:4000],
                "where": self.where(error.__traceback__)}

    def where(self, trace) -> str:
        """The deepest frame of an answer cell, e.g. 'raised in affine_backward, line 18: dw = x @ dout'."""
        found = ""
        for frame in traceback.extract_tb(trace):
            imported = cells.LOADED_CELL.match(frame.filename)
            if frame.filename in self.answer_files:
                found = cells.raised_in(frame.name, frame.lineno, frame.line or "")
            elif imported:
                found = cells.raised_in(frame.name, frame.lineno, notebook=imported.group(1), label=imported.group(2))
        return found


def _lazily(get_data):
    """get_CIFAR10_data that loads only when the data is used: setup cells load it, answer cells rarely need it."""
    def get_CIFAR10_data(*args, **kwargs):
        return LazyData(lambda: get_data(*args, **kwargs))
    return get_CIFAR10_data


class LazyData(Mapping):
    """A mapping that calls `load` on first use and then behaves as its result."""

    def __init__(self, load):
        self._load, self._data = load, None

    def _loaded(self) -> dict:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key):
        return self._loaded()[key]

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self):
        return len(self._loaded())


class GraderError(Exception):
    """A grader-side function that the student's code called raised."""


class CallbackProxy:
    """A function of the grader's test code, as the student's code sees it."""

    def __init__(self, worker: Worker, handle: int):
        self._worker, self._handle = worker, handle

    def __call__(self, *args, **kwargs):
        return self._worker.callback(self._handle, args, kwargs)


class WorkerCodec(Codec):
    def __init__(self, worker: Worker):
        super().__init__(exchange_sign=-1)
        self.worker = worker

    def class_of(self, obj) -> dict | None:
        cls = type(obj)
        module = getattr(cls, "__module__", "") or ""
        if isinstance(obj, type) or not hasattr(obj, "__dict__") or isinstance(obj, CallbackProxy):
            return None
        if module == "__main__" or module.startswith("notebook_"):
            return {"name": cls.__qualname__, "h": self.export(cls)}
        return None

    def new_object(self, description):
        if not isinstance(description, dict):
            raise WireError("a class description must be a mapping")
        cls = self.exported.get(description.get("h")) if "h" in description \
            else self.worker.namespace.get(description.get("name"))
        if not isinstance(cls, type):
            raise WireError(f"no class {description.get('name')!r} in this notebook")
        return cls.__new__(cls)

    def remote(self, handle: int):
        return CallbackProxy(self.worker, handle)

    def remote_handle(self, obj) -> int | None:
        return obj._handle if isinstance(obj, CallbackProxy) else None


def _rng_if_changed(before) -> tuple | None:
    """The legacy generator's state, or None when the call drew nothing from it."""
    state = np.random.get_state()
    if before is not None and state[2:] == tuple(before[2:]) and np.array_equal(state[1], before[1]):
        return None
    return state


def _set_context(rng, errstate) -> None:
    """The grader's global NumPy state for this call: the legacy random generator and the error handling."""
    if rng is not None:
        np.random.set_state(rng)
    if isinstance(errstate, dict):
        np.seterr(**{k: v for k, v in errstate.items() if k in ("divide", "over", "under", "invalid")
                     and v in ERRSTATE_VALUES})


def main(argv: list[str]) -> int:
    socket_path, notebook = argv
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    Worker(sock, Path(notebook)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
