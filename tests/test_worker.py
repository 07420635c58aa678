"""Tests for autograder.trusted.worker: which cells define the answers, and calls served over a socket."""
import json
import socket
import threading

import numpy as np
import pytest

from autograder.sandbox import SandboxLimits
from autograder.trusted.proxies import RemoteError, RemoteName
from autograder.trusted.session import Session, WorkerPlan
from autograder.trusted.wire import Exchange, receive, send
from autograder.trusted.worker import Worker

SETUP = {"grade": False, "solution": False, "locked": True}
ANSWER = {"grade": False, "solution": True, "locked": False}
GRADED_ANSWER = {"grade": True, "solution": True, "locked": False}
TEST = {"grade": True, "solution": False, "locked": True, "points": 1}
WAIT_SECONDS = 30   # only a broken worker takes this long: the tests fail instead of hanging

ANSWER_SOURCE = """\
def double(x): return 2 * x

class Counter:
    def __init__(self, start):
        self.count = start
        self.history = []

    def add(self, n):
        self.count += n
        self.history.append(n)
        return self.count

class ShapeError(ValueError):
    pass

def check(x):
    raise ShapeError(f"bad shape {x}")

def draw():
    return np.random.rand()

def scale_in_place(a, factor):
    a *= factor

def apply(function, value):
    return function(value) + 1

def divide(a, b):
    return np.float64(a) / b

def uses_helper(x):
    return helper(x)

def names():
    return np.array(["a", "b"])

def leave():
    raise SystemExit(1)

LIMIT = 3
"""


CHECK_RAISE = 'raise ShapeError(f"bad shape {x}")'


def answer_line(text: str) -> int:
    """The line number of `text` in the answer cell."""
    return [line.strip() for line in ANSWER_SOURCE.splitlines()].index(text) + 1


def code(source: str, nbgrader: dict | None = None, tags: tuple = ()) -> dict:
    metadata = {"tags": list(tags)} if tags else {}
    if nbgrader is not None:
        metadata["nbgrader"] = dict(nbgrader)
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": [], "execution_count": None}


def markdown(source: str, nbgrader: dict | None = None) -> dict:
    return {"cell_type": "markdown", "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": source}


def write_notebook(path, cells: list[dict]):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                    encoding="utf-8")
    return path


NOTEBOOK_CELLS = [
    markdown("# Doubling"),
    code("import numpy as np\n%matplotlib inline\n\ndef helper(x):\n    raise KeyError(x)\n", SETUP),
    code(ANSWER_SOURCE, ANSWER),
    code(["value = 1\n", "raise ValueError('broken cell')\n"], ANSWER),
    code("def after():\n    return 'still defined'\n", ANSWER),
    code("raise RuntimeError('test cells must not run')", TEST),
    code("raise RuntimeError('training must not run')", ANSWER, tags=("training",)),
]


@pytest.fixture(autouse=True)
def numpy_state():
    """The global NumPy random state and error handling, put back after each test."""
    state, errors = np.random.get_state(), np.geterr()
    yield
    np.random.set_state(state)
    np.seterr(**errors)


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "answers.ipynb", NOTEBOOK_CELLS)


class Connection:
    """A Worker serving `notebook` in a thread, and the grader's end of its socket as a trusted Session."""

    def __init__(self, notebook, tmp_path):
        worker_sock, self.sock = socket.socketpair()
        self.sock.settimeout(WAIT_SECONDS)
        self.worker = Worker(worker_sock, notebook)
        self.thread = threading.Thread(target=self.worker.serve, daemon=True)
        self.thread.start()
        self.ready, _ = receive(self.sock)
        plan = WorkerPlan(tmp_path, SandboxLimits(), sandbox=False, env={}, test_seconds=WAIT_SECONDS)
        self.session = Session(plan, notebook.name)
        self.session.sock = self.sock
        self.session.definition_errors = self.ready["errors"]

    def name(self, name: str) -> RemoteName:
        return RemoteName(self.session, name)

    def raw(self, op: str, **values) -> tuple[dict, dict]:
        """Send one request as Session.request does and return the reply's header and values, undigested."""
        exchange = Exchange(+1)
        send(self.sock, *self.session.codec.pack({"op": op}, values, exchange))
        reply, blobs = receive(self.sock)
        return reply, self.session.codec.unpack(reply, blobs, exchange)

    def close(self):
        self.sock.close()
        self.thread.join(timeout=WAIT_SECONDS)
        self.worker.sock.close()


@pytest.fixture
def connection(notebook, tmp_path):
    connected = Connection(notebook, tmp_path)
    yield connected
    connected.close()
    assert not connected.thread.is_alive()


# --- defining, without a socket -----------------------------------------------------------------
def test_definition_errors_are_listed_and_later_cells_still_run(notebook):
    """Is a failing defining cell listed (cell number, type, message) while the cells after it are defined?"""
    worker = Worker(None, notebook)
    assert worker.errors == ["cell 4: ValueError: broken cell"]
    assert worker.namespace["value"] == 1 and worker.namespace["after"]() == "still defined"
    assert worker.namespace["double"](4) == 8


