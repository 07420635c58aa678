"""Benchmark: a resubmission that edits one answer cell costs what changed, and scores as a full regrade.

    .venv/bin/python benchmarks/incremental_regrade.py [--notebook 7_hyperparameter_search.ipynb] [--repeat 1]

Grades the reference submission of the real assignment (every notebook run, CIFAR-10
training included, with the kit's limits and cell timeout), appends a comment line to one
answer cell of `--notebook` and grades again (only what changed runs), then regrades the
edited submission in full (`force`). Each grading happens in this process, as a worker of
`grade` does it (run_submission, then the gradebook writer), so that its CPU time can be
told: this process's, its plain child processes' (the model evaluations), and the
sandboxes' as the kit's own meter reads them (their processes end inside the sandbox,
where this process's rusage does not see them). Prints the wall and CPU time of each, the
ratio of the regrade to the full grade, the notebooks reused, and whether every test's
points (and message) equal those of the full regrade. With --repeat N the edit and the
regrade are repeated N times, a new line each time, and the medians are printed.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable
from unittest import mock

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.course import ASSIGNMENT_ID, ROOT, copy_course, release_notebooks, run_nbgrader, source_notebooks  # noqa: E402
from autograder.grade import gradebook_template  # noqa: E402
from autograder.grading.gradebook_writer import GradebookWriter  # noqa: E402
from autograder.grading.submission import GradeTask, Limits, run_submission  # noqa: E402
from autograder.quality.mutants import write_reference  # noqa: E402
from autograder.results import SubmissionResult  # noqa: E402
from autograder.sandbox.runner import Sandbox  # noqa: E402
from nn_helpers.cells import is_answer  # noqa: E402
from nn_helpers.data import find_cifar10_dir  # noqa: E402

STUDENT = "reference"


class SandboxCpu:
    """While entered: the CPU seconds of the sandboxes that end in this process, as the kit meters them, and the
    part of it that this process's rusage counts too (what the sandbox's first process reaped)."""

    def __enter__(self) -> "SandboxCpu":
        self.metered = self.reaped = 0.0
        finish = Sandbox._finish

        def metered_finish(sandbox, status, output):
            finish(sandbox, status, output)
            self.metered += sandbox.wait().cpu_seconds
            self.reaped += status[1]

        self._patch = mock.patch.object(Sandbox, "_finish", metered_finish)
        self._patch.start()
        return self

    def __exit__(self, *exc) -> None:
        self._patch.stop()


def measured(call: Callable[[], SubmissionResult]) -> tuple[SubmissionResult, float, float]:
    """The result `call` grades, its wall seconds and its CPU seconds (this process, its children, its sandboxes)."""
    def rusage() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.perf_counter(), rusage()
    with SandboxCpu() as sandboxes:
        result = call()
    return result, time.perf_counter() - wall, rusage() - used - sandboxes.reaped + sandboxes.metered


def append_comment(path: Path, line: str) -> str:
    """Append a comment line to the notebook's first answer code cell; return that cell's grade_id."""
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and is_answer(c))
    cell.source += f"\n{line}\n"
    nbformat.write(notebook, path)
    return cell.metadata["nbgrader"]["grade_id"]


def per_test(result: SubmissionResult, with_messages: bool = False) -> list[tuple]:
    return [(t.notebook, t.grade_id, t.points, t.passed) + ((t.message,) if with_messages else ())
            for t in result.tests]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="7_hyperparameter_search.ipynb", help="the notebook edited")
    parser.add_argument("--repeat", type=int, default=1, help="edits and regrades (medians printed)")
    args = parser.parse_args()
    limits, dataset = Limits(), str(find_cifar10_dir().resolve())
    with tempfile.TemporaryDirectory(prefix="incremental-benchmark-") as scratch:
        course = copy_course(Path(scratch) / "course", ROOT)
        run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
        folder = course / "submitted" / STUDENT / ASSIGNMENT_ID
        write_reference(source_notebooks(course), release_notebooks(course), folder)

        def graded(force: bool = False):
            def once() -> SubmissionResult:   # what `grade` does for one submission, here
                task = GradeTask(STUDENT, ASSIGNMENT_ID, str(folder), str(course),
                                 str(gradebook_template(course, ASSIGNMENT_ID)), dataset, limits, reuse=not force)
                execution = run_submission(task)
                GradebookWriter(course, ASSIGNMENT_ID).write(execution, folder)
                return execution.result
            return measured(once)

        full, full_wall, full_cpu = graded()
        regrades = []
        for attempt in range(args.repeat):
            cell = append_comment(folder / args.notebook, f"# resubmitted ({attempt + 1})")
            regrades.append(graded())
        again, forced = regrades[-1][0], graded(force=True)
        shutil.rmtree(course, ignore_errors=True)

    wall = statistics.median(r[1] for r in regrades)
    cpu = statistics.median(r[2] for r in regrades)
    notebooks = sorted(p.name for p in release_notebooks().glob("*.ipynb"))
    print(f"reference submission of {ASSIGNMENT_ID}: {len(notebooks)} notebooks, {len(full.tests)} tests; "
          f"limits: {limits.cpu_seconds:g} s of CPU, {limits.memory_bytes / 2 ** 30:g} GiB")
    print(f"full grade:           {full_wall:7.1f} s wall  {full_cpu:7.1f} s CPU  "
          f"score {full.score:g}/{full.max_score:g} ({full.status})")
    print(f"edit {args.notebook} (`{cell}`, a comment line), regrade "
          f"({'median of ' + str(args.repeat) if args.repeat > 1 else 'once'}):")
    print(f"  incremental regrade:  {wall:7.1f} s wall  {cpu:7.1f} s CPU  score {again.score:g} ({again.status}); "
          f"reused {len(again.reused)} of {len(notebooks)} notebooks"
          f"{'; ran ' + ', '.join(n for n in notebooks if n not in again.reused) if again.reused else ''}")
    print(f"  forced full regrade:  {forced[1]:7.1f} s wall  {forced[2]:7.1f} s CPU  score {forced[0].score:g} "
          f"({forced[0].status})")
    print(f"ratio incremental / full grade: {wall / full_wall:.2f} wall, {cpu / full_cpu:.2f} CPU "
          f"(/ forced regrade: {wall / forced[1]:.2f} wall, {cpu / forced[2]:.2f} CPU)")
    print(f"per-test scores identical to the forced full regrade: {per_test(again) == per_test(forced[0])}; "
          f"messages too: {per_test(again, True) == per_test(forced[0], True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
