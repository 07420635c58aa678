"""Execute one submission with nbgrader, alone, within a budget of CPU time and a memory cap.

A worker (a pool process or a Dask worker) calls `run_submission`. It reads only what
intake.py allows of the submission folder (regular files, within size limits), builds a
private scratch nbgrader course (config, the release as its source, a gradebook holding
only the release, the one submission, restored to the release's shape), runs `nbgrader autograde` there in a
sandbox (autograder/sandbox: it sees the scratch course, the dataset, Python and the kit's
code, nothing else; no network, its own uid; a CPU budget for its whole process tree with a
wall-clock backstop, a memory cap, a process cap) and reads the executed notebooks back. Then every
test is scored again in this process (trusted/tests.py), against the student's code run in a
sandboxed worker; that verdict replaces the test cell's outcome in the executed notebook,
so it is the grade. Nothing here touches the real gradebook: the single writer
(gradebook_writer) does that with what this returns.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import CONFIG_FILE, RELEASE_DIR, ROOT, SOURCE_DIR
from . import cell_budget
from .intake import NOTEBOOK_BYTES, SUBMISSION_BYTES, copy_regular_files, fingerprint, notebook_too_big, \
    oversize_notebooks, regular_file_size, survey, too_big, too_many_cells
from .restore import restore_folder
from ..results import Failure, SubmissionResult, Flag
from ..sandbox import SandboxLimits, SandboxRun, run
from .reasons import explain, not_run, notebook_run
from .scoring import apply_verdicts, autograded_tests, score_notebooks
from ..trusted.session import WorkerPlan
from .flags import flag_suspicious_code
from ..trusted.saved import SAVED_FILES
from ..trusted.tests import BUDGET_SPENT, Budget, Verdict, run_trusted_tests


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; the defaults suit the two-layer-net assignment on a laptop.

    Time is CPU time, so a loaded machine makes grading slower but changes no score; each
    budget has a wall-clock backstop (sandbox.WALL_FACTOR times as long) for code that waits.
    """
    cpu_seconds: float = 900.0         # the whole submission (every notebook, nbgrader and its kernel)
    memory_bytes: int = 6 * 2 ** 30    # nbgrader and its kernel (see autograder/sandbox/cgroup.py)
    blas_threads: int = 1              # threads per submission; parallelism comes from the pool
    max_processes: int = 256           # processes and threads of one submission (nbgrader, kernel, ...)
    sandbox: bool = True               # off only for code you trust, or where sandboxes cannot be made
    test_seconds: float = 60.0         # CPU seconds of each test cell of the trusted re-run (trusted/)
    trusted_seconds: float = 120.0     # CPU seconds of the trusted re-run of a whole submission (every test)
    notebook_bytes: int = NOTEBOOK_BYTES        # one notebook, as submitted and as executed; larger is not graded
    submission_bytes: int = SUBMISSION_BYTES    # the submission folder's files together; larger is not read at all


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs, as plain picklable data."""
    student: str
    assignment: str
    submission_dir: str      # <course>/submitted/<student>/<assignment>
    course_root: str         # holds nbgrader_config.py and the source notebooks
    gradebook_template: str  # the gradebook with the release's cells (copied, never written; see grade.py)
    cifar10_dir: str
    limits: Limits = Limits()


@dataclass
class Execution:
    """What a worker hands back: the result and the executed notebooks (name -> JSON text)."""
    result: SubmissionResult
    notebooks: dict[str, str]


# Trusted scoring patches module globals and NumPy's global random state, and CPython's ast
# module is not safe across threads: on a Dask worker with several threads, one submission
# at a time does its work in this process; only the sandboxed notebook runs overlap.
IN_PROCESS = threading.Lock()


def run_submission(task: GradeTask) -> Execution:
    """Execute and score one submission; never raises for anything the submission does.

    Safe to call from several threads of one process (a Dask worker with --nthreads 2).
    """
    with IN_PROCESS:
        return _run_submission(task)


def _run_submission(task: GradeTask) -> Execution:
    start = time.perf_counter()
    limits = task.limits
    source = Path(task.course_root) / SOURCE_DIR / task.assignment
    release = Path(task.course_root) / RELEASE_DIR / task.assignment
    found = survey(Path(task.submission_dir))
    identity = fingerprint(Path(task.submission_dir), limits.submission_bytes, found)
    refused = too_big(found, limits.submission_bytes)
    if refused:   # nothing of it is copied or read
        tests, _ = score_notebooks(source, {}, [refused])
        return Execution(SubmissionResult(task.student, task.assignment, identity, tests, [refused],
                                          round(time.perf_counter() - start, 1)), {})
    with tempfile.TemporaryDirectory(prefix=f"grade-{task.student}-") as scratch:
        course = Path(scratch)
        shutil.copy2(Path(task.course_root) / CONFIG_FILE, course / CONFIG_FILE)
        with open(course / CONFIG_FILE, "a") as config:   # cells get a budget in CPU seconds
            config.write(cell_budget.config_lines())
        shutil.copytree(release, course / SOURCE_DIR / task.assignment)   # what students have: no hidden tests
        shutil.copy2(task.gradebook_template, course / "gradebook.db")
        submitted = course / "submitted" / task.student / task.assignment
        oversize = oversize_notebooks(found, limits.notebook_bytes)
        copy_regular_files(Path(task.submission_dir), submitted, found,
                           skip=set(oversize) | SAVED_FILES)   # only what this run saves may be evaluated as a model
        expected = sorted(p.name for p in source.glob("*.ipynb"))
        failures = [notebook_too_big(name, oversize[name], limits.notebook_bytes) for name in expected if name in oversize]
        failures += _drop_unreadable(submitted, [name for name in expected if name not in oversize])
        flags = restore_folder(submitted, release)
        flags += flag_suspicious_code(submitted)
        if any(submitted.glob("*.ipynb")):
            IN_PROCESS.release()   # a subprocess: other threads may do their in-process work meanwhile
            try:
                failures += _autograde(course, task)
            finally:
                IN_PROCESS.acquire()
        autograded = course / "autograded" / task.student / task.assignment
        notebooks, unread = _executed_notebooks(autograded, limits.notebook_bytes)
        failures += unread
        runs = {name: notebook_run(text) for name, text in notebooks.items()}   # before the verdicts replace tests' outputs
        verdicts: dict = {}
        failures += _score_in_grader(task, submitted, autograded, notebooks, flags, runs, failures, verdicts)
    tests, found_failures = score_notebooks(source, notebooks, failures, verdicts, runs)
    result = SubmissionResult(task.student, task.assignment, identity, tests, failures + found_failures,
                              round(time.perf_counter() - start, 1), flags)
    return Execution(result, notebooks)


def _executed_notebooks(autograded: Path, limit: int) -> tuple[dict[str, str], list[Failure]]:
    """Name -> JSON text of every executed notebook nbgrader left (regular files up to `limit` bytes).

    nbgrader copies every notebook into autograded/ before executing them one by one: after a
    kill, the copies not yet executed are there too, and a test cell without output would pass.
    The folder is where the student's code ran: a link or a pipe there is never read.
    """
    notebooks, failures = {}, []
    for path in sorted(autograded.glob("*.ipynb")):
        size = regular_file_size(path)
        if size is None:
            continue
        refused = notebook_too_big(path.name, size, limit, executed=True) if size > limit else too_many_cells(path)
        if refused:
            failures.append(refused)
        elif was_executed(path):
            notebooks[path.name] = path.read_text(encoding="utf-8")
    return notebooks, failures


def _score_in_grader(task: GradeTask, submitted: Path, autograded: Path, notebooks: dict[str, str],
                     flags: list[Flag], runs: dict, failures: list[Failure], found: dict) -> list[Failure]:
    """Re-score every executed notebook's tests in this process; write the verdicts into `notebooks`
    and into `found` ((notebook, grade_id) -> Verdict)."""
    limits = task.limits
    plan = WorkerPlan(submitted, _sandbox_limits(limits), limits.sandbox, _environment(task),
                      visible=(Path(task.cifar10_dir),), test_seconds=limits.test_seconds)
    reference = Path(task.course_root) / SOURCE_DIR / task.assignment
    tests = {}
    for notebook, grade_id, *_ in autograded_tests(reference):
        tests.setdefault(notebook, []).append(grade_id)
    grader_failures, budget = [], Budget(limits.trusted_seconds)
    for name in sorted(set(tests) & set(notebooks)):
        run = runs[name]
        try:
            verdicts = not_run(run, tests[name])   # what a timed-out cell kept from running (the worker would loop too)
            if len(verdicts) < len(tests[name]):
                verdicts = {**run_trusted_tests(reference / name, plan, autograded, budget), **verdicts}
            verdicts = explain(verdicts, run, failures)
        except Exception as error:  # a fault of the grader itself: never fall back to the notebook's own verdicts
            detail = f"the grader could not run the tests: {type(error).__name__}: {error}"
            grader_failures.append(Failure("error", name, detail, grader_fault=True))
            verdicts = {grade_id: Verdict(False, f"GraderError: {detail}", "GraderError") for grade_id in tests[name]}
        unfinished = [grade_id for grade_id, verdict in verdicts.items() if verdict.kind == BUDGET_SPENT]
        if unfinished:
            grader_failures.append(Failure("timeout", name, f"the grader's budget for running the submission's "
                                                            f"functions ({budget.seconds:g} s of CPU time for all "
                                                            f"tests) ran out: {', '.join(unfinished)} could not run "
                                                            "or finish"))
        ran_to_end = run.ran_to_end and not any(f.notebook == name for f in failures)
        notebooks[name], disagreements = apply_verdicts(name, notebooks[name], verdicts, ran_to_end)
        flags += disagreements
        found.update({(name, grade_id): verdict for grade_id, verdict in verdicts.items()})
    return grader_failures


def was_executed(path: Path) -> bool:
    """Did every code cell of this notebook run (have an execution count)?"""
    cells = nbformat.read(path, as_version=4).cells
    return all(cell.execution_count is not None for cell in cells if cell.cell_type == "code" and cell.source.strip())


def _drop_unreadable(submitted: Path, expected: list[str]) -> list[Failure]:
    """Remove notebooks nbgrader could not read (it would stop there); say why each went."""
    failures = []
    for name in sorted(expected):
        path = submitted / name
        if not path.exists():
            failures.append(Failure("unreadable", name, "is missing from the submission"))
            continue
        if crowded := too_many_cells(path):
            path.unlink()
            failures.append(crowded)
            continue
        try:
            nbformat.validate(nbformat.read(path, as_version=4))
        except Exception as error:  # JSON errors, schema errors, wrong encodings, ...
            path.unlink()
            first_line = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            failures.append(Failure("unreadable", name, f"is not a readable notebook ({first_line})"))
    return failures


def _autograde(course: Path, task: GradeTask) -> list[Failure]:
    """Run nbgrader autograde for the one student in `course` (sandboxed unless --no-sandbox), within its limits.

    The sandbox sees the scratch course and the dataset, never the course being graded.
    """
    command = [sys.executable, "-m", "nbgrader", "autograde", task.assignment,
               "--student", task.student, "--force", "--create"]
    ran = run(command, course, _sandbox_limits(task.limits), isolate=task.limits.sandbox,
              visible=[Path(task.cifar10_dir)], env=_environment(task))
    return _failures_of_run(ran)


def _failures_of_run(ran: SandboxRun) -> list[Failure]:
    """What stopped nbgrader, if anything did, and what its log reveals."""
    if ran.kind in ("cpu", "wall"):
        return [Failure("timeout", "", f"the submission {ran.stopped} (the budget covers every notebook)")]
    if ran.kind == "memory":
        return _unique([Failure("memory", "", f"the submission {ran.stopped}"),
                        *_failures_in_log(ran.output, ran.returncode or 0)])
    if ran.kind is not None:  # a signal from inside: the submission killed its own grading run
        return [Failure("error", "", f"nbgrader {ran.stopped}, by the submission itself or something it started")]
    return _failures_in_log(ran.output, ran.returncode)


def _environment(task: GradeTask) -> dict[str, str]:
    """Only what a run of the student's code needs: nothing of the grader's own environment.

    PYTHONPATH names the kit, so that the notebooks import the kit's nn_helpers, which
    the sandbox shows, wherever the environment's own install of it points.
    """
    threads = str(task.limits.blas_threads)
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT), "CIFAR10_DIR": task.cifar10_dir, "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def _sandbox_limits(limits: Limits) -> SandboxLimits:
    return SandboxLimits(cpu_seconds=limits.cpu_seconds, memory_bytes=limits.memory_bytes,
                         max_processes=limits.max_processes)


def _failures_in_log(log: str, returncode: int) -> list[Failure]:
    """Failures only nbgrader's own log reveals: a dead kernel, or nbgrader itself failing."""
    failures, current = [], ""
    for line in log.splitlines():
        if "Converting notebook" in line:  # nbgrader announces each notebook before running it
            current = _notebook_in(line) or current
        if "DeadKernelError" in line or "Kernel died" in line:
            failures.append(Failure("kernel died", _notebook_in(line) or current,
                                    "the kernel died while running the notebook (crashed, or killed for "
                                    "using too much memory); nbgrader then keeps none of the submission's notebooks"))
    if returncode != 0 and not failures:
        tail = " | ".join(line.strip() for line in log.strip().splitlines()[-3:])
        failures.append(Failure("error", "", f"nbgrader autograde failed (exit code {returncode}): {tail[:300]}"))
    return _unique(failures)


def _notebook_in(line: str) -> str:
    words = [w.strip("'\",:") for w in line.split() if w.strip("'\",:").endswith(".ipynb")]
    return Path(words[0]).name if words else ""


def _unique(failures: list[Failure]) -> list[Failure]:
    seen, unique = set(), []
    for failure in failures:
        key = (failure.kind, failure.notebook)
        if key not in seen:
            seen.add(key)
            unique.append(failure)
    return unique
