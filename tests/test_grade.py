"""Tests for autograder.grade: a whole class graded in parallel into one gradebook."""
import contextlib
import os
import re
import shutil
import socket
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest
from nbgrader.api import Gradebook

from autograder.course import ROOT
from autograder.grading.submission import Limits
from autograder.grade import GRADING_MODULES, executors, find_submissions, grade, gradebook_template, reuse_summary
from autograder.results import SubmissionResult, TestResult as Result, load_results, results_dir  # Result: not a test class
from conftest import CRASHED, record_crashed_worker
from course_fixtures import ANSWER, ASSIGNMENT, BODIES, EXPECTED_SCORE, EXPECTED_STATUS, INDEPENDENT_NOTEBOOK, \
    LOADER_CLASS, LOADER_NOTEBOOK, NOTEBOOK, TAMPERED, edit_answer, make_class, make_course, submit, submit_all

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]   # grades the toy class with its sandbox

LIMITS = Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30)


def grade_toy(course, **kwargs):
    return grade(course, ASSIGNMENT, LIMITS, workers=2, progress=False, cifar10_dir=no_data(course), **kwargs)


def no_data(course: Path) -> str:
    """An empty folder for the dataset beside the course (the sandbox shows it: never the course itself)."""
    (course.parent / "nodata").mkdir(exist_ok=True)
    return str(course.parent / "nodata")


def gradebook_scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.find_assignment(ASSIGNMENT).submissions}


def comparable(results):
    """Results without the timing, which legitimately varies."""
    return [{k: v for k, v in r.to_dict().items() if k != "seconds"} for r in results]


def as_graded(results):
    """Results without the timing and the notebooks reused: what a regrade in full must give too."""
    return [{k: v for k, v in r.to_dict().items() if k not in ("seconds", "reused")} for r in results]


@pytest.fixture(scope="module")
def graded_class(graded_toy_course):
    """The toy class graded once for the whole session (conftest.py), without the crashed worker it adds."""
    return graded_toy_course, [r for r in load_results(graded_toy_course, ASSIGNMENT) if r.student != CRASHED]


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    """A class of its own for the tests that grade again (the session's class is shared with other files)."""
    course = make_course(tmp_path_factory.mktemp("small") / "course", cell_timeout=10)
    make_class(course, ["ada", "cy", "dee", TAMPERED])
    return course, grade_toy(course)


def test_every_submission_gets_a_row_with_its_reason(graded_class):
    """Does the batch finish with one result per student, each failure kind named in plain words?"""
    course, results = graded_class
    assert {r.student: r.status for r in results} == EXPECTED_STATUS
    assert {r.student: r.score for r in results} == EXPECTED_SCORE
    reasons = {r.student: r.reason for r in results}
    assert "per-cell time limit" in reasons["eve"]
    assert "ran out of memory" in reasons["fay"]
    assert "kernel died" in reasons["gus"]
    assert "not a readable notebook" in reasons["hal"]
    assert "tried to start more processes than grading allows" in reasons["jay"]
    assert "has an IndentationError at line 2" in reasons["lee"]
    assert reasons["ada"] == ""


def test_only_the_cell_that_looped_timed_out_and_the_tests_after_it_say_so(graded_class):
    """Is the looping answer cell the one timeout (not every cell after it), each test 'not run' because of
    it, and the notebook not flagged for tests that passed in it before the grader refused to run them?"""
    _, results = graded_class
    eve = next(r for r in results if r.student == "eve")
    assert [(f.kind, f.detail) for f in eve.failures] == [
        ("timeout", "Task 1 answer cell (`answer_square`) ran past the per-cell time limit and was stopped")]
    assert {t.message for t in eve.tests} == {
        "not run: an earlier cell (Task 1 answer cell (`answer_square`)) was stopped at the per-cell time limit"}
    assert eve.flags == [], eve.flagged


def test_a_syntax_error_is_reported_at_its_cell_and_line_in_every_test_it_breaks(graded_class):
    """Does an IndentationError in the answer cell give the run's problem and each test's reason, naming the
    cell by its task and the line, instead of a NameError of what the cell should define?"""
    _, results = graded_class
    lee = next(r for r in results if r.student == "lee")
    cause = ("Task 1 answer cell (`answer_square`) has an IndentationError at line 2: expected an indented block "
             "after function definition on line 1; fix it and rerun")
    assert [(f.kind, f.notebook, f.detail) for f in lee.failures] == [("syntax error", NOTEBOOK, cause)]
    assert all(t.message.startswith(cause) for t in lee.tests), [t.message for t in lee.tests]


