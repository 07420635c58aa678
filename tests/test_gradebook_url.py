"""A course's gradebook at any SQLAlchemy URL: read from its config, copied to SQLite for the workers, on PostgreSQL."""
from __future__ import annotations

import csv
import importlib.util
import shutil

import pytest
from nbgrader.api import Gradebook

from autograder.course import CONFIG_FILE
from autograder.export import export_csv
from autograder.gradebook_url import copy_rows, course_db_url, db_url_config, gradebook_exists, shown, sqlite_file
from autograder.grade import grade, gradebook_template
from autograder.grading.submission import Limits
from course_fixtures import ASSIGNMENT, make_class, make_course
from postgres_fixtures import postgres_server


# A part of the toy class that covers full, partial and zero scores, a killed kernel, a corrupt notebook and a
# restored cell, without the submissions that run into the time and memory limits (the slowest to grade).
STUDENTS = ("ada", "ben", "dee", "gus", "hal", "kim")


def grades(db_url: str, assignment: str = ASSIGNMENT) -> dict:
    """student -> {(notebook, grade cell): (auto score, max score)}, with names and timestamps, from a gradebook."""
    with Gradebook(db_url) as gradebook:
        return {s.student.id: {"name": (s.student.first_name, s.student.last_name), "timestamp": str(s.timestamp),
                               "grades": {(n.name, g.name): (g.auto_score, g.max_score)
                                          for n in s.notebooks for g in n.grades}}
                for s in gradebook.find_assignment(assignment).submissions}


def test_course_db_url_is_sqlite_in_the_course_by_default(tmp_path):
    """Without a db_url in its config, is a course's gradebook nbgrader's gradebook.db in the course folder?"""
    (tmp_path / CONFIG_FILE).write_text("c = get_config()\n")
    assert course_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert sqlite_file(course_db_url(tmp_path)) == tmp_path.resolve() / "gradebook.db"


def test_a_course_without_nbgrader_config_has_nbgraders_default(tmp_path):
    """Does a folder without nbgrader_config.py get nbgrader's default gradebook in it, rather than an error?"""
    assert course_db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"


def test_configured_url_applies_in_the_course_folder_only(tmp_path):
    """Does a course's db_url apply where its config was written, and not in a scratch copy of that config?"""
    course, scratch = tmp_path / "course", tmp_path / "scratch"
    course.mkdir(), scratch.mkdir()
    url = "postgresql://grader:secret@db.example/course"
    (course / CONFIG_FILE).write_text("c = get_config()\n" + db_url_config(course, url))
    shutil.copy2(course / CONFIG_FILE, scratch / CONFIG_FILE)
    assert course_db_url(course) == url
    assert course_db_url(scratch) == f"sqlite:///{scratch.resolve() / 'gradebook.db'}"
    assert "secret" not in shown(url) and "db.example/course" in shown(url)


def test_gradebook_exists_does_not_create_one(tmp_path):
    """Does asking whether a gradebook exists leave no database file behind?"""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert not gradebook_exists(url)
    assert not (tmp_path / "gradebook.db").exists()


@pytest.mark.filterwarnings("ignore:Object of type")   # nbgrader's ORM warns about its own session handling
def test_row_copy_holds_every_row_of_the_gradebook(tmp_path):
    """Does the copy a server database's gradebook gets (row by row) hold the same assignment, cells and students?"""
    course = make_course(tmp_path / "course")
    url = course_db_url(course)
    with Gradebook(url) as gradebook:
        gradebook.update_or_create_student("ada", first_name="Ada", last_name="Lovelace")
        gradebook.add_submission(ASSIGNMENT, "ada", timestamp="2026-11-20 10:00:00 UTC")
    copy = copy_rows(url, tmp_path / "copy.db")
    assert grades(f"sqlite:///{copy}") == grades(url) != {}
    with Gradebook(url) as original, Gradebook(f"sqlite:///{copy}") as copied:
        cells = [[(c.name, c.source, c.checksum) for c in gb.find_notebook("squares", ASSIGNMENT).source_cells]
                 for gb in (original, copied)]
    assert cells[0] == cells[1] != []


@pytest.mark.slow
def test_grading_into_postgresql_gives_the_sqlite_grades(graded_toy_course, tmp_path):
    """Graded into PostgreSQL, does the toy class get the grades, timestamps and CSV export of the SQLite run?"""
    with postgres_server() as url:
        course = make_course(tmp_path / "course", cell_timeout=10)
        (course / "gradebook.db").unlink()   # grade generates the assignment into the server's gradebook
        with open(course / CONFIG_FILE, "a") as config:
            config.write(db_url_config(course, url))
        assert course_db_url(course) == url
        make_class(course, STUDENTS)
        grade(course, ASSIGNMENT, Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30), workers=2, progress=False,
              cifar10_dir=str(tmp_path))
        assert not (course / "gradebook.db").exists(), "grading wrote an SQLite gradebook beside the server's"
        in_postgres = grades(url)
        in_sqlite = {s: g for s, g in grades(course_db_url(graded_toy_course)).items() if s in STUDENTS}
        assert in_postgres == in_sqlite
        template = gradebook_template(course, ASSIGNMENT)   # what the workers get: an SQLite copy
        assert set(grades(f"sqlite:///{template}")) == set(in_postgres)
        rows = [sorted(tuple(row.values()) for row in csv.DictReader(open(export_csv(c, ASSIGNMENT, tmp_path / n)))
                       if row["student_id"] in STUDENTS)
                for c, n in ((course, "pg.csv"), (graded_toy_course, "sqlite.csv"))]
        assert rows[0] == rows[1]


def test_missing_database_driver_is_named_with_its_install_command():
    """Does a URL whose driver is not installed fail naming the module and how to install it (password hidden)?"""
    if importlib.util.find_spec("MySQLdb"):
        pytest.skip("mysqlclient is installed here")
    with pytest.raises(ModuleNotFoundError, match=r"module 'MySQLdb'.*pip install mysqlclient") as error:
        gradebook_exists("mysql://grader:secret@db.example/course")
    assert "secret" not in str(error.value)
