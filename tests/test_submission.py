"""Tests for autograder.grading.submission: one submission, alone, within its limits."""
from pathlib import Path

import nbformat
import pytest

from autograder.grade import grade
from autograder.grading.submission import GradeTask, Limits, _drop_unreadable, _failures_in_log, fingerprint, run_submission
from course_fixtures import ASSIGNMENT, BODIES, LOADER_NOTEBOOK, NOTEBOOK, make_course, make_loader_class, submit


def test_fingerprint_changes_with_content_and_names(tmp_path):
    """Does the fingerprint depend on every file's name and bytes, and on nothing else?"""
    (tmp_path / "a.ipynb").write_text("1")
    first = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == first
    (tmp_path / "a.ipynb").write_text("2")
    assert fingerprint(tmp_path) != first
    (tmp_path / "a.ipynb").write_text("1")
    (tmp_path / "b.txt").write_text("")
    assert fingerprint(tmp_path) != first


def test_unreadable_and_missing_notebooks_are_dropped_with_a_reason(tmp_path):
    """Are a corrupt notebook and a missing one reported, and the corrupt one removed before nbgrader runs?"""
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "good.ipynb")
    failures = _drop_unreadable(tmp_path, ["bad.ipynb", "good.ipynb", "gone.ipynb"])
    assert [(f.kind, f.notebook) for f in failures] == [("unreadable", "bad.ipynb"), ("unreadable", "gone.ipynb")]
    assert "not a readable notebook" in failures[0].detail and failures[1].detail == "is missing from the submission"
    assert not (tmp_path / "bad.ipynb").exists() and (tmp_path / "good.ipynb").exists()


def test_nbgrader_log_reveals_dead_kernels_and_crashes():
    """Are a dead kernel and a failing nbgrader run recognised from nbgrader's log?"""
    log = ("[AutogradeApp | INFO] Converting notebook /tmp/c/submitted/gus/toy/squares.ipynb\n"
           "[AutogradeApp | ERROR] There was an error processing assignment\n"
           "nbclient.exceptions.DeadKernelError: Kernel died\n")
    dead = _failures_in_log(log, 1)
    assert [(f.kind, f.notebook) for f in dead] == [("kernel died", "squares.ipynb")]
    crash = _failures_in_log("line 1\nline 2\nTraceback: boom", 1)
    assert crash[0].kind == "error" and "boom" in crash[0].detail
    assert _failures_in_log("all fine", 0) == []


def test_a_submission_past_its_wall_clock_is_stopped_and_scores_zero(tmp_path):
    """Is a submission that outlives its wall-clock limit killed, flagged 'timeout', and given no points?

    (nbgrader copies the notebooks before executing them; the unexecuted copy left behind
    by the kill must not count as a notebook whose tests all passed.)
    """
    course = make_course(tmp_path / "course", cell_timeout=600)
    folder = submit(course, "eve", BODIES["eve"])
    task = GradeTask("eve", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(wall_seconds=8, memory_bytes=2 * 2 ** 30))
    execution = run_submission(task)
    assert execution.result.status == "timeout"
    assert "8 s limit" in execution.result.reason
    assert execution.result.score == 0.0 and execution.notebooks == {}
    assert execution.result.seconds < 60