def test_reasons_never_name_a_cell_by_a_number(graded_class):
    """Do the reasons, the messages and the flags name cells by task and grade_id, never 'cell 7' (which
    JupyterLab does not show)?"""
    _, results = graded_class
    texts = [r.reason for r in results] + [r.flagged for r in results] + [t.message for r in results for t in r.tests]
    assert not [text for text in texts if re.search(r"\bcell \d", text)]


def test_gradebook_holds_every_grade(graded_class):
    """Did the single writer record every student, with the same totals as the results?"""
    course, results = graded_class
    assert gradebook_scores(course) == {**{r.student: r.score for r in results}, CRASHED: 0.0}


def test_failure_messages_show_the_exception_not_the_test_source(graded_class):
    """Is a failed test explained by its exception, and never by the hidden test's code?"""
    _, results = graded_class
    dee = next(r for r in results if r.student == "dee")
    negative = next(t for t in dee.tests if t.grade_id == "test_square_negative")
    assert negative.message == "AssertionError: square(-1) should be 1, got -1"
    assert all("assert square(-2)" not in t.message for r in results for t in r.tests)


def test_unchanged_submissions_are_not_graded_again(small_class):
    """Does a second run skip submissions whose files have not changed since their result?"""
    course, results = small_class
    before = {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")}
    again = grade_toy(course)
    after = {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")}
    assert before == after
    assert comparable(again) == comparable(results)


def test_regrading_gives_identical_results(small_class):
    """Does regrading the same submissions (force) give the same results, flags included, and gradebook?"""
    course, results = small_class
    assert [r.student for r in results if r.flags] == [TAMPERED]
    again = grade_toy(course, force=True)
    assert comparable(again) == comparable(results)
    assert gradebook_scores(course) == {r.student: r.score for r in results}


def test_changed_submission_is_regraded(tmp_path):
    """Is a resubmission graded again without --force, and the gradebook updated?"""
    course = make_course(tmp_path / "course")
    make_class(course, ["ben"])
    assert grade_toy(course)[0].score == 0.0
    shutil.rmtree(course / "submitted" / "ben")
    submit(course, "ben", ANSWER)
    assert grade_toy(course)[0].score == 3.0
    assert gradebook_scores(course) == {"ben": 3.0}


def test_killed_run_keeps_finished_grades(tmp_path):
    """Does a run killed midway keep the finished grades, and does the next run finish the rest only?"""
    course = make_course(tmp_path / "course")
    make_class(course, ["ada", "ben", "cy", "dee"])
    command = [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--assignment", ASSIGNMENT,
               "--workers", "1", "--no-progress"]
    run = subprocess.Popen(command, cwd=Path(__file__).parent.parent, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    folder = results_dir(course, ASSIGNMENT)
    deadline = time.monotonic() + 300
    while not list(folder.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    _, errors = run.communicate()
    finished = {p.stem: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    assert 1 <= len(finished) < 4, f"the run should have been killed between two submissions: {errors[-2000:]}"
    assert set(gradebook_scores(course)) >= set(finished)

    results = grade_toy(course)
    assert {r.student: r.score for r in results} == {s: EXPECTED_SCORE[s] for s in ("ada", "ben", "cy", "dee")}
    assert {p.stem: p.stat().st_mtime_ns for p in folder.glob("*.json") if p.stem in finished} == finished


@pytest.mark.slow
def test_a_real_dask_cluster_with_threaded_workers_grades_the_same_as_the_local_pool(tmp_path):
    """Do a `dask scheduler` and two `dask worker --nthreads 2` processes give the local pool's results?"""
    local, remote = make_course(tmp_path / "local"), tmp_path / "remote"
    make_class(local, ["ada", "ben", "cy", "dee", "hal", TAMPERED])
    shutil.copytree(local, remote)
    expected = comparable(grade_toy(local))
    with dask_cluster(tmp_path, workers=2, threads=2) as address:
        results = grade(remote, ASSIGNMENT, LIMITS, scheduler=address, progress=False, cifar10_dir=no_data(remote))
    assert comparable(results) == expected


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int, threads: int):
    """A scheduler and `workers` worker processes on 127.0.0.1, started as the README says; yields its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}   # the scheduler and the workers must import the kit
    log = open(folder / "cluster.log", "w")
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], env=env, stdout=log, stderr=log, start_new_session=True)]
    processes += [subprocess.Popen([dask, "worker", address, "--nthreads", str(threads), "--no-dashboard",
                                    "--local-directory", str(folder / f"worker-{i}")],
                                   env=env, stdout=log, stderr=log, start_new_session=True) for i in range(workers)]
    try:
        from distributed import Client
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_find_submissions_lists_students_with_this_assignment(tmp_path):
    """Are only folders submitted/<student>/<assignment>/ picked up?"""
    (tmp_path / "submitted" / "a" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "submitted" / "b" / "other").mkdir(parents=True)
    assert list(find_submissions(tmp_path, ASSIGNMENT)) == ["a"]


def test_pool_workers_start_with_the_grading_code_already_imported():
    """Are the local pool's workers forked from a server that imported the grading code (no import per worker)?"""
    with executors(workers=2) as (new_executor, capacity):
        with new_executor() as pool:
            loaded = [pool.submit(eval, "[name in __import__('sys').modules for name in GRADING_MODULES]",
                                  {"GRADING_MODULES": GRADING_MODULES}) for _ in range(capacity)]
            assert [future.result() for future in loaded] == [[True] * len(GRADING_MODULES)] * capacity


def test_the_workers_gradebook_holds_only_what_the_release_holds(tmp_path):
    """Does the gradebook copied into each scratch course lack the reference answer and the hidden tests?"""
    course = make_course(tmp_path / "course")
    with Gradebook(f"sqlite:///{gradebook_template(course, ASSIGNMENT)}") as gradebook:
        sources = {c.name: c.source for c in gradebook.find_assignment(ASSIGNMENT).notebooks[0].source_cells}
    assert "return x * x" not in sources["answer_square"] and "NotImplementedError" in sources["answer_square"]
    assert "HIDDEN" not in sources["test_square_negative"] and "square(-1)" in sources["test_square_negative"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:   # the course's own is untouched
        assert "square(-2)" in gradebook.find_source_cell("test_square_negative", "squares", ASSIGNMENT).source


# Without the sandbox the worker runs as the grader's user and its parent is the grading process: this
# submission kills it from inside the grader's call (the notebook's own run sees honest code).
KILLS_ITS_GRADER = """import os, sys

def square(x):
    if "autograder.trusted.wire" in sys.modules:
        os.kill(os.getppid(), 9)
    return x * x
"""


def test_a_submission_that_kills_its_grading_process_harms_no_classmate(tmp_path):
    """With zed's grading process killed first, beside a classmate, do the classmates get the scores of a clean
    run, zed the crash in plain words, and does the next run keep zed's result (the crash is zed's own)?"""
    course = make_course(tmp_path / "course", cell_timeout=10)
    make_class(course, ["ada", "cy", "dee"])
    submit(course, "zed", KILLS_ITS_GRADER)
    limits = Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30, sandbox=False)
    results = {r.student: r for r in grade(course, ASSIGNMENT, limits, workers=2, progress=False,
                                           cifar10_dir=str(course), first=("zed", "ada"))}
    assert {s: (results[s].score, results[s].status) for s in ("ada", "cy", "dee")} == \
        {s: (EXPECTED_SCORE[s], "graded") for s in ("ada", "cy", "dee")}
    zed = results["zed"]
    assert (zed.score, zed.status, zed.grader_fault) == (0.0, "error", False)
    assert "killed by signal SIGKILL" in zed.reason and "alone" in zed.reason
    assert gradebook_scores(course) == {s: r.score for s, r in results.items()}
    before = {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")}
    grade(course, ASSIGNMENT, limits, workers=2, progress=False, cifar10_dir=str(course))
    assert {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")} == before


def test_a_result_the_grader_failed_on_is_graded_again_without_force(tmp_path):
    """Is a result recorded because the grading machinery failed (grader_fault) graded again by the next run,
    and only once?"""
    course = make_course(tmp_path / "course", cell_timeout=10)
    crashed = record_crashed_worker(course, "ivy")
    assert crashed.grader_fault and crashed.score == 0.0
    assert {r.student: (r.score, r.grader_fault) for r in grade_toy(course)} == {"ivy": (3.0, False)}
    before = {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")}
    grade_toy(course)
    assert {p.name: p.stat().st_mtime_ns for p in results_dir(course, ASSIGNMENT).glob("*.json")} == before


def test_a_submission_that_kills_its_dask_worker_is_blamed_alone(tmp_path):
    """On a Dask cluster, does the submission that kills the worker grading it get the crash, recorded after it
    died again alone, and its classmates their grades?"""
    distributed = pytest.importorskip("distributed")
    import dask
    course = make_course(tmp_path / "course", cell_timeout=10)
    make_class(course, ["ada", "dee"])
    submit(course, "zed", KILLS_ITS_GRADER)
    limits = Limits(cpu_seconds=60, memory_bytes=2 * 2 ** 30, sandbox=False)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                     host="127.0.0.1") as cluster:
        results = {r.student: r for r in grade(course, ASSIGNMENT, limits, scheduler=cluster.scheduler_address,
                                               progress=False, cifar10_dir=str(course), first=("zed",))}
    assert {s: results[s].score for s in ("ada", "dee")} == {s: EXPECTED_SCORE[s] for s in ("ada", "dee")}
    assert results["zed"].status == "error" and "killed by signal SIGKILL" in results["zed"].reason


# Three toy notebooks use about 6 s of CPU time; a loop in one is stopped by the submission's budget (the cells' is 60 s).
THREE_LIMITS = Limits(cpu_seconds=15, memory_bytes=2 * 2 ** 30)


def grade_three(course, **kwargs):
    return grade(course, ASSIGNMENT, THREE_LIMITS, workers=1, progress=False, cifar10_dir=no_data(course), **kwargs)


@pytest.fixture(scope="module")
def three_notebooks(tmp_path_factory):
    """A course of three notebooks (totals.ipynb loads squares.ipynb; areas.ipynb stands alone), one correct
    submission of each, graded once; each test grades a copy of it."""
    course = make_course(tmp_path_factory.mktemp("three") / "course", cell_timeout=60, loader=True, independent=True)
    submit_all(course, "ann", {})
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == [(7.0, "graded", [])]
    return course


def graded_copy(course: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the graded course (results, kept outcomes and gradebook), and ann's submission folder in it."""
    copy = shutil.copytree(course, tmp_path / "course")
    return copy, copy / "submitted" / "ann" / ASSIGNMENT


def test_an_edit_regrades_only_its_notebook_and_the_same_as_in_full(three_notebooks, tmp_path):
    """After an edit to the answer of a notebook no other loads, is only that notebook run again (the others'
    outcomes reused), with results and gradebook as a regrade in full (force) gives?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    edit_answer(folder, LOADER_NOTEBOOK)
    again = grade_three(course)
    assert [r.reused for r in again] == [[INDEPENDENT_NOTEBOOK, NOTEBOOK]]
    scores = gradebook_scores(course)
    forced = grade_three(course, force=True)
    assert [r.reused for r in forced] == [[]]
    assert as_graded(again) == as_graded(forced) and again[0].score == 7.0
    assert gradebook_scores(course) == scores


def test_an_edit_to_a_notebook_others_load_regrades_them_too(three_notebooks, tmp_path):
    """After an edit to squares.ipynb, which totals.ipynb loads, are both run again, areas.ipynb only reused, with
    the results of a regrade in full?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    edit_answer(folder, NOTEBOOK)
    again = grade_three(course)
    assert [r.reused for r in again] == [[INDEPENDENT_NOTEBOOK]]
    assert as_graded(again) == as_graded(grade_three(course, force=True))


def test_a_model_saved_by_an_earlier_run_is_never_read_again(three_notebooks, tmp_path):
    """When the resubmitted training cell crashes before it saves its model, does the model's test fail (neither
    the model the last grading saved nor one in the submission folder is taken for it), the others reused?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    submit(course, "ann", LOADER_CLASS["cal"][1], LOADER_NOTEBOOK)
    numpy.savez(folder / "best_model.npz", w=numpy.array([4.0, 9.0]))   # from the student's own run
    [result] = grade_three(course)
    assert (result.reused, result.score) == ([INDEPENDENT_NOTEBOOK, NOTEBOOK], 6.0)
    message = next(t.message for t in result.tests if t.grade_id == "test_saved_weights")
    assert message.startswith("Task 2 answer cell (`train_totals`) raised ValueError: diverged") and \
        "best_model.npz is missing" in message, message


def test_a_limit_met_inside_one_notebook_leaves_the_others_reused(three_notebooks, tmp_path):
    """When the changed notebook's cell runs out of memory (a MemoryError in that notebook, which the others
    outlive), are the others still reused, with the results of a regrade in full, and the fixed notebook run again?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    submit(course, "ann", BODIES["fay"], LOADER_NOTEBOOK)
    stopped = grade_three(course)
    assert [(r.score, r.status, r.reused) for r in stopped] == [(6.0, "memory", [INDEPENDENT_NOTEBOOK, NOTEBOOK])]
    assert as_graded(stopped) == as_graded(grade_three(course, force=True))
    submit_all(course, "ann", {})
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == \
        [(7.0, "graded", [INDEPENDENT_NOTEBOOK, NOTEBOOK])]


def test_a_run_that_stops_is_graded_in_full_and_nothing_of_it_is_reused(three_notebooks, tmp_path):
    """When the changed notebook kills its kernel (nbgrader then keeps no notebook of the submission), is the
    submission graded in full, as force does, and the next resubmission graded in full too?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    submit(course, "ann", BODIES["gus"], LOADER_NOTEBOOK)
    stopped = grade_three(course)
    assert [(r.score, r.status, r.reused) for r in stopped] == [(0.0, "kernel died", [])]
    assert as_graded(stopped) == as_graded(grade_three(course, force=True))
    submit_all(course, "ann", {})
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == [(7.0, "graded", [])]


def test_a_run_past_the_submissions_budget_is_graded_in_full(three_notebooks, tmp_path):
    """When the changed notebook loops past the submission's CPU budget (which the reused notebooks' time counts
    in), is the submission graded in full, stopped where a full run stops (the notebooks before it scored), and
    the next resubmission graded in full?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    submit(course, "ann", BODIES["eve"], LOADER_NOTEBOOK)
    stopped = grade_three(course)
    assert [(r.score, r.status, r.reused) for r in stopped] == [(6.0, "timeout", [])]
    assert [(f.kind, f.notebook) for f in stopped[0].failures] == [("timeout", "")]
    assert "used more than 15 s of CPU time" in stopped[0].reason
    submit_all(course, "ann", {})
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == [(7.0, "graded", [])]


def test_a_result_of_a_grader_fault_or_a_corrupt_record_of_outcomes_reuses_nothing(three_notebooks, tmp_path):
    """After a grading the grader failed on, or with the kept outcomes unreadable, is an edited submission graded in
    full, with the right score and no error?"""
    course, folder = graded_copy(three_notebooks, tmp_path)
    edit_answer(folder, LOADER_NOTEBOOK)
    record_crashed_worker(course, "ann")   # what the pool records when the grader fails
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == [(7.0, "graded", [])]
    kept = results_dir(course, ASSIGNMENT) / "notebooks" / "ann.json"
    kept.write_text(kept.read_text()[:1000])
    edit_answer(folder, LOADER_NOTEBOOK, "# and again")
    assert [(r.score, r.status, r.reused) for r in grade_three(course)] == [(7.0, "graded", [])]


def test_the_summary_says_how_many_notebooks_were_reused():
    """Does the command's summary say how many notebooks of this run's submissions were reused, and nothing when
    no submission was graded?"""
    tests = [Result(f"{n}.ipynb", "test_a", "", 1.0, 1.0, True) for n in range(1, 7)]   # one has no test
    regraded = [SubmissionResult("ann", "toy", "f", tests, reused=[f"{n}.ipynb" for n in range(1, 7)]),
                SubmissionResult("ben", "toy", "f", tests)]
    assert reuse_summary(regraded, 7) == "2 of them graded in this run; their code unchanged, reused 6 of 14 notebooks."
    assert reuse_summary(regraded[1:], 7) == "1 of them graded in this run."
    assert reuse_summary([], 7) == ""
