"""`adequacy`: prove that the tests catch the mistakes they should, and only those.

Grades one class in a fresh course folder, exactly as `grade` grades students:
- the reference solution must get full marks, every notebook executed top to bottom;
- the untouched release must score zero on every autograded test;
- every mutant of the catalogue (quality/mutants.py) must fail exactly the tests it declares,
  pass all the others, and fail the first of them with a message naming the cause.
A mutant is submitted with only the notebooks with autograded tests that its edit can
reach (its own, those that load what it changed: quality/reach.py), and what those load:
the others are byte for byte the reference's, so their results are the reference's.
Mutants whose notebooks do not meet (none edits, holds or loads a notebook of another) are
submitted together, one submission for several (`pack`): each is judged on its own
notebooks, which nothing of the others reaches, and the class grades in half the
submissions (nbgrader's start, the scratch course and the sandbox are paid once for them).
It runs in three parts that together make the whole check, each submission judged on the
notebooks it was graded on:
- `quick`: every notebook without training cells, with every mutant that reaches it
  (seconds per submission; part of `make test`);
- `training`: the notebooks that train on CIFAR-10, with the reference, the untouched
  release and the mutants of those notebooks (`make adequacy`; CI runs both);
- `downstream`: what the mutants of the other notebooks do to the training notebooks'
  thresholds (about a minute and a half per mutant, 40 minutes in all on 2 cores: `make
  adequacy-downstream`, before a release). Each mutant is already caught by the test of its
  own function in `quick`; this part checks the training tests it declares as well.
Exits non-zero when any of this does not hold. `--table` prints the README's table.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from nn_helpers.cells import is_training

from .course import ASSIGNMENT_ID, ROOT, RUN_ARTIFACTS, copy_course, release_notebooks, run_nbgrader, source_notebooks
from .grading.submission import Limits
from .grade import grade
from .quality.mutants import BY_NAME, CATALOGUE, Mutant, apply_mutant, write_reference
from .quality.reach import needed_by, notebook_loads, reached_by
from .results import SubmissionResult
from .grading.scoring import autograded_tests

REFERENCE, UNTOUCHED = "reference", "untouched_release"
ADEQUACY_TIMEOUT = 600.0  # CPU seconds per submission: generous, a slow CI machine must not fail a mutant
PARTS = ("quick", "training", "downstream")


@dataclass
class Judgement:
    """Whether one submission of the adequacy class was graded as it must be."""
    student: str
    expected: str          # what it must get, in words
    problems: list[str]    # empty when it got exactly that

    @property
    def ok(self) -> bool:
        return not self.problems


def part_notebooks(source_dir: Path, part: str | None) -> set[str]:
    """The notebooks with autograded tests that a part grades (all of them for part None)."""
    tested = {notebook for notebook, _, _, _ in autograded_tests(source_dir)}
    if part is None:
        return tested
    training = {path.name for path in Path(source_dir).glob("*.ipynb")
                if any(is_training(cell) for cell in nbformat.read(path, as_version=4).cells)}
    return tested & training if part in ("training", "downstream") else tested - training


def graded_notebooks(source_dir: Path, part: str | None = None) -> dict[str, set[str]]:
    """student -> the notebooks it is submitted with in this part (all parts for None).

    The reference and the untouched release: every notebook the part grades (quick, training).
    A mutant: the notebooks of the part that its edit reaches (quality/reach.py), and what they
    load. `training` takes the mutants of the training notebooks, `downstream` the training
    notebooks' results of the mutants of the others. A mutant a part does not reach is left out.
    """
    loads, chosen = notebook_loads(source_dir), part_notebooks(source_dir, part)
    training = part_notebooks(source_dir, "training")
    graded = {} if part == "downstream" else {student: needed_by(chosen, loads) for student in (REFERENCE, UNTOUCHED)}
    for mutant in CATALOGUE:
        if part == "training" and mutant.notebook not in training or \
                part == "downstream" and mutant.notebook in training:
            continue
        if reached := reached_by(source_dir, mutant.notebook, mutant.cell) & chosen:
            graded[mutant.name] = needed_by(reached, loads)
    return graded


def pack(graded: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
    """submission -> the students of `graded` (student -> notebooks) submitted in it.

    The reference and the untouched release are submitted alone, under their own names. The
    mutants go together wherever their notebooks are disjoint (each set holds what its
    notebooks load, so nothing of one reaches another): the largest sets first, each into the
    first submission it does not meet. A submission of one mutant keeps the mutant's name.
    """
    packs: list[tuple[list[str], set[str]]] = []
    for student in sorted((s for s in graded if s not in (REFERENCE, UNTOUCHED)), key=lambda s: -len(graded[s])):
        target = next((p for p in packs if not p[1] & graded[student]), None)
        if target is None:
            packs.append(([student], set(graded[student])))
        else:
            target[0].append(student)
            target[1].update(graded[student])
    submissions = {student: (student,) for student in (REFERENCE, UNTOUCHED) if student in graded}
    for number, (students, _) in enumerate(packs, 1):
        submissions[students[0] if len(students) == 1 else f"mutants_{number:02d}"] = tuple(students)
    return submissions


def notebooks_of(students: tuple[str, ...], graded: dict[str, set[str]]) -> set[str]:
    """The notebooks a submission of these students holds: each one's notebooks of `graded`."""
    return set().union(*(graded[student] for student in students))


