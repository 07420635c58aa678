"""Tests for autograder.gradescope_results: a result as Gradescope's results.json, hidden tests kept hidden."""
import json

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from autograder.gradescope_results import BY_HAND, results_json, graded_cells
from autograder.results import Failure, Flag, SubmissionResult, TestResult as Result
from course_fixtures import NOTEBOOK, source_notebook

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
HIDDEN_INPUT = "square(-2) should be 4, got -4"   # what only the hidden part of test_square_negative checks


@pytest.fixture
def source_dir(tmp_path):
    """The toy reference notebook (one test without, one with a hidden part) plus an answer graded by hand."""
    notebook = source_notebook()
    notebook.cells.append(new_markdown_cell("YOUR ANSWER HERE", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "grade_id": "question_why", "points": 2,
        "schema_version": 3}}))
    nbformat.write(notebook, tmp_path / NOTEBOOK)
    return tmp_path


def result(*tests, failures=(), flags=()) -> SubmissionResult:
    return SubmissionResult("student", "toy", "f" * 64, list(tests), list(failures), 3.4, list(flags))


def visible_fail(message="AssertionError: square(3) should be 9, got 6"):
    return Result(NOTEBOOK, "test_square_positive", "Does square give 9 for 3?", 0.0, 2.0, False, message)


def hidden_fail(message=f"AssertionError: {HIDDEN_INPUT}", hidden=True):
    return Result(NOTEBOOK, "test_square_negative", "Does square work for negative numbers?", 0.0, 1.0, False, message,
                  hidden)


def entries(record, visibility):
    return {t["name"].split(":")[0].split(" ")[0]: t for t in record["tests"] if t["visibility"] == visibility}


def test_the_reference_cells_say_which_tests_have_hidden_parts_and_which_answers_are_graded_by_hand(source_dir):
    """Are the test with a hidden part, the one without, and the answer graded by hand told apart?"""
    cells = graded_cells(source_dir)
    assert cells[(NOTEBOOK, "test_square_positive")] == {"points": 2.0, "hidden": False, "by_hand": False}
    assert cells[(NOTEBOOK, "test_square_negative")] == {"points": 1.0, "hidden": True, "by_hand": False}
    assert cells[(NOTEBOOK, "question_why")] == {"points": 2.0, "hidden": False, "by_hand": True}


def test_a_failed_visible_test_shows_its_message_to_the_student(source_dir):
    """Does a failure of a test cell without hidden part show its message, visibly, with its points?"""
    record = results_json(result(visible_fail()), source_dir)
    test = entries(record, "visible")["test_square_positive"]
    assert (test["score"], test["max_score"], test["status"]) == (0.0, 2.0, "failed")
    assert test["output"] == "AssertionError: square(3) should be 9, got 6"
    assert "test_square_positive" not in entries(record, "after_published")


def test_a_failure_in_a_hidden_part_shows_only_the_students_text_until_grades_are_published(source_dir):
    """Is a hidden failure's message kept from the student (the result's student_message is shown), and the raw
    message shown only after publication?"""
    failed = hidden_fail()
    record = results_json(result(failed), source_dir)
    shown = [t for t in record["tests"] if t["visibility"] != "after_published"]
    assert HIDDEN_INPUT not in json.dumps(shown) and HIDDEN_INPUT not in record["output"]
    assert entries(record, "visible")["test_square_negative"]["output"] == failed.student_message
    details = entries(record, "after_published")["test_square_negative"]
    assert (details["score"], details["max_score"]) == (0.0, 0.0) and HIDDEN_INPUT in details["output"]


def test_why_a_test_did_not_run_is_never_withheld(source_dir):
    """Is 'not run: ...' (a missing notebook, say) shown even for a test with a hidden part?"""
    missing = hidden_fail("not run: is missing from the submission", hidden=False)
    record = results_json(result(missing, failures=[Failure("unreadable", NOTEBOOK, "is missing from the submission")]),
                          source_dir)
    assert entries(record, "visible")["test_square_negative"]["output"] == "not run: is missing from the submission"
    assert "is missing from the submission" in record["output"]


def test_answers_graded_by_hand_are_pending(source_dir):
    """Is an answer graded by hand a visible test at 0 of its points that says it is graded by hand?"""
    record = results_json(result(visible_fail()), source_dir)
    pending = entries(record, "visible")["question_why"]
    assert (pending["score"], pending["max_score"], pending["output"]) == (0.0, 2.0, BY_HAND)
    assert "points are graded by hand" in record["output"]


def test_flags_and_notes_for_the_instructor_stay_hidden_from_students(source_dir):
    """Do flags and instructor notes reach only a hidden entry, while student notes reach the summary?"""
    flag = Flag(NOTEBOOK, "answer_square", "calls subprocess.run (flagged for review)")
    record = results_json(result(visible_fail(), flags=[flag]), source_dir, notes=["Not graded: extra.ipynb."],
                          instructor_notes=["Graded without the sandbox."])
    [private] = entries(record, "hidden").values()
    assert "calls subprocess.run" in private["output"] and "without the sandbox" in private["output"]
    assert private["max_score"] == 0.0
    public = json.dumps([t for t in record["tests"] if t["visibility"] != "hidden"]) + record["output"]
    assert "subprocess" not in public and "sandbox" not in public
    assert "Not graded: extra.ipynb." in record["output"]


def test_the_record_follows_gradescopes_format(source_dir):
    """Does every test carry a name, a score, a max_score and a known visibility; is the total the tests' score?"""
    passed = Result(NOTEBOOK, "test_square_positive", "Does square give 9 for 3?", 2.0, 2.0, True)
    record = json.loads(json.dumps(results_json(result(passed, hidden_fail()), source_dir)))
    assert record["score"] == 2.0 and record["stdout_visibility"] == "hidden" and record["execution_time"] == 3
    for test in record["tests"]:
        assert {"name", "score", "max_score", "visibility", "output"} <= set(test) and test["visibility"] in VISIBILITIES
    assert entries(record, "visible")["test_square_positive"]["output"] == ""