def test_a_correct_submission_gets_full_marks_and_its_executed_notebook(tmp_path):
    """Does a correct submission score every point and come back with its executed notebook?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path))
    execution = run_submission(task)
    assert (execution.result.score, execution.result.max_score, execution.result.status) == (3.0, 3.0, "graded")
    assert list(execution.notebooks) == [NOTEBOOK]
    assert execution.result.fingerprint == fingerprint(Path(folder))


PROBE = '''import os, socket
print("uid is root:", os.getuid() == 0)
print("gradebook readable:", os.access({gradebook!r}, os.R_OK) and os.path.getsize({gradebook!r}) > 0)
print("solutions listed:", os.path.isdir({solutions!r}) and bool(os.listdir({solutions!r})))
print("other submission listed:", os.path.isdir({other!r}) and bool(os.listdir({other!r})))
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2).close()
    print("network reached: True")
except OSError:
    print("network reached: False")
def square(x):
    return x * x
'''


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no sandbox"])
def test_the_sandbox_hides_the_course_and_the_network(tmp_path, sandbox):
    """Can a submission see the gradebook, the hidden tests, another submission, the network, or run as root?"""
    course = make_course(tmp_path / "course")
    other = submit(course, "ada", BODIES["ada"])
    probe = PROBE.format(gradebook=str(course / "gradebook.db"), solutions=str(course / "solutions" / ASSIGNMENT),
                         other=str(other))
    folder = submit(course, "zed", probe)
    task = GradeTask("zed", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(wall_seconds=120, sandbox=sandbox))
    execution = run_submission(task)
    output = execution.notebooks[NOTEBOOK]
    for seen in ("uid is root", "gradebook readable", "solutions listed", "other submission listed"):
        assert f"{seen}: {not sandbox}" in output, seen
    if sandbox:  # without it, whether the network is reachable depends on the machine
        assert "network reached: False" in output
    assert execution.result.score == 3.0


def test_a_grader_fault_scores_zero_with_the_reason_never_the_notebooks_own_verdict(tmp_path, monkeypatch):
    """If the grader cannot run a notebook's tests, do they fail with the reason (status 'error'), not pass?"""
    def broken(*args, **kwargs):
        raise RuntimeError("dataset missing")
    monkeypatch.setattr("autograder.grading.submission.run_trusted_tests", broken)
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(sandbox=False))
    result = run_submission(task).result
    assert (result.score, result.status) == (0.0, "error")
    assert {t.message for t in result.tests} == {"GraderError: the grader could not run the tests: "
                                                 "RuntimeError: dataset missing"}


@pytest.fixture(scope="module")
def loader_results(tmp_path_factory):
    """The loader course (squares.ipynb, and totals.ipynb that loads it and saves a model) and its class, graded."""
    course = make_course(tmp_path_factory.mktemp("loader") / "course", cell_timeout=20, loader=True)
    make_loader_class(course)
    results = grade(course, ASSIGNMENT, Limits(wall_seconds=120, memory_bytes=2 * 2 ** 30), workers=2, progress=False,
                    cifar10_dir=str(course))
    return {r.student: r for r in results}


def message(result, grade_id: str) -> str:
    return next(t.message for t in result.tests if t.grade_id == grade_id)


def test_the_loader_course_is_graded_in_full_when_right(loader_results):
    """Does the correct submission pass both notebooks' tests, the saved model included?"""
    ann = loader_results["ann"]
    assert (ann.score, ann.status, [t.message for t in ann.tests if not t.passed]) == (4.0, "graded", [])


def test_an_unreadable_notebook_is_the_reason_in_the_notebook_that_loads_it(loader_results):
    """When squares.ipynb is unreadable, does totals.ipynb's test say so, naming the cell that loads it, rather
    than that its model was not saved?"""
    bob = loader_results["bob"]
    assert bob.status == "unreadable"
    assert message(bob, "test_saved_weights").startswith(
        "squares.ipynb, which this notebook loads from in its Totals cell (`setup_totals`), is not a readable notebook")


def test_a_training_cell_that_crashed_is_the_reason_its_model_is_missing(loader_results):
    """Does a test of a model the training cell never saved name that cell and its exception?"""
    assert message(loader_results["cal"], "test_saved_weights").startswith(
        "Task 2 answer cell (`train_totals`) raised ValueError: diverged (the test then failed with CheckFailed: "
        "the saved model: best_model.npz is missing")


def test_a_syntax_error_is_the_reason_in_its_own_notebook_and_in_the_one_that_loads_it(loader_results):
    """Does a syntax error in squares.ipynb's answer cell reach both notebooks' tests, at its cell and line?"""
    dot = loader_results["dot"]
    cause = "Task 1 answer cell (`answer_square`) has an IndentationError at line 2"
    assert dot.status == "syntax error" and message(dot, "test_square_positive").startswith(cause)
    loaded = message(dot, "test_saved_weights")   # load_from_notebook's own words name the cell and line too
    assert loaded.startswith("Totals cell (`setup_totals`) raised ImportError: squares.ipynb, ") and \
        "failed while being loaded: IndentationError: expected an indented block" in loaded, loaded
    assert {t.notebook for t in dot.tests} == {NOTEBOOK, LOADER_NOTEBOOK}
