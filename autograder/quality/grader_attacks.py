"""Attacks on the grading process itself: what a submission can send it, make it read, or make it wait for.

The catalogue (attacks.py) applies them to notebook 1 of the honest submission. The code
attacks act only when the grader calls the student's functions (in the trusted worker,
recognised by the wire module it imports): the notebook's own run sees honest code. The
file attacks change the submission folder or the notebook itself; `write_npz_bomb` makes
a saved model for the model tests (the toy catalogue has none).
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from numpy.lib import format as npy

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
    """An output of `megabytes` MB kept in a cell of the student's own (20: over the notebook limit, under the folder's)."""
    def edit(notebook):
        output = new_output("stream", name="stdout", text="x" * (megabytes * 10 ** 6))
        notebook.cells.append(new_code_cell("", outputs=[output]))
    return edit


def many_cells(notebook):
    """5,000 empty cells of the student's own."""
    notebook.cells += [new_code_cell("") for _ in range(5000)]


def huge_cell(megabytes: float = 1.0) -> Callable[[NotebookNode], None]:
    """`megabytes` MB of `_padding = 1` lines at the end of the last answer cell of notebook 1."""
    def edit(notebook):
        answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "task_1_4_matvec_l2")
        answer.source += "\n" + "_padding = 1\n" * int(megabytes * 10 ** 6 / 13)
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
