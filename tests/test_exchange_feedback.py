"""`exchange-feedback`: the kit's feedback pages in nbgrader's feedback layout, ready for release_feedback."""
from __future__ import annotations

import pytest

from autograder.course import CONFIG_FILE, ROOT
from autograder.exchange_feedback import write_exchange_feedback
from autograder.results import SubmissionResult, save_result
from autograder.results import TestResult as Result  # not a test class

ASSIGNMENT = "toy"


def collected(course, student, notebooks, secret=True):
    """A submission as `nbgrader collect` leaves it, and its graded result."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name in notebooks:
        (folder / name).write_text("{}")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    if secret:
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    save_result(SubmissionResult(student, ASSIGNMENT, "f", [
        Result("a.ipynb", "test_a", "Does a work?", 2.0, 2.0, True),
        Result("b.ipynb", "test_b", "Does b work?", 0.0, 1.0, False, "CheckFailed: b <script>x</script>")]), course)


@pytest.fixture
def course(tmp_path):
    (tmp_path / CONFIG_FILE).write_text((ROOT / CONFIG_FILE).read_text())
    return tmp_path


def test_a_page_per_submitted_notebook_beside_the_submissions_files(course):
    """Is the kit's page written as feedback/<student>/<assignment>/<notebook>.html with the timestamp and secret?"""
    collected(course, "ada", ["a.ipynb", "b.ipynb"])
    written, skipped = write_exchange_feedback(course, ASSIGNMENT)
    folder = course / "feedback" / "ada" / ASSIGNMENT
    assert written == [folder / "a.html", folder / "b.html"] and skipped == []
    assert (folder / "submission_secret.txt").read_text() == "secret-of-ada"
    assert (folder / "timestamp.txt").read_text().startswith("2026-11-20")
    page = (folder / "b.html").read_text()
    assert "Total: 2 / 3" in page and "&lt;script&gt;" in page and "<script>" not in page


def test_submissions_not_from_an_exchange_are_skipped_with_the_reason(course):
    """Is a submission without nbgrader's secret (not collected from an exchange) skipped, saying why?"""
    collected(course, "ada", ["a.ipynb"])
    collected(course, "ben", ["a.ipynb"], secret=False)
    written, skipped = write_exchange_feedback(course, ASSIGNMENT)
    assert [p.parent.parent.name for p in written] == ["ada"]
    assert len(skipped) == 1 and skipped[0].startswith("ben: no submission_secret.txt")
    assert "nbgrader collect" in skipped[0]


def test_without_results_it_says_to_grade_first(course):
    """With nothing graded, does it fail saying to run `grade`?"""
    with pytest.raises(FileNotFoundError, match="autograder grade"):
        write_exchange_feedback(course, ASSIGNMENT)
