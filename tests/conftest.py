"""Fixtures shared by the tests of the steps that read grading results (export, feedback, report).

Grading the toy class takes about half a minute, so it happens once per test session.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from autograder.grading.submission import Limits
from autograder.grading.gradebook_writer import GradebookWriter
from autograder.grade import crashed_execution, grade
from autograder.results import SubmissionResult
from course_fixtures import ANSWER, ASSIGNMENT, make_class, make_course, submit
from sandbox_fixtures import require_sandbox, unavailable
from trusted_fixtures import toy_grader

# The toy class covers every failure kind but "error" (nbgrader or a grading worker failing),
# which no submission can cause on purpose: this student's worker is recorded as crashed.
CRASHED = "ivy"
CRASH_DETAIL = "the grading worker failed: BrokenProcessPool: a process in the pool was terminated abruptly"


def record_crashed_worker(course: Path, student: str = CRASHED) -> SubmissionResult:
    """Record a submission whose grading worker died, as the grade step does (zero points, status 'error')."""
    folder = submit(course, student, ANSWER)
    execution = crashed_execution(course, ASSIGNMENT, student, folder, CRASH_DETAIL)
    GradebookWriter(course, ASSIGNMENT).write(execution, folder)
    return execution.result


def pytest_runtest_setup(item):
    """A test marked `sandbox` is skipped where sandboxes cannot be made, and fails when CI=true."""
    if item.get_closest_marker("sandbox"):
        require_sandbox(unavailable(), os.environ.get("CI") == "true")


@pytest.fixture(scope="session")
def graded_toy_course(tmp_path_factory, worker_id) -> Path:
    """The toy course with its class graded (every failure kind) plus one crashed worker.

    Under `make test`'s processes (pytest-xdist), the first process to need it grades it in the
    folder they share and each takes a copy of its own: the class is graded once, not once per process.
    """
    require_sandbox(unavailable(), os.environ.get("CI") == "true")   # grading sandboxes every submission
    if worker_id == "master":   # one process
        return _graded_toy_course(tmp_path_factory.mktemp("course") / "course")
    shared = tmp_path_factory.getbasetemp().parent / "graded-toy-class"   # the run's folder, above each process's
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # the others wait here while the first grades
        if not (shared / "graded").exists():
            shutil.rmtree(shared, ignore_errors=True)   # a process that failed midway left it unfinished
            _graded_toy_course(shared / "course")
            (shared / "graded").touch()
    return shutil.copytree(shared / "course", tmp_path_factory.mktemp("course") / "course", symlinks=True)


def _graded_toy_course(course: Path) -> Path:
    make_course(course, cell_timeout=10)
    make_class(course)
    nodata = course.parent / "nodata"   # an empty dataset folder beside the course
    nodata.mkdir()
    grade(course, ASSIGNMENT, Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30), workers=2, progress=False,
          cifar10_dir=str(nodata))
    record_crashed_worker(course)
    return course


@pytest.fixture
def trusted_grade(tmp_path):
    """Trusted scoring of one toy notebook (trusted_fixtures.py): trusted_grade(answer, ...) -> {grade_id: Verdict}."""
    return toy_grader(tmp_path)


@pytest.fixture(scope="session")
def helper_wheel(tmp_path_factory) -> Path:
    """The helper package's wheel, built once per session (pip fetches setuptools to build it)."""
    from autograder.helper_wheel import build_wheel
    return build_wheel(tmp_path_factory.mktemp("wheel"))
