"""Execute one submission with nbgrader, alone, within a time and memory limit.

A worker (a pool process or a Dask worker) calls `run_submission`. It builds a private
scratch nbgrader course (config, the release as its source, a gradebook holding only the
release, the one submission, restored to the release's shape), runs `nbgrader autograde` there in a
sandbox (sandbox.py: no network, its own uid, memory, CPU, process and wall-clock limits,
the course's private folders hidden) and reads the executed notebooks back. Then every
test is scored again in this process (trusted.py), against the student's code run in a
sandboxed worker; that verdict replaces the test cell's outcome in the executed notebook,
so it is the grade. Nothing here touches the real gradebook: the single writer
(gradebook_writer) does that with what this returns.
"""
from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import CONFIG_FILE, RELEASE_DIR, ROOT, SOURCE_DIR
from .restore import restore_folder
from ..results import Failure, SubmissionResult, Flag
from ..sandbox import SandboxLimits, run_sandboxed
from .reasons import explain, not_run, notebook_run
from .scoring import apply_verdicts, autograded_tests, score_notebooks
from ..trusted.session import WorkerPlan
from .flags import flag_suspicious_code
from ..trusted.tests import SAVED_FILES, Verdict, run_trusted_tests

# What a submission must not see of the course it is graded in: the reference solutions and
# hidden tests, the gradebook, every other submission and every result.
PRIVATE = (SOURCE_DIR, "gradebook.db", "submitted", "autograded", "feedback", "grading", "exports",
           "feedback_html", "reports", "source", ".git")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; the defaults suit the two-layer-net assignment on a laptop."""
    wall_seconds: float = 900.0        # the whole submission (every notebook) must finish in this
    memory_bytes: int = 6 * 2 ** 30    # address-space cap of nbgrader and its kernel
    blas_threads: int = 1              # threads per submission; parallelism comes from the pool
    max_processes: int = 256           # processes and threads of one submission (nbgrader, kernel, ...)
    sandbox: bool = True               # off only for code you trust, or where sandboxes cannot be made
    test_seconds: float = 120.0        # each test cell of the trusted re-run (trusted.py)


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


def fingerprint(submission_dir: Path) -> str:
    """sha256 over the relative paths and bytes of every file of a submission."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(submission_dir).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(submission_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_submission(task: GradeTask) -> Execution:
    """Execute and score one submission; never raises for anything the submission does."""
    start = time.perf_counter()
    source = Path(task.course_root) / SOURCE_DIR / task.assignment
    release = Path(task.course_root) / RELEASE_DIR / task.assignment
    with tempfile.TemporaryDirectory(prefix=f"grade-{task.student}-") as scratch:
        course = Path(scratch)
        shutil.copy2(Path(task.course_root) / CONFIG_FILE, course / CONFIG_FILE)
        shutil.copytree(release, course / SOURCE_DIR / task.assignment)   # what students have: no hidden tests
        shutil.copy2(task.gradebook_template, course / "gradebook.db")
        submitted = course / "submitted" / task.student / task.assignment
        shutil.copytree(task.submission_dir, submitted)
        for name in SAVED_FILES:   # only what this run saves may be evaluated as the student's trained model
            (submitted / name).unlink(missing_ok=True)
        failures = _drop_unreadable(submitted, [p.name for p in source.glob("*.ipynb")])
        flags = restore_folder(submitted, release)
        flags += flag_suspicious_code(submitted)
        if any(submitted.glob("*.ipynb")):
            failures += _autograde(course, task)
        autograded = course / "autograded" / task.student / task.assignment
        # nbgrader copies every notebook into autograded/ before executing them one by one: after a
        # kill, the copies not yet executed are there too, and a test cell without output would pass.
        notebooks = {p.name: p.read_text(encoding="utf-8") for p in sorted(autograded.glob("*.ipynb"))
                     if was_executed(p)}
        runs = {name: notebook_run(text) for name, text in notebooks.items()}   # before the verdicts replace tests' outputs
        verdicts: dict = {}
        failures += _score_in_grader(task, course, submitted, autograded, notebooks, flags, runs, failures, verdicts)
    tests, found = score_notebooks(source, notebooks, failures, verdicts, runs)
    result = SubmissionResult(task.student, task.assignment, fingerprint(Path(task.submission_dir)),
                              tests, failures + found, round(time.perf_counter() - start, 1), flags)
    return Execution(result, notebooks)