def test_a_cell_that_exits_does_not_end_the_worker(tmp_path):
    """Is SystemExit (or KeyboardInterrupt) in a defining cell a listed error rather than the worker's end?"""
    path = write_notebook(tmp_path / "exit.ipynb", [code("raise SystemExit(3)", ANSWER),
                                                   code("raise KeyboardInterrupt", SETUP),
                                                   code("x = 1", ANSWER)])
    worker = Worker(None, path)
    assert worker.errors == ["cell 1: SystemExit: 3", "cell 2: KeyboardInterrupt: "]
    assert worker.namespace["x"] == 1


def error_of(function, *args) -> BaseException:
    try:
        function(*args)
    except BaseException as error:  # noqa: B036
        return error
    raise AssertionError(f"{function.__name__} did not raise")


def test_an_error_is_described_by_type_builtin_bases_message_and_answer_line(notebook):
    """Does describe give the class name, its builtin bases, the message and the answer cell's line?"""
    worker = Worker(None, notebook)
    description = worker.describe(error_of(worker.namespace["check"], (2, 3)))
    assert description == {"type": "ShapeError", "bases": ["ValueError", "Exception", "BaseException", "object"],
                           "message": "bad shape (2, 3)",
                           "where": f"raised in check, line {answer_line(CHECK_RAISE)}: {CHECK_RAISE}"}


def test_where_names_the_deepest_answer_frame_not_a_helper_cell(notebook):
    """Is an error raised in a locked helper placed at the answer line that called it?"""
    worker = Worker(None, notebook)
    where = worker.describe(error_of(worker.namespace["uses_helper"], 1))["where"]
    assert where == f"raised in uses_helper, line {answer_line('return helper(x)')}: return helper(x)"


def test_where_names_a_cell_loaded_from_another_notebook(notebook):
    """Is a frame of a cell load_from_notebook executed named by notebook, cell label and line?"""
    worker = Worker(None, notebook)
    namespace = {}
    label = "Task 2.1 answer cell (`task_2_1_affine_forward`)"
    exec(compile("def affine(x):\n    return x.T\n", f"2_layers.ipynb ({label})", "exec"), namespace)
    where = worker.describe(error_of(namespace["affine"], None))["where"]
    assert where == f"raised in affine (2_layers.ipynb, {label}, line 2)"


def test_a_message_that_cannot_be_made_is_empty_and_a_long_one_is_cut(notebook):
    """Is an exception whose __str__ fails described with an empty message, and a huge message cut at 4000?"""
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    worker = Worker(None, notebook)
    assert worker.describe(Unprintable())["message"] == ""
    assert worker.describe(ValueError("x" * 5000), "prefix: ")["message"] == "prefix: " + "x" * 4000


# --- serving calls --------------------------------------------------------------------------------
def test_the_ready_message_lists_the_definition_errors(connection):
    """Does the first frame say the worker is ready and name the cell that failed?"""
    assert connection.ready["op"] == "ready"
    assert connection.ready["errors"] == ["cell 4: ValueError: broken cell"]


def test_functions_and_values_are_looked_up_and_called(connection):
    """Do the answer cells' functions and values reach the grader (a function as a handle, a value as data)?"""
    assert connection.name("double")(21) == 42
    assert connection.name("double")(np.arange(3)).tolist() == [0, 2, 4]
    assert connection.name("LIMIT")._resolve() == 3
    assert connection.name("after")() == "still defined"
    with pytest.raises(NameError, match="'missing' is not defined"):
        connection.name("missing")()


def test_objects_cross_by_value_and_their_methods_run_in_the_worker(connection):
    """Does a student's object carry its attributes to the grader and get them back after a method call?"""
    counter = connection.name("Counter")(5)
    assert counter.count == 5 and counter.history == []
    assert counter.add(2) == 7
    assert counter.count == 7 and counter.history == [2]


def test_an_argument_changed_in_place_is_changed_for_the_grader(connection):
    """Does an array the student scales in place come back scaled in the grader's own array?"""
    values = np.arange(3.0)
    assert connection.name("scale_in_place")(values, 2.0) is None
    assert values.tolist() == [0.0, 2.0, 4.0]


def test_the_student_code_can_call_the_grader_back(connection):
    """Does a grader function passed in run in the grader, its result or its error reaching the student's code?"""
    calls = []

    def times_ten(v):
        calls.append(v)
        return v * 10

    def refuse(v):
        raise KeyError("nope")

    assert connection.name("apply")(times_ten, 4) == 41 and calls == [4]
    with pytest.raises(RemoteError) as raised:
        connection.name("apply")(refuse, 4)
    assert type(raised.value).__name__ == "GraderError" and str(raised.value) == "KeyError: 'nope'"


