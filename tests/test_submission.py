"""Tests for autograder.grading.submission: one submission, alone, within its limits."""
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grade import grade
from autograder.grading import submission
from autograder.grading.reuse import save_outcomes
from autograder.grading.submission import GradeTask, Limits, _drop_unreadable, fingerprint, run_submission
from course_fixtures import ASSIGNMENT, BODIES, INDEPENDENT_NOTEBOOK, LOADER_NOTEBOOK, NOTEBOOK, edit_answer, \
    make_course, make_loader_class, submit, submit_all


def no_data(tmp_path: Path) -> str:
    """An empty folder for the dataset (the sandbox shows it): never one that holds the course."""
    (tmp_path / "nodata").mkdir(exist_ok=True)
    return str(tmp_path / "nodata")


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


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_submission_past_its_cpu_budget_is_stopped_and_scores_zero(tmp_path):
    """Is a submission that uses more than its CPU budget killed, flagged 'timeout', and given no points?

    (nbgrader copies the notebooks before executing them; the unexecuted copy left behind
    by the kill must not count as a notebook whose tests all passed.)
    """
    course = make_course(tmp_path / "course", cell_timeout=600)
    folder = submit(course, "eve", BODIES["eve"])
    task = GradeTask("eve", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), no_data(tmp_path),
                     Limits(cpu_seconds=8, memory_bytes=2 * 2 ** 30))
    execution = run_submission(task)
    assert execution.result.status == "timeout"
    assert "used more than 8 s of CPU time" in execution.result.reason
    assert execution.result.score == 0.0 and execution.notebooks == {}
    assert execution.result.seconds < 60


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_correct_submission_gets_full_marks_and_its_executed_notebook(tmp_path):
    """Does a correct submission score every point and come back with its executed notebook?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), no_data(tmp_path))
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


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", [pytest.param(True, marks=pytest.mark.sandbox), False], ids=["sandbox", "no sandbox"])
def test_the_sandbox_hides_the_course_and_the_network(tmp_path, sandbox):
    """Can a submission see the gradebook, the hidden tests, another submission, the network, or run as root?"""
    course = make_course(tmp_path / "course")
    other = submit(course, "ada", BODIES["ada"])
    probe = PROBE.format(gradebook=str(course / "gradebook.db"), solutions=str(course / "solutions" / ASSIGNMENT),
                         other=str(other))
    folder = submit(course, "zed", probe)
    subprocess.run(["chmod", "-R", "a+rX", str(tmp_path)], check=True)   # readable by anyone: only the sandbox hides it
    task = GradeTask("zed", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), no_data(tmp_path),
                     Limits(cpu_seconds=120, sandbox=sandbox))
    execution = run_submission(task)
    output = execution.notebooks[NOTEBOOK]
    for seen in ("uid is root", "gradebook readable", "solutions listed", "other submission listed"):
        assert f"{seen}: {not sandbox}" in output, seen
    if sandbox:  # without it, whether the network is reachable depends on the machine
        assert "network reached: False" in output
    assert execution.result.score == 3.0


@pytest.mark.slow
def test_a_grader_fault_scores_zero_with_the_reason_never_the_notebooks_own_verdict(tmp_path, monkeypatch):
    """If the grader cannot run a notebook's tests, do they fail with the reason (status 'error'), not pass?"""
    def broken(*args, **kwargs):
        raise RuntimeError("dataset missing")
    monkeypatch.setattr("autograder.grading.submission.run_trusted_tests", broken)
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), no_data(tmp_path),
                     Limits(sandbox=False))
    result = run_submission(task).result
    assert (result.score, result.status) == (0.0, "error")
    assert {t.message for t in result.tests} == {"GraderError: the grader could not run the tests: "
                                                 "RuntimeError: dataset missing"}


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_regrade_runs_the_changed_notebook_alone_and_charges_the_others_time(tmp_path, monkeypatch):
    """After an edit to totals.ipynb, does the regrade run nbgrader on that notebook alone, within the submission's
    CPU budget less what the reused notebooks' cells used, and hand back their executed notebooks as graded?"""
    course = make_course(tmp_path / "course", loader=True, independent=True)
    folder = submit_all(course, "ann", {})
    task = GradeTask("ann", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), no_data(tmp_path),
                     Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30))
    calls, autograde = [], submission.autograde

    def recorded(course_dir, task, notebooks=None, cpu_seconds=None):
        calls.append((notebooks, cpu_seconds))
        return autograde(course_dir, task, notebooks, cpu_seconds)

    monkeypatch.setattr(submission, "autograde", recorded)
    first = run_submission(task)
    assert sorted(first.outcomes) == [INDEPENDENT_NOTEBOOK, NOTEBOOK, LOADER_NOTEBOOK]
    save_outcomes(course, ASSIGNMENT, first.result, first.outcomes)
    edit_answer(folder, LOADER_NOTEBOOK)
    second = run_submission(task)
    charged = first.outcomes[INDEPENDENT_NOTEBOOK].cpu_seconds + first.outcomes[NOTEBOOK].cpu_seconds
    assert calls == [(None, 60.0), ([LOADER_NOTEBOOK], pytest.approx(60.0 - charged))]
    assert (second.result.reused, second.result.score, first.result.score) == ([INDEPENDENT_NOTEBOOK, NOTEBOOK], 7.0, 7.0)
    assert second.notebooks[NOTEBOOK] == first.notebooks[NOTEBOOK]


