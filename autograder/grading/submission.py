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

A regrade runs only what changed: a notebook whose key (notebook_keys.py: its cells, the code
of the notebooks it loads, the grading context) is the key of its outcome kept from the last
grading (reuse.py) is not run again, nor are its tests; nbgrader runs the others
(nbgrader_run.py). If that run is stopped (a limit, a dead kernel), the submission is graded
in full, so that it stops where a full run would.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..course import CONFIG_FILE, RELEASE_DIR, SOURCE_DIR
from . import cell_budget
from .intake import NOTEBOOK_BYTES, SUBMISSION_BYTES, copy_regular_files, fingerprint, notebook_too_big, \
    oversize_notebooks, regular_file_size, survey, too_big, too_many_cells
from .nbgrader_run import autograde, environment, place_neighbours, sandbox_limits
from .notebook_keys import BOOKKEEPING, context_key, must_run, notebook_keys
from .restore import restore_folder
from ..results import Failure, SubmissionResult, Flag
from .reasons import explain, not_run, notebook_run
from .reuse import NotebookOutcome, load_outcomes, reusable, stray_files
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
    reuse: bool = True       # reuse each notebook's kept outcome while its key is unchanged (False: --force)


@dataclass
class Execution:
    """What a worker hands back: the result, the executed notebooks (name -> JSON text), and the
    outcomes of the notebooks that ran cleanly, to be kept for the next grading (reuse.py)."""
    result: SubmissionResult
    notebooks: dict[str, str]
    outcomes: dict[str, NotebookOutcome] = field(default_factory=dict)


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
    kept = load_outcomes(Path(task.course_root), task.assignment, task.student) if task.reuse else {}
    execution = _grade(task, kept, start)
    if execution is None:   # the run of the changed notebooks was stopped: grade it all, as a full run stops it
        execution = _grade(task, {}, start)
    return execution


def _grade(task: GradeTask, kept: dict[str, NotebookOutcome], start: float) -> Execution | None:
    """Grade the submission, reusing the `kept` outcomes whose key is unchanged; None if some were
    reused and a limit, a dead kernel or nbgrader failing stopped the run of the others."""
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
        keys, codes = notebook_keys(submitted, expected, _context(task, submitted, expected))
        present = [name for name in expected if (submitted / name).exists()]
        reused = reusable(kept, keys, _test_ids(source))
        to_run = must_run(set(present) - set(reused), codes)
        reused = {name: reused[name] for name in present if name in reused and name not in to_run}
        cpu: dict[str, float] = {}
        if any(submitted.glob("*.ipynb")) and (to_run or not reused):
            if reused:
                place_neighbours(course, task, sorted(reused))
            IN_PROCESS.release()   # a subprocess: other threads may do their in-process work meanwhile
            try:
                # The budget covers every notebook: the reused ones are charged the CPU time their cells used
                # when they ran (not nbgrader's own start-up for them, a second or two each).
                stopped, cpu = autograde(course, task, sorted(to_run) if reused else None,
                                         max(1.0, limits.cpu_seconds - sum(o.cpu_seconds for o in reused.values())))
            finally:
                IN_PROCESS.acquire()
            if stopped and reused:
                return None
            failures += stopped
        autograded = course / "autograded" / task.student / task.assignment
        notebooks, unread = _executed_notebooks(autograded, limits.notebook_bytes, set(to_run) if reused else None)
        failures += unread
        runs = {name: notebook_run(text) for name, text in notebooks.items()}   # before the verdicts replace tests' outputs
        verdicts: dict = {}
        static_flags = len(flags)
        grader_failures, trusted_seconds = _score_in_grader(task, submitted, autograded, notebooks, flags, runs,
                                                            failures, verdicts, reused)
        failures += grader_failures
        stray = stray_files(autograded, [submitted, release])
    tests, found_failures = score_notebooks(source, notebooks, failures, verdicts, runs)
    kept_tests = {(t.notebook, t.grade_id): t for outcome in reused.values() for t in outcome.tests}
    tests = [kept_tests.get((t.notebook, t.grade_id), t) for t in tests]
    failures += found_failures
    result = SubmissionResult(task.student, task.assignment, identity, tests, failures,
                              round(time.perf_counter() - start, 1), flags, reused=sorted(reused))
    new = {name: NotebookOutcome(keys[name], text, [t for t in tests if t.notebook == name],
                                 [f for f in flags[static_flags:] if f.notebook == name], cpu[name],
                                 trusted_seconds.get(name, 0.0))
           for name, text in notebooks.items() if name in cpu and not any(f.notebook in ("", name) for f in failures)}
    executed = dict(sorted({**notebooks, **{name: o.executed for name, o in reused.items()}}.items()))
    return Execution(result, executed, {} if stray else {**reused, **new})


