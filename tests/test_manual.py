"""Tests for autograder.manual: questions graded by hand count in one total, everywhere."""
from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest
from nbgrader.api import Gradebook

from autograder.export import export
from autograder.feedback import write_feedback
from autograder.grade import grade
from autograder.gradebook_url import course_db_url
from autograder.grading.submission import Limits
from autograder.manual import manual_questions, with_gradebook_grades
from autograder.report import report
from autograder.results import load_results
from course_fixtures import ASSIGNMENT, MANUAL_MAX, MAX_SCORE, NOTEBOOK, QUESTION, make_class, make_course


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course with one correct submission (3 autograded points), graded; the question is not graded yet."""
    course = make_course(tmp_path_factory.mktemp("manual") / "course")
    make_class(course, ["ada"])
    grade(course, ASSIGNMENT, Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30), workers=1, progress=False,
          cifar10_dir=str(course))
    return course


def totals(course, tmp_path) -> dict[str, str]:
    """ada's total as the feedback page, the report, grades.csv and the Gradescope file state it."""
    page = write_feedback(course, ASSIGNMENT, tmp_path / "feedback")[0].read_text()
    text, _ = report(course, ASSIGNMENT, tmp_path / "report")
    written = export(course, ASSIGNMENT, tmp_path / "exports")
    with written["csv"].open(newline="") as handle:
        row = next(csv.DictReader(handle))
    gradescope = json.loads(written["gradescope"][0].read_text())
    return {"feedback": page.split("Total: ", 1)[1].split("</strong>", 1)[0],
            "report": next(line for line in text.splitlines() if line.startswith("ada")).split()[1],
            "grades.csv": f"{float(row['score']):g} / {float(row['max_score']):g}",
            "gradescope": f"{gradescope['score']:g}"}


def test_the_questions_are_the_answer_cells_with_points(graded_course):
    """Are the questions graded by hand the source's answer cells that carry points?"""
    assert manual_questions(graded_course / "solutions" / ASSIGNMENT) == [(NOTEBOOK, QUESTION, MANUAL_MAX)]


def test_one_total_everywhere_pending_then_graded(graded_course, tmp_path):
    """Do the feedback page, the report, grades.csv (nbgrader's, as formgrader shows it) and Gradescope give the
    same total: the autograded points with the question pending, then with the points the instructor gave?"""
    pending = totals(graded_course, tmp_path / "before")
    assert pending == {"feedback": f"3 / {MAX_SCORE:g}", "report": f"3/{MAX_SCORE:g}",
                       "grades.csv": f"3 / {MAX_SCORE:g}", "gradescope": "3"}
    with Gradebook(f"sqlite:///{graded_course / 'gradebook.db'}") as gradebook:   # as formgrader would
        gradebook.find_grade(QUESTION, "squares", ASSIGNMENT, "ada").manual_score = 0.5
        gradebook.db.commit()
    graded = totals(graded_course, tmp_path / "after")
    assert graded == {"feedback": f"3.5 / {MAX_SCORE:g}", "report": f"3.5/{MAX_SCORE:g}",
                      "grades.csv": f"3.5 / {MAX_SCORE:g}", "gradescope": "3.5"}
    result = with_gradebook_grades(load_results(graded_course, ASSIGNMENT), graded_course, ASSIGNMENT)[0]
    assert (result.score, result.pending, result.manual[0].points) == (3.5, 0.0, 0.5)


def test_a_late_penalty_from_the_gradebook_is_taken_off_every_total(graded_course, tmp_path):
    """With a late submission and a penalty in the gradebook (as nbgrader's late policy records it), do the
    feedback page, the report, grades.csv and Gradescope all give the score less the penalty, and say why?"""
    with Gradebook(course_db_url(graded_course)) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "ada")
        submission.timestamp = datetime(2026, 1, 2, 12, 30)
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=datetime(2026, 1, 2, 10, 0))
        submission.notebooks[0].late_submission_penalty = 1.0
        gradebook.db.commit()
    late = totals(graded_course, tmp_path / "late")
    score = late["grades.csv"].split(" / ")[0]
    assert late == {"feedback": f"{score} / {MAX_SCORE:g}", "report": f"{score}/{MAX_SCORE:g}",
                    "grades.csv": f"{score} / {MAX_SCORE:g}", "gradescope": score}, late
    result = with_gradebook_grades(load_results(graded_course, ASSIGNMENT), graded_course, ASSIGNMENT)[0]
    assert (result.seconds_late, result.late_penalty, result.score) == (9000.0, 1.0, result.raw_score - 1.0)
    assert float(score) == result.score
    page = write_feedback(graded_course, ASSIGNMENT, tmp_path / "pages")[0].read_text()
    assert "Submitted 2 h 30 min after the due date: the late policy takes 1 point off" in page
