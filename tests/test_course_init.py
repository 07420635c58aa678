"""`course-init`: an nbgrader course folder with an exchange, for real use, graded by the kit."""
from __future__ import annotations

import shutil

import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import ASSIGNMENT_ID, CONFIG_FILE, ROOT, SOURCE_DIR
from autograder.course_init import STUDENT_DIR, CourseInitError, course_init
from autograder.gradebook_url import course_db_url, course_directory
from autograder.nbgrader_guard import FEEDBACK_PREPROCESSORS, GUARD


def test_course_has_config_solutions_student_folder_and_sticky_exchange(tmp_path):
    """Does course-init write the config, copy the solutions, write the student folder, make the exchange 1777?"""
    course = course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"))
    coursedir = course_directory(course)
    assert (coursedir.course_id, coursedir.root) == ("nn101", str(course))
    assert (coursedir.source_directory, coursedir.release_directory) == ("solutions", "assignment")
    assert coursedir.config.Exchange.root == str(tmp_path / "exchange")
    assert coursedir.config.Autograde.exporter_class == GUARD
    assert coursedir.config.GenerateFeedback.preprocessors == list(FEEDBACK_PREPROCESSORS)
    assert sorted(p.name for p in (course / SOURCE_DIR / ASSIGNMENT_ID).glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / SOURCE_DIR / ASSIGNMENT_ID).glob("*.ipynb"))
    student = PyFileConfigLoader(CONFIG_FILE, path=str(course / STUDENT_DIR)).load_config()
    assert (student.CourseDirectory.course_id, student.Exchange.root) == ("nn101", str(tmp_path / "exchange"))
    assert (tmp_path / "exchange").stat().st_mode & 0o7777 == 0o1777
    assert course.stat().st_mode & 0o077 == 0   # the solutions are the instructor's only


def test_course_settings_stay_out_of_the_scratch_copies(tmp_path):
    """In a copy of the course's config elsewhere (where grade runs nbgrader), are the guard and the db_url off?"""
    course = course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"), db_url="postgresql://g@db/c")
    assert course_db_url(course) == "postgresql://g@db/c"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.copy2(course / CONFIG_FILE, scratch / CONFIG_FILE)
    copy = course_directory(scratch)
    assert copy.db_url == f"sqlite:///{scratch.resolve() / 'gradebook.db'}" and copy.root == str(scratch.resolve())
    assert "exporter_class" not in copy.config.Autograde
    assert copy.config.Execute.timeout == PyFileConfigLoader(CONFIG_FILE, path=str(ROOT)).load_config().Execute.timeout


def test_running_it_again_keeps_the_course(tmp_path):
    """Does a second run rewrite the configs and keep everything else (an edited solution notebook)?"""
    course = course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"))
    edited = next((course / SOURCE_DIR / ASSIGNMENT_ID).glob("*.ipynb"))
    edited.write_text("edited")
    course_init(tmp_path / "course", "nn102", str(tmp_path / "exchange"))
    assert edited.read_text() == "edited" and course_directory(course).course_id == "nn102"


@pytest.mark.parametrize("course_id, exchange, course, message", [
    ("nn 101", "EXCHANGE", "course", "letters, digits"),
    ("nn101", "relative/exchange", "course", "absolute path"),
    ("nn101", "EXCHANGE", "KIT", "inside the kit"),
])
def test_bad_input_is_named_with_the_fix(tmp_path, course_id, exchange, course, message):
    """Does a bad course id, a relative exchange or a course inside the kit fail naming the problem?"""
    exchange = exchange.replace("EXCHANGE", str(tmp_path / "exchange"))
    folder = ROOT / "course-inside-kit" if course == "KIT" else tmp_path / course
    with pytest.raises(CourseInitError, match=message):
        course_init(folder, course_id, exchange)
    assert not folder.exists()


def test_exchange_closed_to_students_is_refused_with_the_fix(tmp_path):
    """Does an existing exchange that not every user can write into fail, naming chmod 1777?"""
    (tmp_path / "exchange").mkdir(mode=0o755)
    (tmp_path / "exchange").chmod(0o755)
    with pytest.raises(CourseInitError, match=r"mode 755.*chmod 1777"):
        course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"))
