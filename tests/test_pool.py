"""Tests for autograder.grading.pool: a grading process that dies is blamed on its one submission.

The tasks here are stand-ins for submissions ((name, what it does)); `act` runs in the pool's
spawned processes, so it is a module-level function of this file.
"""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from autograder.grading.pool import Crash, describe_exit, run_alone, run_all


def act(task):
    """What a stand-in submission does to the process grading it, after `delay` seconds."""
    name, action, delay = task
    time.sleep(delay)
    if action == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "exit":
        os._exit(3)
    if action == "raise":
        raise RuntimeError("the grader's own bug")
    return f"graded {name}"


def grade_all(tasks: dict, capacity: int = 2) -> tuple[dict, int]:
    """Outcome per task, and how many pools were made."""
    outcomes, pools = {}, []

    def new_pool():
        pools.append(ProcessPoolExecutor(max_workers=capacity, mp_context=get_context("spawn")))
        return pools[-1]

    def record(key, outcome):
        assert key not in outcomes, f"{key} was recorded twice"
        outcomes[key] = outcome

    run_all(tasks, act, new_pool, capacity, record)
    return outcomes, len(pools)


@pytest.mark.parametrize("action, how", [("segfault", "killed by signal SIGSEGV"), ("kill", "killed by signal SIGKILL"),
                                         ("exit", "exit code 3")])
def test_a_process_that_dies_is_blamed_on_its_submission_alone(action, how):
    """Does the submission that kills its grading process get that crash, and every classmate its grade,
    the one graded beside it at the time and those still waiting included?"""
    tasks = {"zed": ("zed", action, 0.5), "ada": ("ada", "ok", 2.0)}
    tasks.update({name: (name, "ok", 0.0) for name in ("ben", "cy", "dee")})
    outcomes, pools = grade_all(tasks)
    assert {name: outcomes[name] for name in ("ada", "ben", "cy", "dee")} == \
        {name: f"graded {name}" for name in ("ada", "ben", "cy", "dee")}
    crash = outcomes["zed"]
    assert isinstance(crash, Crash) and not crash.grader_fault
    assert how in crash.detail and "alone" in crash.detail
    assert pools == 2   # the broken pool was replaced


def test_an_exception_of_the_grader_is_its_own_fault():
    """Is a grader that raises (rather than dies) recorded as the grader's fault, so that it is graded again?"""
    outcomes, pools = grade_all({"ada": ("ada", "ok", 0.0), "bug": ("bug", "raise", 0.0)})
    assert outcomes["ada"] == "graded ada" and pools == 1
    assert outcomes["bug"] == Crash("the grader failed: RuntimeError: the grader's own bug", grader_fault=True)


def test_no_more_submissions_are_in_flight_than_the_capacity():
    """Are at most `capacity` tasks handed to the pool at once (so that those in flight at a crash are known)?"""
    submitted, most = [], [0]

    class CountingPool(ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            submitted.append(future)
            most[0] = max(most[0], sum(not f.done() for f in submitted))
            return future

    outcomes = {}
    run_all({n: (n, "ok", 0.2) for n in "abcdef"}, act,
            lambda: CountingPool(max_workers=2, mp_context=get_context("spawn")), 2, outcomes.__setitem__)
    assert outcomes == {n: f"graded {n}" for n in "abcdef"} and most[0] == 2


def test_run_alone_returns_the_outcome_or_how_the_process_ended():
    """Does a task run alone give its outcome, and a dying one a Crash with its signal?"""
    assert run_alone(("ada", "ok", 0.0), act) == "graded ada"
    crash = run_alone(("zed", "segfault", 0.0), act)
    assert isinstance(crash, Crash) and "SIGSEGV" in crash.detail and not crash.grader_fault


class DiesOnArrival:
    """A task whose unpickling ends the process that receives it (exit code 5), before any grading starts."""

    def __reduce__(self):
        return os._exit, (5,)


def test_a_process_that_cannot_even_start_is_the_graders_fault():
    """Is a grading process that dies before it starts grading recorded as the grader's fault (graded again)?"""
    assert run_alone(DiesOnArrival(), act) == Crash("the grading process could not start (exit code 5)",
                                                    grader_fault=True)


def test_an_exit_is_described_in_plain_words():
    """Are signals named and exit codes numbered?"""
    assert [describe_exit(code) for code in (-11, -9, 3, 0, -200)] == \
        ["killed by signal SIGSEGV", "killed by signal SIGKILL", "exit code 3", "exit code 0", "killed by signal 200"]