def _score_in_grader(task: GradeTask, course: Path, submitted: Path, autograded: Path, notebooks: dict[str, str],
                     flags: list[Flag], runs: dict, failures: list[Failure], found: dict) -> list[Failure]:
    """Re-score every executed notebook's tests in this process; write the verdicts into `notebooks`
    and into `found` ((notebook, grade_id) -> Verdict)."""
    limits = task.limits
    plan = WorkerPlan(submitted, _sandbox_limits(limits), limits.sandbox, _environment(task),
                      hidden=(*private_paths(Path(task.course_root)), course.resolve()),
                      visible=(ROOT, Path(task.cifar10_dir)), test_seconds=limits.test_seconds)
    reference = Path(task.course_root) / SOURCE_DIR / task.assignment
    tests = {}
    for notebook, grade_id, *_ in autograded_tests(reference):
        tests.setdefault(notebook, []).append(grade_id)
    grader_failures = []
    for name in sorted(set(tests) & set(notebooks)):
        run = runs[name]
        try:
            verdicts = not_run(run, tests[name])   # what a timed-out cell kept from running (the worker would loop too)
            if len(verdicts) < len(tests[name]):
                verdicts = {**run_trusted_tests(reference / name, plan, autograded), **verdicts}
            verdicts = explain(verdicts, run, failures)
        except Exception as error:  # a fault of the grader itself: never fall back to the notebook's own verdicts
            detail = f"the grader could not run the tests: {type(error).__name__}: {error}"
            grader_failures.append(Failure("error", name, detail))
            verdicts = {grade_id: Verdict(False, f"GraderError: {detail}", "GraderError") for grade_id in tests[name]}
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
        try:
            nbformat.validate(nbformat.read(path, as_version=4))
        except Exception as error:  # JSON errors, schema errors, wrong encodings, ...
            path.unlink()
            first_line = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            failures.append(Failure("unreadable", name, f"is not a readable notebook ({first_line})"))
    return failures


def private_paths(course_root: Path) -> list[Path]:
    """The folders and files of the course (and of the kit) a submission must not read."""
    return [root / name for root in {Path(course_root).resolve(), ROOT} for name in PRIVATE
            if (root / name).exists()]


def _autograde(course: Path, task: GradeTask) -> list[Failure]:
    """Run nbgrader autograde for the one student in `course`, bounded by the task's limits."""
    limits = task.limits
    env = _environment(task)
    command = [sys.executable, "-m", "nbgrader", "autograde", task.assignment,
               "--student", task.student, "--force", "--create"]
    if limits.sandbox:
        return _autograde_sandboxed(command, course, env, task)
    env = {**os.environ, **env, "PATH": f"{env['PATH']}{os.pathsep}{os.environ.get('PATH', '')}"}

    def cap_memory():  # runs in the child before nbgrader starts; the kernel inherits it
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))

    process = subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, preexec_fn=cap_memory)
    try:
        log, _ = process.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill_session(process)
        return [Failure("timeout", "", f"ran past the {limits.wall_seconds:.0f} s limit for a whole "
                                       "submission and was stopped")]
    return _failures_in_log(log, process.returncode)


def _environment(task: GradeTask) -> dict[str, str]:
    """Only what a run of the student's code needs: nothing of the grader's own environment."""
    threads = str(task.limits.blas_threads)
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "CIFAR10_DIR": task.cifar10_dir, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def _sandbox_limits(limits: Limits) -> SandboxLimits:
    return SandboxLimits(wall_seconds=limits.wall_seconds, cpu_seconds=int(limits.wall_seconds),
                         memory_bytes=limits.memory_bytes, max_processes=limits.max_processes)


def _autograde_sandboxed(command: list[str], course: Path, env: dict, task: GradeTask) -> list[Failure]:
    """nbgrader autograde in a sandbox of its own; what the sandbox stopped becomes the failure."""
    limits = task.limits
    run = run_sandboxed(command, course, _sandbox_limits(limits), hidden=private_paths(Path(task.course_root)),
                        env=env, visible=[ROOT, Path(task.cifar10_dir)])
    if run.stopped and "wall-clock" in run.stopped:
        return [Failure("timeout", "", f"ran past the {limits.wall_seconds:.0f} s limit for a whole "
                                       "submission and was stopped")]
    if run.stopped and "CPU time" in run.stopped:
        return [Failure("timeout", "", f"the sandbox stopped it: it {run.stopped}")]
    if run.stopped:  # a signal from inside: the submission killed its own grading run
        return [Failure("error", "", f"nbgrader {run.stopped}, by the submission itself or something it started")]
    return _failures_in_log(run.output, run.returncode)


def _kill_session(process: subprocess.Popen) -> None:
    """Kill nbgrader and everything it started (the kernel runs in the same session)."""
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.communicate()


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
