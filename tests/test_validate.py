"""Tests for autograder.validate: nbgrader's validator on a source folder and on its release.

They use the toy course (seconds). The real solutions and release are validated by
grading them in tests/test_adequacy.py: full marks for the reference, every notebook
run top to bottom; zero for the untouched release.
"""
import shutil

import nbformat
import pytest

from autograder.validate import validate_folder
from course_fixtures import ASSIGNMENT, NOTEBOOK, make_course


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("validate") / "course")


def with_answer(folder, dest, answer):
    """A copy of `folder` whose answer cell holds `answer`."""
    shutil.copytree(folder, dest)
    notebook = nbformat.read(dest / NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answer
    nbformat.write(notebook, dest / NOTEBOOK)
    return dest


def test_the_source_passes_and_the_release_fails_as_expected(toy_course):
    """Does the reference pass every test, and the untouched release fail every one (inverted)?"""
    assert [v.ok for v in validate_folder(toy_course / "solutions" / ASSIGNMENT, invert=False, root=toy_course)] == [True]
    assert [v.ok for v in validate_folder(toy_course / "assignment" / ASSIGNMENT, invert=True, root=toy_course)] == [True]


def test_a_wrong_source_is_reported_with_its_failing_test(toy_course, tmp_path):
    """Is a source whose answer is wrong reported, naming the failing test and its error?"""
    wrong = with_answer(toy_course / "solutions" / ASSIGNMENT, tmp_path / ASSIGNMENT, "def square(x):\n    return x + x\n")
    [verdict] = validate_folder(wrong, invert=False, root=toy_course)
    assert not verdict.ok
    assert any(p.startswith("test failed") and "square(3) should be 9" in p for p in verdict.problems), verdict.problems


def test_a_release_that_passes_a_test_is_reported(toy_course, tmp_path):
    """Is a release whose stub already passes a test reported (a stub must never earn points)?"""
    leaky = with_answer(toy_course / "assignment" / ASSIGNMENT, tmp_path / ASSIGNMENT, "def square(x):\n    return x * x\n")
    [verdict] = validate_folder(leaky, invert=True, root=toy_course)
    assert any(p.startswith("test passed on the untouched release") for p in verdict.problems), verdict.problems
