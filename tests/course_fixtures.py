"""A small nbgrader course built in a temporary folder, with a class of submissions.

The toy assignment has one notebook with two autograded tests (2 and 1 points, the
second with a hidden part); it grades in seconds, so the grading pipeline can be
tested end to end. Each submission type is a realistic way a submission goes wrong.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.course import CONFIG_FILE, ROOT, run_nbgrader

ASSIGNMENT = "toy"
NOTEBOOK = "squares.ipynb"
MAX_SCORE = 3.0

ANSWER = '''def square(x):
    """Return x * x."""
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION
'''
TEST_VISIBLE = '''"""Does square give 9 for 3?"""
assert square(3) == 9, f"square(3) should be 9, got {square(3)}"
'''
TEST_HIDDEN = '''"""Does square work for negative numbers?"""
assert square(-1) == 1, f"square(-1) should be 1, got {square(-1)}"
### BEGIN HIDDEN TESTS
assert square(-2) == 4, f"square(-2) should be 4, got {square(-2)}"
### END HIDDEN TESTS
'''

# answer cell bodies of the simulated class: student -> answer source (None: the untouched release)
BODIES = {
    "ada": ANSWER,                                                       # correct
    "ben": None,                                                         # untouched release
    "cy": "def square(x):\n    return x + x\n",                          # wrong: passes 2 + 2, fails 3
    "dee": "def square(x):\n    return x * abs(x)\n",                    # fails the negative test only
    "eve": "while True:\n    pass\n",                                    # loops forever
    "fay": "blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))\n",  # exhausts memory
    "gus": "import os\nos.kill(os.getpid(), 9)\n",                       # kills its kernel
    "jay": "import subprocess\nkids = [subprocess.Popen(['sleep', '60']) for _ in range(1000)]\n",  # past the process cap
}
CORRUPT = "hal"                                                          # not a notebook at all
TAMPERED = "kim"                      # correct, but deleted the hidden-test cell: restored, scored, flagged
EXPECTED_STATUS = {"ada": "graded", "ben": "graded", "cy": "graded", "dee": "graded",
                   "eve": "timeout", "fay": "memory", "gus": "kernel died", "hal": "unreadable",
                   "jay": "sandbox", "kim": "graded"}
EXPECTED_SCORE = {"ada": 3.0, "ben": 0.0, "cy": 0.0, "dee": 2.0, "eve": 0.0, "fay": 0.0, "gus": 0.0, "hal": 0.0,
                  "jay": 0.0, "kim": 3.0}


def _cell(kind, source, grade_id, **flags):
    meta = {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "solution": False, "grade": False,
                         "locked": False, **flags}}
    return (new_code_cell if kind == "code" else new_markdown_cell)(source, metadata=meta)


def source_notebook(answer: str = ANSWER):
    return new_notebook(cells=[
        new_markdown_cell("# Squares"),
        _cell("code", answer, "answer_square", solution=True),
        _cell("code", TEST_VISIBLE, "test_square_positive", grade=True, locked=True, points=2),
        _cell("code", TEST_HIDDEN, "test_square_negative", grade=True, locked=True, points=1),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def make_course(root: Path, cell_timeout: int = 20) -> Path:
    """A course at `root` with the kit's nbgrader config, the toy source and its generated release."""
    root.mkdir(parents=True, exist_ok=True)
    config = (ROOT / CONFIG_FILE).read_text() + f"\nc.Execute.timeout = {cell_timeout}\n"
    (root / CONFIG_FILE).write_text(config)
    source = root / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / NOTEBOOK)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], root)
    return root


def submit(course: Path, student: str, answer: str | None) -> Path:
    """Put a submission for `student` in the course; answer None submits the untouched release."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if answer is None:
        shutil.copy2(course / "assignment" / ASSIGNMENT / NOTEBOOK, folder / NOTEBOOK)
    else:
        release = nbformat.read(course / "assignment" / ASSIGNMENT / NOTEBOOK, as_version=4)
        for cell in release.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = answer
        nbformat.write(release, folder / NOTEBOOK)
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return folder


def make_class(course: Path, students=tuple(BODIES) + (CORRUPT, TAMPERED)) -> None:
    """Submit the simulated class (or the named students of it)."""
    for student in students:
        if student == CORRUPT:
            folder = submit(course, student, None)
            (folder / NOTEBOOK).write_text('{"cells": [ this is not json')
        elif student == TAMPERED:
            folder = submit(course, student, ANSWER)
            notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
            notebook.cells = [c for c in notebook.cells
                              if c.metadata.get("nbgrader", {}).get("grade_id") != "test_square_negative"]
            nbformat.write(notebook, folder / NOTEBOOK)
        else:
            submit(course, student, BODIES[student])