def build_class(course: Path, graded: dict[str, set[str]], assignment: str = ASSIGNMENT_ID) -> dict[str, tuple[str, ...]]:
    """Put the students of `graded` (student -> notebooks) under course/submitted, packed (`pack`),
    each submission with only the notebooks of its students. Returns submission -> students."""
    submitted, release = course / "submitted", release_notebooks(course)
    reference = write_reference(source_notebooks(course), release, course / "reference-answers")
    submissions = pack(graded)
    for submission, students in submissions.items():
        folder = submitted / submission / assignment
        shutil.copytree(release if students == (UNTOUCHED,) else reference, folder, ignore=RUN_ARTIFACTS)
        for student in students:
            if student in BY_NAME:
                apply_mutant(BY_NAME[student], folder)
        notebooks = notebooks_of(students, graded)
        for path in folder.glob("*.ipynb"):
            if path.name not in notebooks:
                path.unlink()
    shutil.rmtree(course / "reference-answers")
    return submissions


def within(result: SubmissionResult, notebooks: set[str]) -> SubmissionResult:
    """The result restricted to the tests and failures of the notebooks it was graded on."""
    tests = [t for t in result.tests if t.notebook in notebooks]
    failures = [f for f in result.failures if not f.notebook or f.notebook in notebooks]
    flags = [f for f in result.flags if not f.notebook or f.notebook in notebooks]
    return SubmissionResult(result.student, result.assignment, result.fingerprint, tests, failures,
                            result.seconds, flags)


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
    """Judged on the tests `result` holds (the notebooks the mutant was graded on)."""
    held = {t.grade_id for t in result.tests}
    must_fail = tuple(grade_id for grade_id in mutant.must_fail if grade_id in held)
    failed = {t.grade_id for t in result.tests if not t.passed}
    problems = [f"{grade_id} passed but must fail" for grade_id in must_fail if grade_id not in failed]
    problems += [f"{t.grade_id} failed but must pass: {t.message[:200]}" for t in result.tests
                 if not t.passed and t.grade_id not in mutant.must_fail + mutant.may_fail]
    problems += [f"could not run normally: {result.reason}"] if result.failures else []
    problems += _false_flags(result)
    first = next((t for t in result.tests if mutant.must_fail and t.grade_id == mutant.must_fail[0]), None)
    if first is not None and not first.passed and mutant.cause not in first.message:
        problems.append(f"{first.grade_id}'s message does not say {mutant.cause!r}: {first.message[:300]}")
    expected = f"fail exactly {', '.join(must_fail) or '(nothing declared)'}"
    expected += f" (may fail {', '.join(mutant.may_fail)})" if mutant.may_fail else ""
    return Judgement(result.student, expected, problems)


def judge(results: list[SubmissionResult], graded: dict[str, set[str]],
          submissions: dict[str, tuple[str, ...]] | None = None) -> list[Judgement]:
    """A judgement for every student of `graded` (student -> notebooks), on those notebooks; missing ones too.

    `submissions` (submission -> students, from `pack`) says which result holds each student's
    notebooks; by default each student was submitted alone under its own name.
    """
    by_submission = {r.student: r for r in results}
    submitted_in = {student: submission for submission, students in (submissions or {}).items() for student in students}
    judges = {REFERENCE: judge_reference, UNTOUCHED: judge_untouched}
    judges.update({m.name: (lambda m: lambda result: judge_mutant(m, result))(m) for m in CATALOGUE})
    judgements = []
    for student in graded:
        result = by_submission.get(submitted_in.get(student, student))
        if result is None:
            judgements.append(Judgement(student, "a grading result", ["was not graded"]))
            continue
        judgements.append(judges[student](replace(within(result, graded[student]), student=student)))
    return judgements


def run_adequacy(output: Path | None = None, workers: int | None = None, timeout: float = ADEQUACY_TIMEOUT,
                 part: str | None = None, students: set[str] | None = None) -> list[Judgement]:
    """Grade the adequacy class (or the `students` of it) for one part, or all, in a fresh course folder; judge it."""
    course = Path(output) if output else Path(tempfile.mkdtemp(prefix="nn-kit-adequacy-"))
    copy_course(course, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    graded = graded_notebooks(source_notebooks(course), part)
    graded = {s: notebooks for s, notebooks in graded.items() if students is None or s in students}
    submissions = build_class(course, graded)
    # The longest first (the reference, then the submissions of the most notebooks), so that
    # both workers finish together.
    longest = sorted(submissions, key=lambda name: (name != REFERENCE, -len(notebooks_of(submissions[name], graded))))
    results = grade(course, ASSIGNMENT_ID, Limits(cpu_seconds=timeout), workers, first=tuple(longest))
    return judge(results, graded, submissions)


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
    parser.add_argument("--part", choices=PARTS, default=None,
                        help="one part: the notebooks without training cells (quick), with them (training), or the "
                             "training notebooks' results of the other notebooks' mutants (downstream); default: all")
    parser.add_argument("--table", action="store_true", help="only print the README's table of tests and mutants")


def command(args) -> int:
    if args.table:
        print(coverage_table())
        return 0
    start = time.perf_counter()
    verdicts = run_adequacy(args.output, args.workers, part=args.part)
    for verdict in verdicts:
        print(f"{'ok  ' if verdict.ok else 'FAIL'} {verdict.student:<32} {verdict.expected}")
        for problem in verdict.problems:
            print(f"       {problem}")
    bad = sum(not v.ok for v in verdicts)
    print(f"{len(verdicts) - bad} of {len(verdicts)} submissions graded as they must be, "
          f"in {time.perf_counter() - start:.0f} s")
    return 1 if bad else 0
