"""`adequacy`: prove that the tests catch the mistakes they should, and only those.

Grades one class in a fresh course folder, exactly as `grade` grades students:
- the reference solution must get full marks, every notebook executed top to bottom;
- the untouched release must score zero on every autograded test;
- every mutant of the catalogue (mutants.py) must fail exactly the tests it declares,
  pass all the others, and fail the first of them with a message naming the cause.
A mutant is submitted with only the notebooks its edit can reach that hold autograded
tests (its own, those that load it with `load_from_notebook`), and what those load: the
others are byte for byte the reference's, so their results are the reference's, taken
from its grading.
Exits non-zero when any of this does not hold. `--table` prints the README's table.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import ASSIGNMENT_ID, ROOT, copy_course, release_notebooks, run_nbgrader, source_notebooks
from .grading.submission import Limits
from .grade import grade
from .quality.mutants import CATALOGUE, Mutant, write_mutant, write_reference
from .results import SubmissionResult, TestResult
from .grading.scoring import autograded_tests

REFERENCE, UNTOUCHED = "reference", "untouched_release"
ADEQUACY_TIMEOUT = 600.0  # CPU seconds per submission: generous, a slow CI machine must not fail a mutant
LOADS = re.compile(r"load_from_notebook\(\s*[\"']([^\"']+\.ipynb)[\"']")


@dataclass
class Judgement:
    """Whether one submission of the adequacy class was graded as it must be."""
    student: str
    expected: str          # what it must get, in words
    problems: list[str]    # empty when it got exactly that

    @property
    def ok(self) -> bool:
        return not self.problems


def notebook_loads(source_dir: Path) -> dict[str, set[str]]:
    """notebook -> the notebooks it loads code from (load_from_notebook calls in its cells)."""
    return {path.name: {name for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
                        for name in LOADS.findall(cell.source)}
            for path in sorted(Path(source_dir).glob("*.ipynb"))}


def reached_by(notebook: str, loads: dict[str, set[str]]) -> set[str]:
    """The notebook and every notebook that loads it, directly or not: where an edit can change results."""
    reached = {notebook}
    while True:
        more = {name for name, loaded in loads.items() if loaded & reached} - reached
        if not more:
            return reached
        reached |= more


def needed_by(notebooks: set[str], loads: dict[str, set[str]]) -> set[str]:
    """The notebooks and everything they load, directly or not: what must be present to run them."""
    needed = set(notebooks)
    while more := set().union(*(loads[name] for name in needed)) - needed:
        needed |= more
    return needed


def graded_notebooks(source_dir: Path) -> dict[str, set[str]]:
    """mutant name -> the notebooks it is submitted with: those its edit reaches that hold
    autograded tests, and everything they load."""
    loads = notebook_loads(source_dir)
    tested = {notebook for notebook, _, _, _ in autograded_tests(source_dir)}
    return {m.name: needed_by(reached_by(m.notebook, loads) & tested, loads) for m in CATALOGUE}


def build_class(course: Path, assignment: str = ASSIGNMENT_ID) -> None:
    """Put the reference, the untouched release and every mutant under course/submitted."""
    submitted, release = course / "submitted", release_notebooks(course)
    reference = write_reference(source_notebooks(course), release, submitted / REFERENCE / assignment)
    shutil.copytree(release, submitted / UNTOUCHED / assignment)
    graded = graded_notebooks(source_notebooks(course))
    for mutant in CATALOGUE:
        folder = write_mutant(mutant, reference, submitted / mutant.name / assignment)
        for path in folder.glob("*.ipynb"):
            if path.name not in graded[mutant.name]:
                path.unlink()


def with_reference_results(result: SubmissionResult, reference: SubmissionResult,
                           graded: set[str]) -> SubmissionResult:
    """The mutant's results for the notebooks it was graded on, the reference's for the others."""
    tests: list[TestResult] = [t for t in reference.tests if t.notebook not in graded]
    tests += [t for t in result.tests if t.notebook in graded]
    order = [t.grade_id for t in reference.tests]
    tests.sort(key=lambda t: order.index(t.grade_id) if t.grade_id in order else len(order))
    failures = [f for f in result.failures if not f.notebook or f.notebook in graded]
    return SubmissionResult(result.student, result.assignment, result.fingerprint, tests, failures, result.seconds)


def _false_flags(result: SubmissionResult) -> list[str]:
    """Nothing in the adequacy class is tampered with: any tampering flag is a false one."""
    return [f"falsely flagged: {result.flagged}"] if result.flags else []


def judge_reference(result: SubmissionResult) -> Judgement:
    problems = [f"{t.grade_id} failed: {t.message}" for t in result.tests if not t.passed]
    problems += [f"could not run normally: {result.reason}"] if result.failures else []
    problems += _false_flags(result)
    return Judgement(result.student, "full marks, every notebook run top to bottom", problems)


def judge_untouched(result: SubmissionResult) -> Judgement:
    problems = [f"{t.grade_id} earned {t.points:g} points" for t in result.tests if t.points > 0]
    problems += _false_flags(result)
    return Judgement(result.student, "zero on every autograded test", problems)


def judge_mutant(mutant: Mutant, result: SubmissionResult) -> Judgement:
    failed = {t.grade_id for t in result.tests if not t.passed}
    problems = [f"{grade_id} passed but must fail" for grade_id in mutant.must_fail if grade_id not in failed]
    problems += [f"{t.grade_id} failed but must pass: {t.message[:200]}" for t in result.tests
                 if not t.passed and t.grade_id not in mutant.must_fail + mutant.may_fail]
    problems += [f"could not run normally: {result.reason}"] if result.failures else []
    problems += _false_flags(result)
    first = next((t for t in result.tests if mutant.must_fail and t.grade_id == mutant.must_fail[0]), None)
    if first is not None and not first.passed and mutant.cause not in first.message:
        problems.append(f"{first.grade_id}'s message does not say {mutant.cause!r}: {first.message[:300]}")
    expected = f"fail exactly {', '.join(mutant.must_fail) or '(nothing declared)'}"
    expected += f" (may fail {', '.join(mutant.may_fail)})" if mutant.may_fail else ""
    return Judgement(result.student, expected, problems)


def judge(results: list[SubmissionResult], source_dir: Path | None = None) -> list[Judgement]:
    """A verdict for the reference, the untouched release and every mutant (missing ones too)."""
    by_student = {r.student: r for r in results}
    reference = by_student.get(REFERENCE, SubmissionResult(REFERENCE, "", ""))
    graded = graded_notebooks(source_dir or source_notebooks())

    def mutant_judge(mutant):
        return lambda result: judge_mutant(mutant, with_reference_results(result, reference, graded[mutant.name]))

    judges = {REFERENCE: judge_reference, UNTOUCHED: judge_untouched}
    judges.update({m.name: mutant_judge(m) for m in CATALOGUE})
    return [judges[student](by_student[student]) if student in by_student
            else Judgement(student, "a grading result", ["was not graded"]) for student in judges]


def run_adequacy(output: Path | None = None, workers: int | None = None,
                 timeout: float = ADEQUACY_TIMEOUT) -> list[Judgement]:
    """Grade the adequacy class in a fresh course folder and judge every result."""
    course = Path(output) if output else Path(tempfile.mkdtemp(prefix="nn-kit-adequacy-"))
    copy_course(course, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    build_class(course)
    # The longest first (the reference, then the mutants graded on the most notebooks), so that
    # both workers finish together.
    graded = graded_notebooks(source_notebooks(course))
    longest = sorted(CATALOGUE, key=lambda m: -len(graded[m.name]))
    results = grade(course, ASSIGNMENT_ID, Limits(cpu_seconds=timeout), workers,
                    first=(REFERENCE, *(m.name for m in longest)))
    return judge(results)


def coverage_table(source_dir: Path | None = None) -> str:
    """Markdown: every autograded test, its points, and the mutants that must fail it."""
    caught = {}
    for mutant in CATALOGUE:
        for grade_id in mutant.must_fail:
            caught.setdefault(grade_id, []).append(f"`{mutant.name}`")
    rows = ["| test | points | mutants it catches |", "|---|---:|---|"]
    for _, grade_id, points, _ in autograded_tests(source_dir or source_notebooks()):
        rows.append(f"| `{grade_id}` | {points:g} | {', '.join(caught.get(grade_id, [])) or '-'} |")
    return "\n".join(rows)


def add_arguments(parser) -> None:
    parser.add_argument("--output", type=Path, default=None, help="course folder to create (default: a new temporary folder)")
    parser.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    parser.add_argument("--table", action="store_true", help="only print the README's table of tests and mutants")


def command(args) -> int:
    if args.table:
        print(coverage_table())
        return 0
    start = time.perf_counter()
    verdicts = run_adequacy(args.output, args.workers)
    for verdict in verdicts:
        print(f"{'ok  ' if verdict.ok else 'FAIL'} {verdict.student:<32} {verdict.expected}")
        for problem in verdict.problems:
            print(f"       {problem}")
    bad = sum(not v.ok for v in verdicts)
    print(f"{len(verdicts) - bad} of {len(verdicts)} submissions graded as they must be, "
          f"in {time.perf_counter() - start:.0f} s")
    return 1 if bad else 0
