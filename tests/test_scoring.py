"""Tests for autograder.grading.scoring: executed notebooks to per-test results."""
import nbformat
from nbformat.v4 import new_output

from autograder.results import Failure
from autograder.grading.scoring import apply_verdicts, autograded_tests, describe, score_notebooks
from autograder.trusted.tests import Verdict
from course_fixtures import ASSIGNMENT, NOTEBOOK, source_notebook


def write_source(tmp_path):
    folder = tmp_path / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(source_notebook(), folder / NOTEBOOK)
    return folder


def executed(outputs_by_grade_id, drop=()):
    notebook = source_notebook()
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in drop]
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code":
            cell.outputs = outputs_by_grade_id.get(grade_id, [])
            cell.execution_count = 1
    return nbformat.writes(notebook)


def test_describe_reads_the_docstring():
    """Is a test's description the docstring on its first line, and empty without one?"""
    assert describe('"""Does it work?"""\nassert True') == "Does it work?"
    assert describe("assert True") == ""
    assert describe("this is not python (") == ""


def test_test_cells_come_from_the_source(tmp_path):
    """Are the tests, their points and descriptions read from the reference notebooks?"""
    assert autograded_tests(write_source(tmp_path)) == [
        (NOTEBOOK, "test_square_positive", 2.0, "Does square give 9 for 3?"),
        (NOTEBOOK, "test_square_negative", 1.0, "Does square work for negative numbers?")]


def test_scores_and_messages(tmp_path):
    """Does a clean test cell earn its points and an erroring one zero, with the exception as message?"""
    error = new_output("error", ename="AssertionError", evalue="square(-1) should be 1, got -1",
                       traceback=["assert square(-2) == 4  # hidden source in a traceback"])
    results, found = score_notebooks(write_source(tmp_path), {NOTEBOOK: executed({"test_square_negative": [error]})}, [])
    assert [(r.grade_id, r.points, r.passed) for r in results] == [
        ("test_square_positive", 2.0, True), ("test_square_negative", 0.0, False)]
    assert results[1].message == "AssertionError: square(-1) should be 1, got -1"
    assert found == []


def test_missing_notebook_and_missing_cell_score_zero_with_a_reason(tmp_path):
    """Does a test whose notebook or cell is missing still get a row, with zero points and why?"""
    source = write_source(tmp_path)
    results, _ = score_notebooks(source, {}, [Failure("unreadable", NOTEBOOK, "is not a readable notebook")])
    assert [r.message for r in results] == ["not run: is not a readable notebook"] * 2
    results, _ = score_notebooks(source, {NOTEBOOK: executed({}, drop=("test_square_negative",))}, [])
    assert results[1].points == 0 and results[1].message == "not run: the test cell is missing from the submitted notebook"


def test_memory_and_timeouts_are_found_in_outputs(tmp_path):
    """Are MemoryError and a timed-out cell reported as failures of the notebook, each cell named by its task,
    and a cell timed out after the first one not counted (it was not run normally)?"""
    memory = new_output("error", ename="MemoryError", evalue="", traceback=[])
    timeout = new_output("error", ename="CellTimeoutError", evalue="A cell timed out", traceback=[])
    outputs = {"answer_square": [memory], "test_square_positive": [timeout], "test_square_negative": [timeout]}
    _, found = score_notebooks(write_source(tmp_path), {NOTEBOOK: executed(outputs)}, [])
    assert [(f.kind, f.notebook, f.detail) for f in found] == [
        ("memory", NOTEBOOK, "Task 1 answer cell (`answer_square`) ran out of memory (MemoryError)"),
        ("timeout", NOTEBOOK, "Task 1 test cell (`test_square_positive`) ran past the per-cell time limit and was stopped")]


def test_a_test_cell_that_never_ran_gets_zero(tmp_path):
    """Does a test cell without an execution count (never run, so no error output) score zero, not full marks?"""
    notebook = source_notebook()
    results, _ = score_notebooks(write_source(tmp_path), {NOTEBOOK: nbformat.writes(notebook)}, [])
    assert [(r.points, r.message) for r in results] == [(0.0, "not run: the test cell was not executed")] * 2


HIDDEN_FAILURE = Verdict(False, "ValueError: no square for -4242.4242 [raised in square, line 4: raise ValueError(x)]",
                         "ValueError", hidden=True)


def test_a_hidden_failure_reaches_the_notebook_without_its_details_and_the_result_with_them(tmp_path):
    """Does the executed notebook get only what the student may read of a hidden failure, while the test result
    keeps the whole message for the instructor?"""
    text, flags = apply_verdicts(NOTEBOOK, executed({}), {"test_square_negative": HIDDEN_FAILURE})
    assert "4242" not in text and "a hidden test (other shapes and seeds) failed" in text and flags == []
    results, _ = score_notebooks(write_source(tmp_path), {NOTEBOOK: text}, [],
                                 {(NOTEBOOK, "test_square_negative"): HIDDEN_FAILURE})
    assert (results[1].message, results[1].hidden, results[1].points) == (HIDDEN_FAILURE.message, True, 0.0)
    assert "4242" not in results[1].student_message


def test_passed_in_the_notebook_failed_in_the_grader_is_flagged_only_for_a_notebook_that_ran_to_its_end():
    """Is a visible test that passed in the notebook but fails in the grader flagged, unless a limit stopped
    the notebook (then its tests failing in the grader is no sign of tampering)?"""
    failed = {"test_square_positive": Verdict(False, "AssertionError: square(3) should be 9, got 6", "AssertionError")}
    assert [f.cell for f in apply_verdicts(NOTEBOOK, executed({}), failed)[1]] == ["test_square_positive"]
    assert apply_verdicts(NOTEBOOK, executed({}), failed, ran_to_end=False)[1] == []
