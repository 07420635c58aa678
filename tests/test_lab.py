"""`lab`: how the student's and the instructor's JupyterLab are started (the pages themselves: test_panels.py)."""
from __future__ import annotations

import json
import os

import pytest

from autograder.course import ASSIGNMENT_ID, RELEASE_DIR, ROOT
from autograder.course_init import course_init
from autograder.lab import lab_command
from autograder.panels import ASSIGNMENT_LIST, FORMGRADER, PAGE_CONFIG


def disabled(folder) -> set[str]:
    return set(json.loads((folder / PAGE_CONFIG).read_text())["disabledExtensions"])


def test_student_lab_opens_the_release_without_instructor_panels(tmp_path):
    """Is the student's JupyterLab rooted at the release, with the formgrader and the assignment list turned off?"""
    command, cwd, env = lab_command(None, tmp_path, jupyter_args=("--no-browser",))
    assert command[-2:] == [f"--ServerApp.root_dir={ROOT / RELEASE_DIR / ASSIGNMENT_ID}", "--no-browser"]
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(tmp_path)
    assert {FORMGRADER[1], ASSIGNMENT_LIST[1]} <= disabled(tmp_path)


def test_instructor_lab_starts_at_the_course_root(tmp_path):
    """Does the instructor's JupyterLab start in the course folder (where the formgrader reads its config)?"""
    course = course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"))
    command, cwd, env = lab_command(course, tmp_path / "config")
    assert cwd == course and f"--ServerApp.root_dir={course}" in command
    assert disabled(tmp_path / "config") == set()


def test_instructor_lab_without_an_exchange_hides_only_the_assignment_list(tmp_path):
    """Without an exchange (the kit's own course), is only the assignment list, which would fail, turned off?"""
    course = course_init(tmp_path / "course", "nn101", str(tmp_path / "exchange"))
    (tmp_path / "exchange").rmdir()
    lab_command(course, tmp_path / "config")
    assert disabled(tmp_path / "config") == {ASSIGNMENT_LIST[1]}


def test_a_folder_that_is_not_a_course_is_named(tmp_path):
    """Does --course on a folder without nbgrader_config.py fail, naming it?"""
    with pytest.raises(FileNotFoundError, match="has no nbgrader_config.py"):
        lab_command(tmp_path, tmp_path / "config")


def test_student_lab_can_open_another_folder_of_notebooks(tmp_path):
    """Does --folder root the student's JupyterLab at that folder, and name a missing one?"""
    command, _, _ = lab_command(None, tmp_path / "config", folder=tmp_path)
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        lab_command(None, tmp_path / "config", folder=tmp_path / "missing")