def _context(task: GradeTask, submitted: Path, expected: list[str]) -> str:
    """What every notebook's outcome depends on besides the notebooks (notebook_keys.context_key); the
    dataset by its files' names and sizes (wherever it is: reading it would take seconds)."""
    course = Path(task.course_root)
    dataset = sorted((p.relative_to(task.cifar10_dir).as_posix(), p.stat().st_size)
                     for p in Path(task.cifar10_dir).rglob("*") if p.is_file())
    return context_key({course / RELEASE_DIR / task.assignment: set(), course / SOURCE_DIR / task.assignment: set(),
                        submitted: set(expected) | BOOKKEEPING},
                       [course / CONFIG_FILE], f"{task.limits!r} {dataset}")


def _test_ids(source: Path) -> dict[str, list[str]]:
    """Notebook -> grade_ids of its autograded tests, in order."""
    tests: dict[str, list[str]] = {}
    for notebook, grade_id, *_ in autograded_tests(source):
        tests.setdefault(notebook, []).append(grade_id)
    return tests


def _executed_notebooks(autograded: Path, limit: int, names: set[str] | None = None) -> tuple[dict[str, str], list[Failure]]:
    """Name -> JSON text of every executed notebook nbgrader left (regular files up to `limit` bytes),
    or of the `names` only (the others there were placed for them to load from).

    A notebook there may not have been executed (a kill mid-run, or a reused notebook placed
    there for others to load from): only fully executed ones are read, since a test cell
    without output would pass.
    The folder is where the student's code ran: a link or a pipe there is never read.
    """
    notebooks, failures = {}, []
    for path in sorted(autograded.glob("*.ipynb")):
        if names is not None and path.name not in names:
            continue
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
                     flags: list[Flag], runs: dict, failures: list[Failure], found: dict,
                     reused: dict[str, NotebookOutcome]) -> tuple[list[Failure], dict[str, float]]:
    """Re-score every executed notebook's tests in this process; write the verdicts into `notebooks`
    and into `found` ((notebook, grade_id) -> Verdict). The `reused` notebooks' tests are not run:
    their flags are added and the CPU time they took is charged to the budget, in notebook order,
    as a full run would. Returns the grader's failures and each scored notebook's CPU seconds."""
    limits = task.limits
    plan = WorkerPlan(submitted, sandbox_limits(limits), limits.sandbox, environment(task),
                      visible=(Path(task.cifar10_dir),), test_seconds=limits.test_seconds)
    reference = Path(task.course_root) / SOURCE_DIR / task.assignment
    tests = _test_ids(reference)
    grader_failures, budget, seconds = [], Budget(limits.trusted_seconds), {}
    for name in sorted(set(tests) & (set(notebooks) | set(reused))):
        if name in reused:
            budget.spent_cpu += reused[name].trusted_seconds
            flags += reused[name].flags
            continue
        run, spent_before = runs[name], budget.spent_cpu
        try:
            verdicts = not_run(run, tests[name])   # what a timed-out cell kept from running (the worker would loop too)
            if len(verdicts) < len(tests[name]):
                verdicts = {**run_trusted_tests(reference / name, plan, autograded, budget), **verdicts}
            verdicts = explain(verdicts, run, failures)
        except Exception as error:  # a fault of the grader itself: never fall back to the notebook's own verdicts
            detail = f"the grader could not run the tests: {type(error).__name__}: {error}"
            grader_failures.append(Failure("error", name, detail, grader_fault=True))
            verdicts = {grade_id: Verdict(False, f"GraderError: {detail}", "GraderError") for grade_id in tests[name]}
        seconds[name] = budget.spent_cpu - spent_before
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
    return grader_failures, seconds


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
