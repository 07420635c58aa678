"""Grade submissions in parallel so that a grading process that dies is blamed on the one submission it graded.

A pool (or a Dask cluster) grades at most `capacity` submissions at a time, so when one of
its processes dies (a segfault, os._exit, the kernel's OOM killer) the submissions it may
have been grading are known: those in flight. The pool is replaced and the queue goes on;
every submission that was in flight is then graded again alone, in a process of its own
whose end is seen. The one that dies again alone gets the crash recorded against it; the
others get their grade. A grader that fails without dying (an exception) is the grading
machinery's fault, never the student's: the outcome says so, so that it is graded again.
"""
from __future__ import annotations

import signal
from collections import deque
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, BrokenExecutor, CancelledError, Executor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for
from typing import Any, Callable, Hashable


@dataclass(frozen=True)
class Crash:
    """Why a submission has no grade: its grading process died, or the grader failed."""
    detail: str           # plain words, for the student's result
    grader_fault: bool    # True: the grading machinery failed (grade it again); False: it died grading this alone


def run_all(tasks: dict[Hashable, Any], run: Callable[[Any], Any], new_executor: Callable[[], Executor],
            capacity: int, record: Callable[[Hashable, Any], None]) -> None:
    """Call record(key, run(task) or a Crash) once for every task; never raises for what a task does.

    `run` must be picklable (a module-level function); `new_executor` makes a pool, and is
    called again whenever a pool breaks. Outcomes are recorded in this thread, while the
    pool grades the next submissions.
    """
    queue, in_flight, suspects = deque(tasks), {}, []
    executor = new_executor()

    def fill() -> None:
        while queue and len(in_flight) < capacity:
            key = queue.popleft()
            in_flight[executor.submit(run, tasks[key])] = key

    try:
        fill()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            if any(isinstance(_error(future), BrokenExecutor) for future in finished):
                finished, _ = wait(in_flight, return_when=ALL_COMPLETED)   # every other one fails at once too
                executor.shutdown(wait=True)
                executor = new_executor()
            outcomes = []
            for future in finished:
                key = in_flight.pop(future)
                if _error(future) is None:
                    outcomes.append((key, future.result()))
                else:   # a broken pool, a lost Dask worker, an error of the grader: graded again alone
                    suspects.append(key)
            fill()   # keep the pool busy while this thread records
            for key, outcome in outcomes:
                record(key, outcome)
    finally:
        executor.shutdown(wait=True)
    for key in suspects:
        record(key, run_alone(tasks[key], run))


def _error(future) -> BaseException | None:
    """What a finished future raised (a cancelled one: CancelledError), or None."""
    return CancelledError() if future.cancelled() else future.exception()


def run_alone(task: Any, run: Callable[[Any], Any]) -> Any:
    """run(task) in a fresh process of its own: its outcome, or a Crash saying how the process ended.

    A process that dies before it starts grading (it could not even start) is the grader's
    fault; one that dies while grading is blamed on the submission.
    """
    context = get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_run_and_send, args=(run, task, sender), daemon=True)
    process.start()
    sender.close()
    try:
        (started, _), (status, value) = _message(receiver, process), _message(receiver, process)
    finally:
        receiver.close()
    process.join()
    if started != "started":
        return Crash(f"the grading process could not start ({describe_exit(process.exitcode)})", grader_fault=True)
    if status is None:
        return Crash(f"the grading process died ({describe_exit(process.exitcode)}) while grading this submission "
                     "alone, after a grading process had died while grading it with others", grader_fault=False)
    if status == "raised":
        return Crash(f"the grader failed: {value}", grader_fault=True)
    return value


def _message(receiver, process) -> tuple:
    """The child's next message, or (None, None) once it has died without sending one."""
    wait_for([receiver, process.sentinel])
    try:
        return receiver.recv()
    except (EOFError, OSError):
        return None, None


def _run_and_send(run: Callable[[Any], Any], task: Any, sender) -> None:
    sender.send(("started", None))
    try:
        outcome = ("done", run(task))
    except BaseException as error:  # noqa: B036 (whatever it was, the parent must hear of it)
        outcome = ("raised", f"{type(error).__name__}: {error}"[:500])
    sender.send(outcome)
    sender.close()


def describe_exit(exitcode: int | None) -> str:
    """A process's end in plain words, e.g. 'killed by signal SIGSEGV' or 'exit code 3'."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
