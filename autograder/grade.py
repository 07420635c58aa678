"""`grade`: grade every submission of an nbgrader course, in parallel, into its one gradebook.

Submissions live in `<course>/submitted/<student>/<assignment>/`. Each runs in its own
worker under time and memory limits (grading/submission.py); the main process is the single writer
of the gradebook (gradebook_writer.py). Every submission gets a result, whatever it does,
even if it kills the process grading it (pool.py blames that on it alone and grades the
others); a submission whose files have not changed since its last result is not graded
again unless `force` is set or the grader failed on it, so an interrupted run picks up
where it stopped. A resubmission runs only the notebooks whose code (or whose loaded
notebooks' code) changed, reusing the others' last outcomes (grading/reuse.py); `force`
runs every notebook.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import compute_checksum
from tqdm import tqdm

from .course import ASSIGNMENT_ID, RELEASE_DIR, SOURCE_DIR, add_course_arguments, run_nbgrader
from .grading.submission import Execution, GradeTask, Limits, fingerprint, run_submission
from .grading.gradebook_writer import GradebookWriter
from .grading.pool import Crash, run_all
from .gradebook_url import copy_gradebook, course_db_url, gradebook_exists
from .results import Failure, SubmissionResult, load_results, results_dir
from .sandbox import WALL_FACTOR, sandbox_unavailable
from .grading.scoring import score_notebooks


class SandboxUnavailable(RuntimeError):
    """Grading was asked to sandbox submissions on a machine where sandboxes cannot be made."""


def find_submissions(course_root: Path, assignment: str) -> dict[str, Path]:
    """student -> submission folder, for every `submitted/<student>/<assignment>/`."""
    submitted = Path(course_root) / "submitted"
    return {path.parent.name: path for path in sorted(submitted.glob(f"*/{assignment}")) if path.is_dir()}


def gradebook_template(course_root: Path, assignment: str) -> Path:
    """A copy of the course's gradebook holding only what the release holds, for the workers to copy.

    Its source cells (what nbgrader writes back into test and locked cells) are the
    release's: no reference answers, no hidden tests. The notebooks run with it, so the
    code they run can read nothing a student may not; the tests that count run in the
    grader (trusted/tests.py). Runs nbgrader's generate step first if the gradebook does not
    know the assignment yet, or if the release (which submissions are restored against)
    is missing.
    """
    course_root = Path(course_root)
    db_url = course_db_url(course_root)   # SQLite or a server database
    if not _gradebook_knows(db_url, assignment) or not (course_root / RELEASE_DIR / assignment).is_dir():
        run_nbgrader(["generate_assignment", assignment, "--force"], course_root)
    template = results_dir(course_root, assignment) / "gradebook-template.db"
    template.parent.mkdir(parents=True, exist_ok=True)
    copy_gradebook(db_url, template)
    released = {(path.stem, cell.metadata["nbgrader"]["grade_id"]): cell
                for path in sorted((course_root / RELEASE_DIR / assignment).glob("*.ipynb"))
                for cell in nbformat.read(path, as_version=4).cells if "grade_id" in cell.metadata.get("nbgrader", {})}
    with Gradebook(f"sqlite:///{template}") as gradebook:
        for notebook in gradebook.find_assignment(assignment).notebooks:
            for source_cell in notebook.source_cells:
                cell = released.get((notebook.name, source_cell.name))
                source_cell.source = cell.source if cell else ""
                source_cell.checksum = compute_checksum(cell) if cell else None   # nbgrader checks it
        gradebook.db.commit()
    return template


def _gradebook_knows(db_url: str, assignment: str) -> bool:
    if not gradebook_exists(db_url):
        return False
    with Gradebook(db_url) as gradebook:
        try:
            return len(gradebook.find_assignment(assignment).notebooks) > 0
        except MissingEntry:
            return False


@contextmanager
def executors(workers: int | None = None, scheduler: str | None = None) -> Iterator[tuple[Callable[[], Executor], int]]:
    """A maker of executors, and how many submissions to grade at once, for the length of a grading run.

    A local process pool (default: one worker per core), or a Dask cluster's executor
    (default: one submission per thread of the cluster; the client is closed afterwards).
    """
    if not scheduler:
        count = workers or os.cpu_count() or 1
        yield (lambda: local_pool(count)), count
        return
    from distributed import Client  # only needed for scale-out
    client = Client(scheduler)
    try:
        yield client.get_executor, workers or sum(client.nthreads().values()) or 1
    finally:
        client.close()


# What a pool worker runs: its modules are imported once, by the server the workers are forked from.
GRADING_MODULES = ["autograder.grading.submission"]


def local_pool(count: int) -> ProcessPoolExecutor:
    """A pool of `count` processes forked from a server that imported the grading code once ("forkserver").

    A spawned worker would import it anew, about two seconds of CPU time per worker and per
    grading run. The server starts on first use and serves every pool of this process; what a
    worker needs of the environment it gets from its task (grading/nbgrader_run.environment).
    """
    context = get_context("forkserver")
    context.set_forkserver_preload(GRADING_MODULES)
    return ProcessPoolExecutor(max_workers=count, mp_context=context)


def grade(course_root: Path, assignment: str = ASSIGNMENT_ID, limits: Limits = Limits(),
          workers: int | None = None, scheduler: str | None = None, force: bool = False,
          progress: bool = True, cifar10_dir: str | None = None,
          first: tuple[str, ...] = ()) -> list[SubmissionResult]:
    """Grade the course's submissions; return every student's result (new and kept).

    A submission is graded again when its files changed, when its result was recorded
    because the grader failed (`grader_fault`), or with `force` (every notebook run again,
    none reused). `first` names students to start before the others (the slowest ones, when known).
    """
    course_root = Path(course_root).resolve()
    submissions = find_submissions(course_root, assignment)
    kept = {r.student: r for r in load_results(course_root, assignment)}
    todo = {student: path for student, path in submissions.items()
            if force or student not in kept or kept[student].grader_fault or kept[student].fingerprint != fingerprint(path, limits.submission_bytes)}
    todo = dict(sorted(todo.items(), key=lambda item: first.index(item[0]) if item[0] in first else len(first)))
    if todo and limits.sandbox and (why := sandbox_unavailable()):
        raise SandboxUnavailable(f"Submissions are untrusted code and run in a sandbox, which cannot be made here: "
                                 f"{why}. Only to grade code you trust, pass --no-sandbox.")
    if todo:
        template = gradebook_template(course_root, assignment)
        if cifar10_dir is None:
            from nn_helpers.data import find_cifar10_dir
            cifar10_dir = str(find_cifar10_dir())
        tasks = {student: GradeTask(student, assignment, str(path), str(course_root), str(template),
                                    cifar10_dir, limits, reuse=not force) for student, path in todo.items()}
        with executors(workers, scheduler) as (new_executor, capacity):
            _run(tasks, course_root, assignment, new_executor, capacity, progress)
    return [r for r in load_results(course_root, assignment) if r.student in submissions]


def _run(tasks: dict[str, GradeTask], course_root: Path, assignment: str, new_executor: Callable[[], Executor],
         capacity: int, progress: bool) -> None:
    writer = GradebookWriter(course_root, assignment)
    failures = 0
    with tqdm(total=len(tasks), unit="submission", disable=not progress, desc=f"grading {assignment}") as bar:
        def record(student: str, outcome: Execution | Crash) -> None:
            nonlocal failures
            task = tasks[student]
            execution = outcome if isinstance(outcome, Execution) else \
                crashed_execution(course_root, assignment, student, Path(task.submission_dir), outcome.detail,
                                  outcome.grader_fault, task.limits)
            writer.write(execution, Path(task.submission_dir))
            failures += execution.result.status != "graded"
            bar.set_postfix(failures=failures, last=student)
            bar.update()

        run_all(tasks, run_submission, new_executor, capacity, record)


def crashed_execution(course_root: Path, assignment: str, student: str, submission_dir: Path,
                      detail: str, grader_fault: bool = True, limits: Limits = Limits()) -> Execution:
    """A zero-score execution whose every test says why it could not run (status 'error').

    `grader_fault`: the grading machinery failed (the next `grade` grades it again), rather
    than the submission having killed its grading process.
    """
    crash = [Failure("error", "", detail, grader_fault)]
    tests, _ = score_notebooks(Path(course_root) / SOURCE_DIR / assignment, {}, crash)
    identity = fingerprint(submission_dir, limits.submission_bytes)
    return Execution(SubmissionResult(student, assignment, identity, tests, crash), {})


def reuse_summary(regraded: list[SubmissionResult], notebooks: int) -> str:
    """How many notebooks (of `notebooks` per submission) of the submissions graded in this run were reused
    ('' when none was graded)."""
    if not regraded:
        return ""
    reused = sum(len(r.reused) for r in regraded)
    unchanged = f"; their code unchanged, reused {reused} of {notebooks * len(regraded)} notebooks" if reused else ""
    return f"{len(regraded)} of them graded in this run{unchanged}."


def add_arguments(parser) -> None:
    defaults = Limits()
    add_course_arguments(parser)
    parser.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="grade on a Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786) instead of locally")
    parser.add_argument("--timeout", type=float, default=defaults.cpu_seconds,
                        help=f"CPU seconds a whole submission may use, every notebook together (default: "
                             f"{defaults.cpu_seconds:.0f}); code that waits instead is stopped after "
                             f"{WALL_FACTOR} times as long on the clock")
    parser.add_argument("--memory", type=float, default=defaults.memory_bytes / 2 ** 30,
                        help=f"GiB of memory a submission may use (default: {defaults.memory_bytes / 2 ** 30:.0f})")
    parser.add_argument("--test-timeout", type=float, default=defaults.test_seconds,
                        help=f"CPU seconds each test may use when the grader runs it (default: "
                             f"{defaults.test_seconds:.0f}; the same wall-clock backstop)")
    parser.add_argument("--trusted-timeout", type=float, default=defaults.trusted_seconds,
                        help="CPU seconds all the tests of a submission may use together when the grader runs them "
                             f"(default: {defaults.trusted_seconds:.0f}; the same wall-clock backstop)")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions that were graded already, every notebook (none reused)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run submissions without the sandbox (only for code you trust: see the README's threat model)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args) -> int:
    limits = Limits(cpu_seconds=args.timeout, memory_bytes=int(args.memory * 2 ** 30), sandbox=not args.no_sandbox,
                    test_seconds=args.test_timeout, trusted_seconds=args.trusted_timeout)
    before = {r.student: r.to_dict() for r in load_results(Path(args.course).resolve(), args.assignment)}
    try:
        results = grade(Path(args.course), args.assignment, limits, args.workers, args.scheduler, args.force,
                        progress=not args.no_progress)
    except SandboxUnavailable as error:
        print(error)
        return 2
    if not results:
        print(f"No submissions found under {Path(args.course).resolve() / 'submitted'}/<student>/{args.assignment}/")
        return 1
    problems = [r for r in results if r.status != "graded"]
    print(f"Graded {len(results)} submissions; {len(problems)} could not run normally.")
    notebooks = len(list((Path(args.course).resolve() / SOURCE_DIR / args.assignment).glob("*.ipynb")))
    if summary := reuse_summary([r for r in results if before.get(r.student) != r.to_dict()], notebooks):
        print(summary)
    for result in problems:
        print(f"  {result.student}: {result.status}: {result.reason}")
    return 0
