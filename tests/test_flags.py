"""Review flags (autograder/grading/flags.py): what attack code writes is flagged, honest code never is."""
from __future__ import annotations

import time

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.course import release_notebooks, source_notebooks
from autograder.quality.mutants import write_reference
from autograder.grading.flags import flag_suspicious_code, suspicious_code

SETUP = "import numpy as np\nfrom nn_helpers.checks import check_close"


def flags_for(answer: str, extra: str | None = None) -> list[str]:
    """The flags of a notebook with a locked setup cell, one answer cell and maybe a cell of the student's own."""
    locked = {"nbgrader": {"grade_id": "setup", "locked": True, "solution": False, "grade": False}}
    answer_cell = {"nbgrader": {"grade_id": "task", "locked": False, "solution": True, "grade": False}}
    cells = [new_code_cell(SETUP, metadata=locked), new_code_cell(answer, metadata=answer_cell)]
    if extra is not None:
        cells.append(new_code_cell(extra))
    return [f"{flag.cell}: {flag.change}" for flag in suspicious_code("n.ipynb", new_notebook(cells=cells))]


def test_the_reference_and_the_release_raise_no_flag(tmp_path):
    reference = write_reference(source_notebooks(), release_notebooks(), tmp_path / "reference")
    assert flag_suspicious_code(reference) == []
    assert flag_suspicious_code(release_notebooks()) == []


@pytest.mark.parametrize("code, flag", [
    ("np.allclose = lambda *a, **k: True", "task: replaces np.allclose"),
    ("import nn_helpers.checks as c\nc.check_close = None", "task: replaces c.check_close"),
    ("check_close = print", "task: rebinds check_close"),
    ("setattr(np, 'max', min)", "task: replaces an attribute of np with setattr"),
    ("class A:\n    def __eq__(self, other):\n        return True", "task: class A redefines __eq__"),
    ("class B(np.ndarray):\n    pass", "task: class B subclasses numpy's ndarray"),
    ("print('All tests passed!')", "task: prints that tests passed"),
    ("import os\nos.kill(-1, 9)", "task: calls os.kill"),
    ("import subprocess\nsubprocess.run(['ls'])", "task: calls subprocess.run"),
    ("import socket\nsocket.create_connection(('h', 1))", "task: calls socket.create_connection"),
    ("path = '../../solutions/two_layer_net/1.ipynb'", "task: names the grading course's files"),
])
def test_attack_code_is_flagged_with_its_cell(code, flag):
    assert any(found.startswith(flag) for found in flags_for(code)), flags_for(code)


def test_a_cell_of_the_students_own_is_named_by_its_place_not_a_number():
    """Is a flagged cell without a grade_id named as the student finds it (JupyterLab shows no numbers)?"""
    assert flags_for("x = 1", extra="np.max = min") == \
        ["the 3rd code cell of the notebook: replaces np.max, part of a library the tests use (flagged for review; "
         "the grader's tests do not run in the notebook, so it cannot change a score)"]


@pytest.mark.parametrize("code", [
    "dx[np.arange(3), y] -= 1.0",            # a subscript that uses np is no rebinding of np
    "self.params['W'] = w\nconfig['velocity'] = v",
    "a, (b, c) = 1, (2, 3)",
    "print('training loss', 0.3)",
    "import os\nos.path.exists('best_model.npz')",
    "def f(x):\n    return x.max()",
])
def test_ordinary_code_is_not_flagged(code):
    assert flags_for(code) == []


def test_code_that_does_not_parse_is_left_to_the_tests():
    assert flags_for("def broken(:\n    np.allclose = 1") == []


def test_a_cell_too_long_to_read_is_flagged_without_being_parsed():
    """Is a 1 MiB answer cell (whose syntax tree would take the grader gigabytes) flagged as too long, unread?"""
    start = time.perf_counter()
    flags = flags_for("a = 1\n" * (2 ** 20 // 6))
    assert flags == ["task: holds 1023 KiB of code, more than the 64 KiB the review reads (flagged for review; "
                     "it cannot change a score)"]
    assert time.perf_counter() - start < 2.0
