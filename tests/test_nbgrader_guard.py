"""nbgrader's own autograde (the formgrader's Autograde button) cannot bypass the kit in a kit course."""
from __future__ import annotations

import shutil

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import CONFIG_FILE, ROOT
from autograder.grade import crashed_execution, grade
from autograder.gradebook_url import course_db_url, course_directory
from autograder.grading.gradebook_writer import GradebookWriter
from autograder.grading.submission import Limits
from autograder.nbgrader_guard import GUARD, guard_lines
from autograder.sandbox import sandbox_unavailable
from course_fixtures import ANSWER, ASSIGNMENT, make_course, submit

pytestmark = pytest.mark.filterwarnings("ignore:Object of type")   # nbgrader's ORM about its own sessions


def guarded_course(root):
    """The toy course with the guard on in its own folder (as course-init writes it)."""
    course = make_course(root)
    block = ["", "import sys", f"if os.path.dirname(os.path.realpath(__file__)) == {str(course.resolve())!r}:",
             *guard_lines(indent="    ")]
    with open(course / CONFIG_FILE, "a") as config:
        config.write("\n".join(block) + "\n")
    return course


def press_autograde(course, student, **config_changes):
    """What the formgrader's Autograde button does: NbGraderAPI(coursedir, config).autograde(assignment, student)."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    for section, values in config_changes.items():
        for key, value in values.items():
            config[section][key] = value
    coursedir = course_directory(course)
    return NbGraderAPI(coursedir, config=config).autograde(ASSIGNMENT, student)


def state(course, student):
    """The student's grades in the gradebook and the files nbgrader keeps for the submission."""
    with Gradebook(course_db_url(course)) as gradebook:
        grades = {(n.name, g.name): (g.auto_score, g.max_score)
                  for n in gradebook.find_submission(ASSIGNMENT, student).notebooks for g in n.grades}
    autograded = course / "autograded" / student / ASSIGNMENT
    return grades, {p.name: p.stat().st_mtime_ns for p in autograded.iterdir()}


def test_autograde_button_is_refused_and_changes_nothing(tmp_path):
    """Is the button refused, naming the kit's command, with the grades and autograded/ as the kit's writer left them?"""
    course = guarded_course(tmp_path / "course")
    folder = submit(course, "ada", ANSWER)
    GradebookWriter(course, ASSIGNMENT).write(crashed_execution(course, ASSIGNMENT, "ada", folder, "a crash"), folder)
    before = state(course, "ada")   # the kit's writer got through the guard: the zero grades are recorded
    assert before[0] and all(score == 0 for score, _ in before[0].values()), before
    outcome = press_autograde(course, "ada")
    assert not outcome["success"]
    assert f"python -m autograder grade --course {course.resolve()}" in outcome["log"], outcome["log"]
    assert state(course, "ada") == before


def test_plain_no_execute_autograde_is_refused_too(tmp_path):
    """Is `nbgrader autograde --no-execute` refused (it would give every test cell without output full marks)?"""
    course = guarded_course(tmp_path / "course")
    submit(course, "ada", ANSWER)
    outcome = press_autograde(course, "ada", Execute={"enabled": False})
    assert not outcome["success"] and "graded by the assignment kit" in outcome["log"]
    assert not (course / "autograded").exists()


def test_kit_config_guards_its_own_course_only(tmp_path):
    """Does the kit's nbgrader_config.py turn the guard on in the kit itself, and not in a copy elsewhere?"""
    assert PyFileConfigLoader(CONFIG_FILE, path=str(ROOT)).load_config().Autograde.exporter_class == GUARD
    shutil.copy2(ROOT / CONFIG_FILE, tmp_path / CONFIG_FILE)
    assert "exporter_class" not in PyFileConfigLoader(CONFIG_FILE, path=str(tmp_path)).load_config().Autograde


@pytest.mark.slow
def test_grading_a_guarded_course_still_runs_nbgrader_in_the_scratch_copies(tmp_path):
    """In a guarded course, does `grade` still grade (nbgrader runs in scratch copies, where the guard is off)?"""
    course = guarded_course(tmp_path / "course")
    submit(course, "ada", ANSWER)
    limits = Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30, sandbox=sandbox_unavailable() is None)
    [result] = grade(course, ASSIGNMENT, limits, workers=1, progress=False, cifar10_dir=str(tmp_path))
    assert (result.status, result.score) == ("graded", 3.0), result.reason
    assert sum(score for score, _ in state(course, "ada")[0].values()) == 3.0
