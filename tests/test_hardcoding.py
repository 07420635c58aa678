"""Tests for autograder.quality.hardcoding: every hidden part fails a function right on the visible inputs only."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.course import source_notebooks
from autograder.grading.scoring import autograded_tests
from autograder.quality.hardcoding import NOT_MEMORISED, memorising_run

NOTEBOOKS = sorted(source_notebooks().glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_memorised_visible_values_pass_the_visible_parts_and_fail_the_hidden_ones(path):
    """With every answer function replaced by one that knows only the visible inputs' results (zeros
    elsewhere), does each test's visible part pass and its hidden part fail?"""
    outcomes = memorising_run(path)
    assert {test: visible for test, (visible, _) in outcomes.items()} == dict.fromkeys(outcomes, True)
    passed_hidden = [test for test, (_, hidden) in outcomes.items() if hidden]
    assert passed_hidden == [], f"these hidden parts do not compare with the reference's values: {passed_hidden}"


def test_every_test_is_memorised_or_declared_out_of_reach():
    """Is every autograded test checked against memorised values, or listed with the reason it cannot be?"""
    tests = {grade_id for _, grade_id, _, _ in autograded_tests(source_notebooks())}
    checked = {test for path in NOTEBOOKS for test in memorising_run(path)}
    assert checked | set(NOT_MEMORISED) == tests and not checked & set(NOT_MEMORISED)


def cell(kind: str, source: str, grade_id: str):
    meta = {"grade": kind == "test", "grade_id": grade_id, "locked": kind != "answer", "schema_version": 3,
            "solution": kind == "answer", "points": 1}
    return new_code_cell(source, metadata={"nbgrader": meta})


SETUP = "import numpy as np\nfrom nn_helpers.checks import check_close, check_gradient\n" \
        "from nn_helpers.gradient_check import eval_numerical_gradient"
VISIBLE = 'f, df = square(np.array([3.0]))\ncheck_close("f", f, [9.0])\ncheck_close("df", df, [6.0])\n'


@pytest.mark.parametrize("hidden, caught", [
    ('x = np.array([-2.0, 0.5])\nf, df = square(x.copy())\n'
     'check_gradient("df", df, eval_numerical_gradient(lambda x_: square(x_)[0].sum(), x.copy()))', False),
    ('x = np.array([-2.0, 0.5])\nf, df = square(x.copy())\ncheck_close("f", f, x ** 2)\ncheck_close("df", df, 2 * x)',
     True),
], ids=["consistency only", "reference values"])
def test_a_hidden_part_that_checks_only_consistency_is_found_out(tmp_path, hidden, caught):
    """Does a hidden part that compares the gradient with the numeric gradient of the student's own function
    pass memorised values (so the check above can fail), and one that compares with reference values not?"""
    path = tmp_path / "toy.ipynb"
    nbformat.write(new_notebook(cells=[
        cell("setup", SETUP, "setup"), cell("answer", "def square(x):\n    return x ** 2, 2 * x", "task"),
        cell("test", f"{VISIBLE}### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS", "test_square")]), path)
    assert memorising_run(path) == {"test_square": (True, not caught)}
