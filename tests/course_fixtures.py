"""A small nbgrader course built in a temporary folder, with a class of submissions.

The toy assignment has one notebook with two autograded tests (2 and 1 points, the
second with a hidden part) and a question graded by hand (1 point); it grades in
seconds, so the grading pipeline can be tested end to end. Each submission type is a
realistic way a submission goes wrong. `make_course(..., loader=True)` adds a second
notebook that loads `square` from the first and saves a "model" in a training cell, for
the failures that cross notebooks (LOADER_CLASS); `independent=True` a copy of the first
under another name, which no notebook loads (for regrades that reuse what did not change).
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.course import CONFIG_FILE, ROOT, run_nbgrader

ASSIGNMENT = "toy"
NOTEBOOK = "squares.ipynb"
AUTOGRADED_MAX = 3.0
MANUAL_MAX = 1.0                          # the question graded by hand
MAX_SCORE = AUTOGRADED_MAX + MANUAL_MAX   # what nbgrader's gradebook (and every total) counts

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

# Right for the visible tests' inputs only; for the hidden one it raises, quoting a number made from the
# hidden input: that number must reach the instructor's results, and nothing a student reads.
HIDDEN_NUMBER = "-4242.4242"
HARDCODED = ("def square(x):\n    if x in (3, -1):\n        return x * x\n"
             "    raise ValueError(f'no square for {x * 2121.2121:.4f}')\n")

# answer cell bodies of the simulated class: student -> answer source (None: the untouched release)
BODIES = {
    "ada": ANSWER,                                                       # correct
    "ben": None,                                                         # untouched release
    "cy": "def square(x):\n    return x + x\n",                          # wrong: passes 2 + 2, fails 3
    "dee": "def square(x):\n    return x * abs(x)\n",                    # fails the negative test only
    "eve": "def square(x):\n    return x * x\n\n\nwhile True:\n    pass\n",  # loops after defining square
    "fay": "blocks = []\nwhile True:\n    blocks.append(bytearray(10**8))\n",  # exhausts memory
    "gus": "import os\nos.kill(os.getpid(), 9)\n",                       # kills its kernel
    "jay": "import subprocess\nkids = [subprocess.Popen(['sleep', '60']) for _ in range(1000)]\n",  # past the process cap
    "lee": "def square(x):\nreturn x * x\n",                             # an IndentationError at line 2
    "mo": HARDCODED,                                                     # right on the visible inputs only
}
CORRUPT = "hal"                                                          # not a notebook at all
TAMPERED = "kim"                      # correct, but deleted the hidden-test cell: restored, scored, flagged
EXPECTED_STATUS = {"ada": "graded", "ben": "graded", "cy": "graded", "dee": "graded",
                   "eve": "timeout", "fay": "memory", "gus": "kernel died", "hal": "unreadable",
                   "jay": "sandbox", "kim": "graded", "lee": "syntax error",
                   "mo": "graded"}
EXPECTED_SCORE = {"ada": 3.0, "ben": 0.0, "cy": 0.0, "dee": 2.0, "eve": 0.0, "fay": 0.0, "gus": 0.0, "hal": 0.0,
                  "jay": 0.0, "kim": 3.0, "lee": 0.0, "mo": 2.0}
QUESTION = "question_why_square"


def _cell(kind, source, grade_id, **flags):
    meta = {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "solution": False, "grade": False,
                         "locked": False, **flags}}
    return (new_code_cell if kind == "code" else new_markdown_cell)(source, metadata=meta)


KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def source_notebook(answer: str = ANSWER):
    return new_notebook(cells=[
        new_markdown_cell("# Squares"),
        new_markdown_cell("## Task 1: Square a number"),
        _cell("code", answer, "answer_square", solution=True),
        _cell("code", TEST_VISIBLE, "test_square_positive", grade=True, locked=True, points=2),
        _cell("code", TEST_HIDDEN, "test_square_negative", grade=True, locked=True, points=1),
        new_markdown_cell("## Question 1: Why square?"),
        _cell("markdown", "### BEGIN SOLUTION\nAreas.\n### END SOLUTION", QUESTION, solution=True, grade=True,
              points=MANUAL_MAX),
    ], metadata=KERNEL)


# The second notebook of the loader course: loads `square`, "trains" and saves a model, tests the saved file.
LOADER_NOTEBOOK = "totals.ipynb"   # after squares.ipynb: nbgrader runs notebooks in name order
LOADER_SETUP = ('import os\nimport numpy as np\nfrom nn_helpers.checks import check_true\n'
                'from nn_helpers.notebook_import import load_from_notebook\n\n'
                'square = load_from_notebook("squares.ipynb", "square")\nMODEL_FILE = "best_model.npz"\n')
LOADER_ANSWER = ("weights = np.array([square(2.0), square(3.0)])\n"
                 "### BEGIN SOLUTION\nweights = weights * 1.0\n### END SOLUTION\nnp.savez(MODEL_FILE, w=weights)\n")
LOADER_TEST = ('"""Did the training cell save its model?"""\n'
               'check_true("the saved model", os.path.exists(MODEL_FILE), f"{MODEL_FILE} is missing: run the cell above")\n')


def loader_notebook():
    training = _cell("code", LOADER_ANSWER, "train_totals", solution=True)
    training.metadata["tags"] = ["training"]
    return new_notebook(cells=[
        new_markdown_cell("# Totals"),
        _cell("code", LOADER_SETUP, "setup_totals", locked=True),
        new_markdown_cell("## Task 2: Fit and save"),
        training,
        _cell("code", LOADER_TEST, "test_saved_weights", grade=True, locked=True, points=1),
    ], metadata=KERNEL)


INDEPENDENT_NOTEBOOK = "areas.ipynb"   # before squares.ipynb; the same cells


def make_course(root: Path, cell_timeout: int = 20, loader: bool = False, independent: bool = False) -> Path:
    """A course at `root` with the kit's nbgrader config, the toy source and its generated release
    (with `loader`, the second notebook too; with `independent`, INDEPENDENT_NOTEBOOK)."""
    shutil.copytree(_generated_course(loader, independent), root, dirs_exist_ok=True)
    config = (ROOT / CONFIG_FILE).read_text() + f"\nc.Execute.timeout = {cell_timeout}\n"
    (root / CONFIG_FILE).write_text(config)
    return root


@functools.cache
def _generated_course(loader: bool, independent: bool) -> Path:
    """The course's source, release and gradebook as nbgrader generates them: once per test session (seconds
    each); make_course copies it. The cell time limit is not read by generate_assignment."""
    root = Path(tempfile.mkdtemp(prefix="toy-course-"))
    root.chmod(0o755)   # copytree gives each copy this folder's mode: mkdtemp's 0700 would hide it from others
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / CONFIG_FILE).write_text((ROOT / CONFIG_FILE).read_text())
    source = root / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / NOTEBOOK)
    if loader:
        nbformat.write(loader_notebook(), source / LOADER_NOTEBOOK)
    if independent:
        nbformat.write(source_notebook(), source / INDEPENDENT_NOTEBOOK)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], root)
    return root


def submit(course: Path, student: str, answer: str | None, notebook: str = NOTEBOOK) -> Path:
    """Put a submission for `student` in the course; answer None submits the untouched release.

    `answer` fills the notebook's answer code cell (the question keeps the release's text).
    """
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if answer is None:
        shutil.copy2(course / "assignment" / ASSIGNMENT / notebook, folder / notebook)
    else:
        release = nbformat.read(course / "assignment" / ASSIGNMENT / notebook, as_version=4)
        for cell in release.cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                cell.source = answer
        nbformat.write(release, folder / notebook)
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


# The loader course's class: student -> (answer of squares.ipynb or None for an unreadable file, answer of totals.ipynb)
LOADER_CLASS = {
    "ann": (ANSWER, LOADER_ANSWER),                                                   # correct
    "bob": (None, LOADER_ANSWER),                                                     # squares.ipynb unreadable
    "cal": (ANSWER, LOADER_ANSWER.replace("np.savez", "raise ValueError('diverged')\nnp.savez")),  # training crashes
    "dot": ("def square(x):\nreturn x * x\n", LOADER_ANSWER),                         # a syntax error totals.ipynb loads
}


def make_loader_class(course: Path, students=tuple(LOADER_CLASS)) -> None:
    """Submit the loader course's class (or the named students of it)."""
    for student in students:
        squares, totals = LOADER_CLASS[student]
        folder = submit(course, student, squares if squares is not None else ANSWER)
        if squares is None:
            (folder / NOTEBOOK).write_text('{"cells": [ this is not json')
        submit(course, student, totals, LOADER_NOTEBOOK)


def edit_answer(folder: Path, notebook: str, line: str = "# checked once more") -> None:
    """Append a harmless line to every answer code cell of `notebook` in a submission folder (a resubmission)."""
    path = folder / notebook
    edited = nbformat.read(path, as_version=4)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source += f"\n{line}\n"
    nbformat.write(edited, path)


def submit_all(course: Path, student: str, answers: dict[str, str]) -> Path:
    """Submit every notebook of the course for `student` (notebook -> answer; others get ANSWER or LOADER_ANSWER)."""
    folder = course / "submitted" / student / ASSIGNMENT
    for path in sorted((course / "assignment" / ASSIGNMENT).glob("*.ipynb")):
        default = LOADER_ANSWER if path.name == LOADER_NOTEBOOK else ANSWER
        folder = submit(course, student, answers.get(path.name, default), path.name)
    return folder
