"""`demo`: release the assignment, grade a simulated class in parallel, export, feedback, report.

Everything happens in a fresh course folder (a temporary one unless --output is given),
whose path is printed at the end. The class: the reference solution, the untouched
release, three submissions with realistic bugs (from the mutant catalogue), one that
loops forever, one that exhausts memory and one with a corrupt notebook.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from .course import ASSIGNMENT_ID, CONFIG_FILE, ROOT, copy_course, release_notebooks, run_nbgrader, source_notebooks
from .agreement import disagreements
from .grading.submission import Limits
from .export import export
from .feedback import write_feedback
from .grade import grade
from .report import report
from .roster import reported_results
from .quality.mutants import BY_NAME, Mutant, write_mutant, write_reference

BUGGY = ("dw_not_transposed", "affine_no_reshape", "db_wrong_axis")
MISBEHAVING = (
    Mutant("loops_forever", "a cell that never finishes", "1_computational_graphs.ipynb", "task_1_1_gates",
           "def add_gate(x, y):", "while True:  # waits for something that never happens\n    pass\n\n\n"
                                   "def add_gate(x, y):"),
    Mutant("exhausts_memory", "keeps copies of the training set until memory runs out",
           "7_hyperparameter_search.ipynb", "task_7_1_search",
           "def grid_search(", "copies = []\nwhile True:  # 'augment' the data by keeping every copy\n"
                               "    copies.append(data[\"X_train\"] * 1.0)\n\n\ndef grid_search("),
)
DEMO_TIMEOUT = 200.0  # CPU seconds per submission: the reference needs about 90-150 s on one core
# Seconds per cell in the demo's course: its slowest cell, notebook 6's training, takes about 25 s.
# The looping notebook is stopped at this limit and the rest of that submission still graded.
DEMO_CELL_TIMEOUT = 90
# Longest first, so that the two slowest submissions do not end up one after the other.
GRADING_ORDER = ("loops_forever", "reference", "exhausts_memory")


def demo_limits(timeout: float = DEMO_TIMEOUT) -> Limits:
    """The demo's grading limits (the benchmarks grade its class with the same)."""
    return Limits(cpu_seconds=timeout)


def build_class(course: Path, assignment: str = ASSIGNMENT_ID) -> dict[str, str]:
    """Put the simulated class under course/submitted; return student -> what they submitted."""
    submitted = course / "submitted"
    release = release_notebooks(course)
    roster = {"reference": "the reference solution", "untouched_release": "the release, unchanged"}
    reference = write_reference(source_notebooks(course), release, submitted / "reference" / assignment)
    shutil.copytree(release, submitted / "untouched_release" / assignment)
    for mutant in [BY_NAME[name] for name in BUGGY] + list(MISBEHAVING):
        student = mutant.name if mutant in MISBEHAVING else f"bug_{mutant.name}"
        write_mutant(mutant, reference, submitted / student / assignment)
        roster[student] = mutant.description
    corrupt = submitted / "corrupt_notebook" / assignment
    shutil.copytree(reference, corrupt)
    damaged = corrupt / "4_two_layer_net.ipynb"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # a half-saved file
    roster["corrupt_notebook"] = "4_two_layer_net.ipynb cut off halfway"
    return roster


def run_demo(output: Path | None = None, workers: int | None = None, timeout: float = DEMO_TIMEOUT) -> Path:
    """Run the whole instructor workflow on the simulated class; return the course folder."""
    start = time.perf_counter()
    course = Path(output) if output else Path(tempfile.mkdtemp(prefix="nn-kit-demo-"))
    copy_course(course, ROOT)
    with open(course / CONFIG_FILE, "a") as config:
        config.write(f"\nc.Execute.timeout = {DEMO_CELL_TIMEOUT}\n")
    print(f"Course folder: {course}")
    print("1. release: nbgrader generate_assignment")
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    print("2. the simulated class:")
    for student, what in build_class(course).items():
        print(f"     {student:<28} {what}")
    print(f"3. grade: every submission in its own process, at most {timeout:.0f} s of CPU time each "
          f"({DEMO_CELL_TIMEOUT} s a cell)")
    grade(course, ASSIGNMENT_ID, demo_limits(timeout), workers, first=GRADING_ORDER)
    written = export(course, ASSIGNMENT_ID)
    print(f"4. export: {written['csv']}, {written['results']}, gradescope/<student>/results.json")
    pages = write_feedback(course, ASSIGNMENT_ID)
    print(f"5. feedback: {pages[-1]}")
    text, charts = report(course, ASSIGNMENT_ID)
    print("6. report:\n" + text)
    print(f"Charts: {', '.join(str(path) for path in charts)}")
    results = reported_results(course, ASSIGNMENT_ID)
    differ = disagreements(results, written, pages, text)
    print("7. one total everywhere: the feedback pages, the report, grades.csv (formgrader's gradebook), "
          "results.json and the Gradescope files " + (f"disagree for {len(differ)} students:" if differ else
                                                        f"agree for all {len(results)} students"))
    for line in differ:
        print(f"     {line}")
    print(f"Done in {time.perf_counter() - start:.0f} s. Everything is under {course}")
    if differ:
        raise TotalsDisagree(f"{len(differ)} students' totals differ between the outputs (listed above)")
    return course


class TotalsDisagree(RuntimeError):
    """The outputs the demo wrote do not agree on some student's total."""


def add_arguments(parser) -> None:
    parser.add_argument("--output", type=Path, default=None, help="course folder to create (default: a new temporary folder)")
    parser.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    parser.add_argument("--timeout", type=float, default=DEMO_TIMEOUT,
                        help=f"CPU seconds a whole submission may use (default: {DEMO_TIMEOUT:.0f})")


def command(args) -> int:
    try:
        run_demo(args.output, args.workers, args.timeout)
    except TotalsDisagree as error:
        print(error)
        return 1
    return 0
