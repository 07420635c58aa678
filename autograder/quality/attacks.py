"""Attack submissions: ways a student's code could try to buy points or harm the grader.

Every attack starts from the same honest submission of notebook 1 (the reference with
one mistake: `matvec_dW_transposed`, which fails test_1_4_matvec_l2) and adds one attack.
An attack is defeated when the submission scores no more than the honest one, harms no
other submission, finishes within its limits, and grading records it: a tampering flag on
the notebook, the failure the sandbox reported, a test failed for what it tried, or a
test that failed in its hidden part.

The attacks on the grading process itself are written in grader_attacks.py.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from .grader_attacks import (ARRAY_INTERFACE, EXIT_IN_GRADER, FORGED_REPLY, HUGE_REPLY, KILL_GRADER, SLEEP_IN_GRADER,
                             huge_cell, many_cells, oversize_notebook, sparse_file)

NOTEBOOK = "1_computational_graphs.ipynb"
TARGET = "task_1_4_matvec_l2"   # the answer cell the attacks add their code to
TESTED = "test_1_4_matvec_l2"   # the test the honest submission fails


@dataclass(frozen=True)
class Attack:
    name: str
    description: str
    edit: Callable[[NotebookNode], None]   # changes the honest notebook in place
    traces: tuple[str, ...]                # what grading must record: "flag" (a review flag), "hidden" (TESTED
                                           # failed in its hidden part), failure kinds
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

# Right on the visible tests' inputs only: their expected values, memorised; a constant with zero
# gradients elsewhere. A hidden part that compared the gradient with the numeric gradient of the
# student's own function would pass it; one that compares with the reference's values does not.
HARDCODE = '''_VISIBLE_SIGMOID = {(2.0, -3.0, -3.0, -1.0, -2.0): (0.7310585786300049,
    [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185], [0.3932238664829637, -0.5898357997244456])}


def sigmoid_circuit(w, x):
    key = tuple(float(v) for v in np.concatenate([np.ravel(w), np.ravel(x)]))
    if key in _VISIBLE_SIGMOID:
        f, dw, dx = _VISIBLE_SIGMOID[key]
        return f, np.array(dw), np.array(dx)
    return 0.0, np.zeros(3), np.zeros(2)


def matvec_l2(W, x):
    if np.shape(W) == (2, 2) and np.allclose(W, [[0.1, 0.5], [-0.3, 0.8]]) and np.allclose(x, [0.2, 0.4]):
        return 0.116, np.array([[0.088, 0.176], [0.104, 0.208]]), np.array([-0.112, 0.636])
    return 0.0, np.zeros(np.shape(W)), np.zeros(np.shape(x))
'''

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
    Attack("hardcode_visible_values", "sigmoid_circuit and matvec_l2 return the visible tests' expected values "
           "for their inputs and a constant with zero gradients for any other",
           append_to_answer(HARDCODE), traces=("hidden",)),
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
    Attack("many_cells", "5,000 empty cells of the student's own (each read of them costs nbformat seconds)",
           many_cells, traces=("unreadable",)),
    Attack("huge_cell", "1 MB of code in an answer cell (its syntax tree would take the review flags gigabytes)",
           huge_cell(), traces=("flag",)),
)
