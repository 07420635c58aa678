"""Tests for autograder.grading.restore: a submitted notebook is put back in the release's shape."""
import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.grading.restore import grade_id, restore_notebook
from course_fixtures import ASSIGNMENT, NOTEBOOK, QUESTION, make_course

ANSWER = "def square(x):\n    return x * x\n"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("restore") / "course")
    return nbformat.read(course / "assignment" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(release, answer=ANSWER):
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        if grade_id(cell) == "answer_square":
            cell.source = answer
    return notebook


def cell(notebook, gid):
    return next(c for c in notebook.cells if grade_id(c) == gid)


def changes(flags):
    return [(flag.cell, flag.change.split(";")[0]) for flag in flags]


def test_an_honest_submission_is_kept_as_it_is(release):
    """Does an untampered submission come back unchanged, with no flags?"""
    honest = submission(release)
    honest.cells.insert(2, new_code_cell("print(square(4))"))  # the student's own cell
    restored, flags = restore_notebook(honest, release, NOTEBOOK)
    assert flags == []
    assert [c.source for c in restored.cells] == [c.source for c in honest.cells]


def test_an_edited_test_cell_is_restored_and_flagged(release):
    """Is a test cell rewritten to pass restored from the release, and named in a flag?"""
    edited = submission(release, "def square(x):\n    return 0\n")
    cell(edited, "test_square_positive").source = "pass  # all tests passed"
    restored, flags = restore_notebook(edited, release, NOTEBOOK)
    assert cell(restored, "test_square_positive").source == cell(release, "test_square_positive").source
    assert changes(flags) == [("test_square_positive", "was edited (its checksum differs from the release's)")]
    assert cell(restored, "answer_square").source == "def square(x):\n    return 0\n"


def test_a_deleted_test_cell_is_put_back_in_its_place(release):
    """Is a deleted test cell restored where the release has it, and flagged?"""
    deleted = submission(release)
    deleted.cells = [c for c in deleted.cells if grade_id(c) != "test_square_positive"]
    restored, flags = restore_notebook(deleted, release, NOTEBOOK)
    assert [grade_id(c) for c in restored.cells if grade_id(c)] == \
        ["answer_square", "test_square_positive", "test_square_negative", QUESTION]
    assert changes(flags) == [("test_square_positive", "was deleted")]


def test_duplicated_and_moved_cells_are_undone(release):
    """Are a duplicated test cell removed and a test moved above its answer put back, each flagged?"""
    shuffled = submission(release)
    test = cell(shuffled, "test_square_negative")
    shuffled.cells.remove(test)
    shuffled.cells.insert(1, test)                      # before the answer it tests
    shuffled.cells.append(copy.deepcopy(test))          # and once more at the end
    restored, flags = restore_notebook(shuffled, release, NOTEBOOK)
    assert [grade_id(c) for c in restored.cells if grade_id(c)] == \
        ["answer_square", "test_square_positive", "test_square_negative", QUESTION]
    assert sorted(changes(flags)) == [("answer_square", "was moved"), ("test_square_negative", "was duplicated"),
                                      ("test_square_positive", "was moved")]


def test_changed_metadata_is_restored(release):
    """Does a test cell turned into an ordinary cell, or an answer cell re-marked, come back as released?"""
    demoted = submission(release)
    cell(demoted, "test_square_positive").metadata["nbgrader"]["points"] = 20
    cell(demoted, "answer_square").metadata["nbgrader"]["locked"] = True
    restored, flags = restore_notebook(demoted, release, NOTEBOOK)
    assert cell(restored, "test_square_positive").metadata["nbgrader"]["points"] == 2
    assert cell(restored, "answer_square").metadata["nbgrader"] == cell(release, "answer_square").metadata["nbgrader"]
    assert sorted(changes(flags)) == [("answer_square", "had its nbgrader metadata changed"),
                                      ("test_square_positive", "was edited (its checksum differs from the release's)")]


def test_a_test_cell_stripped_of_its_metadata_is_restored_beside_it(release):
    """Is a test cell whose nbgrader metadata was deleted restored from the release (the copy stays as the student's cell)?"""
    stripped = submission(release)
    cell(stripped, "test_square_negative").metadata.pop("nbgrader")
    restored, flags = restore_notebook(stripped, release, NOTEBOOK)
    assert cell(restored, "test_square_negative").source == cell(release, "test_square_negative").source
    assert changes(flags) == [("test_square_negative", "was deleted")]