def test_a_submission_folder_over_its_limit_is_not_read_and_says_why(tmp_path):
    """Does a submission holding a 2 GiB sparse file get one 'unreadable' row naming the limit, at once,
    with nothing copied or executed?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    with open(folder / "data.bin", "wb") as handle:
        handle.truncate(2 * 2 ** 30)
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path))
    execution = run_submission(task)
    result = execution.result
    assert (result.score, result.status, execution.notebooks) == (0.0, "unreadable", {})
    assert "more than the 50.0 MiB grading reads" in result.reason and result.seconds < 5
    assert result.fingerprint == fingerprint(folder)


def test_an_oversize_notebook_is_not_graded_and_says_how_to_fix_it(tmp_path):
    """Is a notebook over the notebook limit left out (not copied, not run), with its size and the fix?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    notebook.cells[0].source += "\n" + "x" * (2 * 2 ** 20)
    nbformat.write(notebook, folder / NOTEBOOK)
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(sandbox=False, notebook_bytes=2 ** 20))
    result = run_submission(task).result
    assert (result.score, result.status) == (0.0, "unreadable")
    assert [(f.notebook, f.detail.split(",")[0]) for f in result.failures] == [(NOTEBOOK, "is 2.0 MiB")]
    assert "clear its outputs" in result.reason


def test_an_executed_notebook_over_the_limit_is_not_read(tmp_path):
    """Is a notebook whose run printed more than the notebook limit left unread, with the reason, rather than
    loaded into the grader?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"] + "\nprint('x' * 2 ** 21)\n")
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(sandbox=False, notebook_bytes=2 ** 20))
    execution = run_submission(task)
    assert execution.notebooks == {} and execution.result.score == 0.0
    assert "its executed copy is 2.0 MiB" in execution.result.reason and "print less" in execution.result.reason


SLEEPS_IN_THE_GRADER = '''import sys, time

def square(x):
    if "autograder.trusted.wire" in sys.modules:   # only when the grader calls it
        time.sleep(1000)
    return x * x
'''


def test_the_trusted_phase_keeps_its_budget_and_gives_the_true_reason(tmp_path):
    """Does a submission that sleeps only in the grader's calls finish within its trusted budget, its tests
    failing for the budget (a 'timeout' row saying so), never for a per-cell time limit?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "zed", SLEEPS_IN_THE_GRADER)
    task = GradeTask("zed", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(sandbox=False, test_seconds=200, trusted_seconds=3))
    started = time.monotonic()
    result = run_submission(task).result
    assert time.monotonic() - started < 150   # without the budget, the first test alone would take 200 s
    assert (result.score, result.status) == (0.0, "timeout")
    assert [t.message for t in result.tests] == [
        "GraderBudgetSpent: the grader's budget for running your functions (3 s of CPU time) ran out during this test",
        "GraderBudgetSpent: the grader's budget for running your functions (3 s of CPU time) was used up by earlier tests"]
    assert "the grader's budget for running the submission's functions (3 s of CPU time for all tests) ran out" in result.reason
    assert "per-cell" not in result.reason


def test_a_notebook_of_too_many_cells_is_not_graded(tmp_path):
    """Is a notebook padded with 5,000 empty cells (minutes of nbformat's time per read) dropped at once, saying why?"""
    course = make_course(tmp_path / "course")
    folder = submit(course, "ada", BODIES["ada"])
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell("") for _ in range(5000)]
    nbformat.write(notebook, folder / NOTEBOOK)
    task = GradeTask("ada", ASSIGNMENT, str(folder), str(course), str(course / "gradebook.db"), str(tmp_path),
                     Limits(sandbox=False))
    started = time.monotonic()
    result = run_submission(task).result
    assert time.monotonic() - started < 20
    assert (result.score, result.status) == (0.0, "unreadable")
    cells = len(notebook.cells)
    assert result.reason == f"{NOTEBOOK}: has {cells} cells, more than the 1000 a notebook may have, so it was not " \
                            "graded: delete the cells you added"


@pytest.fixture(scope="module")
def loader_results(tmp_path_factory):
    """The loader course (squares.ipynb, and totals.ipynb that loads it and saves a model) and its class, graded."""
    course = make_course(tmp_path_factory.mktemp("loader") / "course", cell_timeout=20, loader=True)
    make_loader_class(course)
    results = grade(course, ASSIGNMENT, Limits(cpu_seconds=120, memory_bytes=2 * 2 ** 30), workers=2, progress=False,
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