def test_a_call_back_receives_the_graders_own_objects(connection):
    """Does a grader function called back with the grader's array get that very array, not a copy?"""
    seen = []

    def keep(v):
        seen.append(v)
        return 0

    data = np.arange(2.0)
    assert connection.name("apply")(keep, data) == 1
    assert seen[0] is data


def test_a_raise_reply_carries_type_bases_message_and_where(connection):
    """Does an error inside an answer function come back as a "raise" reply with its full description?"""
    double = connection.session.request("lookup", name="double")
    reply, values = connection.raw("call", target=double, args=(None,))
    assert reply["op"] == "raise" and set(values) == {"rng"}
    assert reply["error"] == {"type": "TypeError", "bases": ["TypeError", "Exception", "BaseException", "object"],
                              "message": "unsupported operand type(s) for *: 'int' and 'NoneType'",
                              "where": "raised in double, line 1: def double(x): return 2 * x"}


def test_the_grader_sees_the_student_error_as_its_builtin_class(connection):
    """Is a student's ValueError subclass raised in the grader as a ValueError, with where it happened?"""
    with pytest.raises(ValueError, match=r"bad shape \(1,\)") as raised:
        connection.name("check")((1,))
    assert type(raised.value).__name__ == "ShapeError"
    assert raised.value.where == f"raised in check, line {answer_line(CHECK_RAISE)}: {CHECK_RAISE}"


def test_the_legacy_random_state_is_applied_and_returned(connection):
    """Does the worker draw from the state the grader sent, and send back the state after the draw?"""
    draw = connection.session.request("lookup", name="draw")
    sent, expected = np.random.RandomState(7).get_state(), np.random.RandomState(7)
    np.random.seed(0)
    reply, values = connection.raw("call", target=draw, rng=sent)
    assert reply["op"] == "return" and values["value"] == expected.random_sample()
    after = expected.get_state()
    assert values["rng"][0] == "MT19937" and np.array_equal(values["rng"][1], after[1])
    assert values["rng"][2:] == after[2:]


def test_the_grader_error_handling_applies_in_the_worker(connection):
    """Does a division by zero raise in the student's code exactly when the grader's errstate says so?"""
    divide = connection.name("divide")
    with np.errstate(divide="ignore"):
        assert divide(1, 0) == np.inf
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError) as raised:
        divide(1, 0)
    line = "return np.float64(a) / b"
    assert raised.value.where == f"raised in divide, line {answer_line(line)}: {line}"


def test_a_result_that_cannot_cross_is_reported_as_an_error(connection):
    """Is a result of text (no numbers) reported as an error that says it cannot be graded?"""
    reply, _ = connection.raw("call", target=connection.session.request("lookup", name="names"))
    assert reply["op"] == "raise" and reply["error"]["type"] == "WireError"
    assert reply["error"]["message"].startswith("the result cannot be graded: an array of dtype <U1")


def test_bad_requests_and_exits_are_answered_and_the_worker_goes_on(connection):
    """Are an unknown op, a malformed value and SystemExit answered as errors, with the worker still serving?"""
    reply, _ = connection.raw("teleport")
    assert reply["error"]["type"] == "WireError" and reply["error"]["message"] == "unknown request 'teleport'"
    send(connection.sock, {"op": "call", "values": {"target": {"$": "pickle"}}, "nodes": {}}, [])
    assert receive(connection.sock)[0]["error"]["message"] == "unknown value tag 'pickle'"
    reply, _ = connection.raw("call", target=connection.session.request("lookup", name="leave"))
    assert reply["error"]["type"] == "SystemExit" and reply["error"]["bases"] == ["SystemExit", "BaseException",
                                                                                   "object"]
    assert connection.name("double")(2) == 4


def test_the_worker_stops_when_the_grader_closes_the_connection(connection):
    """Does serve return once the grader's end of the socket is closed?"""
    connection.close()
    assert not connection.thread.is_alive()


def test_the_dataset_loads_only_when_a_cell_uses_it():
    """Does the worker's get_CIFAR10_data defer loading until the data is read, then act as the data?"""
    from autograder.trusted.worker import _lazily
    loads = []
    get_data = _lazily(lambda **kwargs: loads.append(kwargs) or {"X_val": np.zeros(2), "y_val": np.ones(2)})
    data = get_data(num_training=10)
    assert loads == []
    assert sorted(data) == ["X_val", "y_val"] and data["y_val"].tolist() == [1.0, 1.0] and len(data) == 2
    assert loads == [{"num_training": 10}]


def test_the_worker_imports_no_grader_code():
    """Does the sandboxed side load only itself, wire.py and nn_helpers (never the grader's modules)?"""
    import subprocess
    import sys

    from autograder.course import ROOT
    probe = "import sys, autograder.trusted.worker; print(sorted(m for m in sys.modules if m.startswith('autograder')))"
    loaded = subprocess.run([sys.executable, "-P", "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True).stdout.strip()
    assert loaded == str(["autograder", "autograder.trusted", "autograder.trusted.wire", "autograder.trusted.worker"])
