"""Names from nbgrader's roster, for the exports and the report."""
from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from autograder.course import CONFIG_FILE
from autograder.gradebook_url import course_db_url
from autograder.export import gradescope_record
from autograder.feedback import write_feedback
from autograder.report import report
from autograder.results import SubmissionResult, load_results, save_result
from autograder.results import TestResult as Result  # not a test class
from autograder.roster import roster_names, with_names
from course_fixtures import ASSIGNMENT, NOTEBOOK, make_course

pytestmark = pytest.mark.filterwarnings("ignore:Object of type")   # nbgrader's ORM about its own sessions


def test_names_come_from_the_roster(tmp_path):
    """Does every rostered student with a name get "First Last", and a student without one no entry?"""
    course = make_course(tmp_path / "course")
    with Gradebook(course_db_url(course)) as gradebook:
        gradebook.update_or_create_student("ada", first_name="Ada", last_name="Lovelace")
        gradebook.update_or_create_student("ben", last_name="Babbage")
        gradebook.update_or_create_student("cy")
    assert roster_names(course) == {"ada": "Ada Lovelace", "ben": "Babbage"}


def test_a_course_without_a_gradebook_has_no_names_and_gets_no_gradebook(tmp_path):
    """Before any grading, are there no names, and is no gradebook.db created by asking?"""
    (tmp_path / CONFIG_FILE).write_text("c = get_config()\n")
    assert roster_names(tmp_path) == {}
    assert not (tmp_path / "gradebook.db").exists()


def test_names_reach_the_feedback_page_the_report_and_the_gradescope_record(tmp_path):
    """Does a rostered student appear as "Ada Lovelace (ada)" on the feedback page and in the report, and a
    student without a name by id alone?"""
    course = make_course(tmp_path / "course")
    with Gradebook(course_db_url(course)) as gradebook:
        gradebook.update_or_create_student("ada", first_name="Ada", last_name="Lovelace")
    for student in ("ada", "ben"):
        save_result(SubmissionResult(student, ASSIGNMENT, "f", [Result(NOTEBOOK, "test_square", "", 1.0, 1.0,
                                                                           True, "")]), course)
    pages = {path.stem: path.read_text() for path in write_feedback(course, ASSIGNMENT, tmp_path / "feedback")}
    assert "feedback for Ada Lovelace (ada)</h1>" in pages["ada"] and "feedback for ben</h1>" in pages["ben"]
    assert ">Ada Lovelace (ada)</a>" in pages["index"]
    text, _ = report(course, ASSIGNMENT, tmp_path / "report")
    assert any(line.startswith("Ada Lovelace (ada) ") for line in text.splitlines()), text
    named = with_names(load_results(course, ASSIGNMENT), course)
    assert [gradescope_record(r)["extra_data"]["name"] for r in named] == ["Ada Lovelace", ""]
