"""Fixtures shared by the tests of the steps that read grading results (export, feedback, report).

Grading the toy class takes about half a minute, so it happens once per test session.
"""
from __future__ import annotations

import os
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
def graded_toy_course(tmp_path_factory) -> Path:
    """The toy course with its class graded (every failure kind) plus one crashed worker."""
    require_sandbox(unavailable(), os.environ.get("CI") == "true")   # grading sandboxes every submission
    course = make_course(tmp_path_factory.mktemp("course") / "course", cell_timeout=10)
    make_class(course)
    grade(course, ASSIGNMENT, Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30), workers=2, progress=False,
          cifar10_dir=str(tmp_path_factory.mktemp("nodata")))
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
