"""Names from nbgrader's roster, for the exports and the report."""
from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from autograder.course import CONFIG_FILE
from autograder.gradebook_url import course_db_url
from autograder.roster import roster_names
from course_fixtures import make_course

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
