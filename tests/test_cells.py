"""Cell roles (nn_helpers/cells.py): one decision for the loader, the worker, the grader and nbgrader."""

import nbformat
import pytest
from nbgrader import utils

from autograder.course import source_notebooks
from nn_helpers.cells import (NoIPython, cell_label, defining_cells, is_answer, is_graded, is_locked, is_test,
                              python_source)

SETUP = {"grade": False, "solution": False, "locked": True}
ANSWER = {"grade": False, "solution": True, "locked": False}
GRADED_ANSWER = {"grade": True, "solution": True, "locked": False}
TEST = {"grade": True, "solution": False, "locked": True, "points": 1}


def code(source: str, nbgrader: dict | None = None, tags: tuple = ()) -> dict:
    metadata = {"tags": list(tags)}
    if nbgrader is not None:
        metadata["nbgrader"] = dict(nbgrader)
    return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": [], "execution_count": None}


def markdown(source: str, nbgrader: dict | None = None) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {"nbgrader": dict(nbgrader)} if nbgrader else {}}


# --- which cells define the answers -----------------------------------------------------------
def test_defining_cells_are_setup_answer_and_export_cells():
    """Are setup, locked, answer and export cells chosen, and test, plain, markdown and training cells skipped?"""
    cells = [
        code("import numpy as np", SETUP),
        code("def f(): pass", ANSWER),
        code("assert f() is None", TEST),
        code("print('scratch')"),
        markdown("An answer in words.", ANSWER),
        code("net.train()", ANSWER, tags=("training",)),
        code("def shared(): pass", tags=("export",)),
        code("def g(): pass", GRADED_ANSWER),
        code("assert g() is None", TEST, tags=("export",)),
        code("def h(): pass", {"grade": False, "solution": False, "locked": False}),
    ]
    chosen = defining_cells(cells, with_locked=True)
    assert [number for number, _ in chosen] == [1, 2, 7, 8]
    assert all(cell is cells[number - 1] for number, cell in chosen)


def test_a_notebook_without_cells_defines_nothing():
    """Does an empty notebook give no defining cells?"""
    assert defining_cells([], with_locked=True) == []


def test_magics_become_harmless_calls():
    """Does `%matplotlib inline` (and a shell escape) become a call that does nothing under NoIPython?"""
    source = python_source("%matplotlib inline\n!ls /nowhere\nvalue = 41 + 1\n")
    assert "%" not in source and "!" not in source
    namespace = {"get_ipython": NoIPython}
    exec(compile(source, "<cell>", "exec"), namespace)
    assert namespace["value"] == 42


def test_the_body_of_a_timing_cell_magic_runs_once():
    """Does a %%time cell still define its function (and %%writefile, which is no timing, nothing)?"""
    namespace = {"get_ipython": NoIPython}
    exec(compile(python_source("%%time\ndef double(x):\n    return 2 * x\n"), "<cell>", "exec"), namespace)
    assert namespace["double"](21) == 42
    exec(compile(python_source("%%writefile notes.txt\nhello = 1\n"), "<cell>", "exec"), namespace)
    assert "hello" not in namespace



def test_the_loader_skips_locked_cells():
    """Does load_from_notebook's choice (with_locked=False) take answer and export cells only?"""
    cells = [code("import numpy as np", SETUP), code("def f(): pass", ANSWER), code("x = 1", tags=("export",))]
    assert [number for number, _ in defining_cells(cells, with_locked=False)] == [2, 3]


@pytest.mark.parametrize("path", sorted(source_notebooks().glob("*.ipynb")), ids=lambda p: p.stem)
def test_roles_agree_with_nbgrader(path):
    """Does every cell of the reference notebooks get the role nbgrader's own helpers give it?"""
    for cell in nbformat.read(path, as_version=4).cells:
        assert is_answer(cell) == bool(utils.is_solution(cell))
        assert is_graded(cell) == bool(utils.is_grade(cell))
        assert is_locked(cell) == bool(utils.is_locked(cell))
        assert is_test(cell) == bool(utils.is_grade(cell) and not utils.is_solution(cell))


# --- naming a cell as the student sees it ------------------------------------------------------
def test_a_cell_is_named_by_its_task_heading_and_grade_id():
    """Is a cell named by the heading above it and its grade_id, never by a number JupyterLab does not show?"""
    cells = [
        markdown("# Part 1: Graphs"),
        code("import numpy as np", {**SETUP, "grade_id": "setup_1"}),
        markdown("## Task 1.1: The three gate patterns\n\nSome text."),
        code("def f(): pass", {**ANSWER, "grade_id": "task_1_1_gates"}),
        code("assert f() is None", {**TEST, "grade_id": "test_1_1_gates"}),
        markdown("### BEGIN SOLUTION\nAn answer.\n### END SOLUTION", {**GRADED_ANSWER, "grade_id": "q"}),
        code("print(1)"),
        code("print(2)"),
    ]
    assert [cell_label(cells, i) for i in (1, 3, 4, 6, 7)] == [
        "Part 1 cell (`setup_1`)", "Task 1.1 answer cell (`task_1_1_gates`)", "Task 1.1 test cell (`test_1_1_gates`)",
        "the code cell after 'Task 1.1: The three gate patterns'",
        "the 2nd code cell after 'Task 1.1: The three gate patterns'"]


def test_a_cell_before_any_heading_is_still_named_without_a_number():
    """Does a cell with no heading above it get a label by grade_id or its place, with no bare cell number?"""
    cells = [code("x = 1", {**ANSWER, "grade_id": "task_x"}), code("y = 2")]
    assert cell_label(cells, 0) == "the answer cell `task_x`"
    assert cell_label(cells, 1) == "the 2nd code cell of the notebook"
