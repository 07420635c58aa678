"""What grading one submission produces: plain data, stored as one JSON file per student.

Every other step (the gradebook writer, export, feedback, report) reads these records,
so a failure reason found while executing a submission reaches every output.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .messages import student_text

# Why a submission (or one of its notebooks) could not be graded normally, worst first ("error": the
# grader itself failed; "syntax error": a cell of the student's could not even be compiled).
FAILURE_KINDS = ("unreadable", "timeout", "memory", "sandbox", "kernel died", "error", "syntax error")


@dataclass
class TestResult:
    """One autograded test cell of one notebook."""
    notebook: str          # e.g. "2_layers.ipynb"
    grade_id: str          # e.g. "test_2_1_affine_forward"
    description: str       # the claim the test checks, from the reference notebook
    points: float          # earned
    max_points: float
    passed: bool
    message: str = ""      # "CheckFailed: ..." for a failed test, in full (for the instructor); never the test's source
    hidden: bool = False   # failed in the hidden part, whose inputs and expected values the student must not see

    @property
    def student_message(self) -> str:
        """What the student may read of the failure (feedback, Gradescope, the executed notebook)."""
        return student_text(self.message, self.hidden)


@dataclass
class Failure:
    """Something that stopped part of a submission from running normally."""
    kind: str              # one of FAILURE_KINDS
    notebook: str          # the notebook concerned, or "" for the whole submission
    detail: str            # plain words, e.g. "ran past the 600 s limit and was stopped"
    grader_fault: bool = False   # the grading machinery failed, not the student's code: graded again next run


@dataclass
class Flag:
    """A flag for the instructor: a change to a cell the student may not change (undone before
    grading), code that patches what the tests use, or a test that passed only in the notebook."""
    notebook: str
    cell: str              # grade_id, or for a cell without one its label (nn_helpers.cells.cell_label)
    change: str            # plain words, e.g. "was deleted; restored from the release"

    @property
    def cell_name(self) -> str:
        """'cell test_1_1_gates' for a grade_id; a label ('the code cell after ...') as it is."""
        return f"cell {self.cell}" if self.cell.isidentifier() else self.cell


@dataclass
class ManualGrade:
    """A question graded by hand (in nbgrader's formgrader), read from the gradebook (manual.py)."""
    notebook: str
    grade_id: str
    max_points: float
    points: float | None = None   # None while the instructor has not graded it


@dataclass
class SubmissionResult:
    """Everything grading found out about one student's submission."""
    student: str
    assignment: str
    fingerprint: str                        # sha256 of the submitted files: same files, same result
    tests: list[TestResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    flags: list[Flag] = field(default_factory=list)
    manual: list[ManualGrade] = field(default_factory=list)   # filled from the gradebook when reported
    name: str = ""                          # the roster's "First Last", filled when reported (roster.py)
    seconds_late: float = 0.0               # after the due date, by nbgrader's timestamp (filled when reported)
    late_penalty: float = 0.0               # points the course's late policy takes off (filled when reported)
    reused: list[str] = field(default_factory=list)   # notebooks whose last outcome was reused (code unchanged)

    @property
    def who(self) -> str:
        """The student as people read it: 'Ada Lovelace (ada)', or the id alone without a name."""
        return f"{self.name} ({self.student})" if self.name else self.student

    @property
    def raw_score(self) -> float:
        """Autograded points plus the points given by hand, before any late penalty."""
        return round(sum(t.points for t in self.tests) + sum(m.points or 0.0 for m in self.manual), 6)

    @property
    def score(self) -> float:
        """The total, as nbgrader's CSV export has it: the raw score less the late penalty, never below zero."""
        return round(max(0.0, self.raw_score - self.late_penalty), 6)

    @property
    def lateness(self) -> str:
        """'Submitted 2 h 05 min after the due date: the late policy takes 2 points off (raw score 10).', or ''."""
        if self.seconds_late <= 0:
            return ""
        minutes = int(self.seconds_late // 60)
        after = f"{minutes // 1440} d {minutes // 60 % 24} h" if minutes >= 1440 else \
            f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(minutes, 1)} min"
        points = f"{self.late_penalty:g} point{'' if self.late_penalty == 1 else 's'}"
        penalty = (f": the late policy takes {points} off (raw score {self.raw_score:g})"
                   if self.late_penalty else "")
        return f"Submitted {after} after the due date{penalty}."

    @property
    def max_score(self) -> float:
        return round(sum(t.max_points for t in self.tests) + sum(m.max_points for m in self.manual), 6)

    @property
    def pending(self) -> float:
        """Points of the questions graded by hand that have not been graded yet."""
        return round(sum(m.max_points for m in self.manual if m.points is None), 6)

    @property
    def status(self) -> str:
        """'graded', or the worst failure kind."""
        kinds = {f.kind for f in self.failures}
        return next((kind for kind in FAILURE_KINDS if kind in kinds), "graded")

    @property
    def grader_fault(self) -> bool:
        """Was any of it recorded because the grading machinery failed? (`grade` then grades it again.)"""
        return any(f.grader_fault for f in self.failures)

    @property
    def flagged(self) -> str:
        """Every flag, in plain words ('' when there was none)."""
        return "; ".join(f"{t.notebook}: {t.cell_name} {t.change}" for t in self.flags)

    @property
    def reason(self) -> str:
        """The failures in plain words ('' when there were none)."""
        return "; ".join(f"{f.notebook + ': ' if f.notebook else ''}{f.detail}" for f in self.failures)

    def to_dict(self) -> dict:
        record = asdict(self)
        record.update(raw_score=self.raw_score, score=self.score, max_score=self.max_score, pending=self.pending, status=self.status,
                      reason=self.reason, flagged=self.flagged, grader_fault=self.grader_fault)
        for test, saved in zip(self.tests, record["tests"]):
            saved["student_message"] = test.student_message
        return record

    @classmethod
    def from_dict(cls, record: dict) -> "SubmissionResult":
        return cls(student=record["student"], assignment=record["assignment"],
                   fingerprint=record["fingerprint"], seconds=record.get("seconds", 0.0),
                   tests=[TestResult(**{k: v for k, v in t.items() if k != "student_message"})
                          for t in record["tests"]],
                   failures=[Failure(**f) for f in record["failures"]],
                   flags=[Flag(**t) for t in record.get("flags", record.get("tampering", []))],
                   manual=[ManualGrade(**m) for m in record.get("manual", [])], name=record.get("name", ""),
                   seconds_late=record.get("seconds_late", 0.0), late_penalty=record.get("late_penalty", 0.0),
                   reused=list(record.get("reused", [])))


def status_counts(results: list["SubmissionResult"]) -> dict[str, int]:
    """Number of submissions per status: 'graded' and every failure kind (zeros included)."""
    statuses = [r.status for r in results]
    return {kind: statuses.count(kind) for kind in ("graded", *FAILURE_KINDS)}


def results_dir(course_root: Path, assignment: str) -> Path:
    """Where the per-student result files of an assignment live."""
    return Path(course_root) / "grading" / assignment


def save_result(result: SubmissionResult, course_root: Path) -> Path:
    """Write the student's result file atomically (a crash never leaves half a file)."""
    folder = results_dir(course_root, result.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{result.student}.json"
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as handle:
        json.dump(result.to_dict(), handle, indent=1, sort_keys=True)
    os.replace(handle.name, target)
    return target


def load_results(course_root: Path, assignment: str) -> list[SubmissionResult]:
    """Every saved result of the assignment, sorted by student."""
    folder = results_dir(course_root, assignment)
    return [SubmissionResult.from_dict(json.loads(path.read_text()))
            for path in sorted(folder.glob("*.json"))]


def require_results(course_root: Path, assignment: str) -> list[SubmissionResult]:
    """The saved results; FileNotFoundError saying to run `grade` first when there are none."""
    results = load_results(course_root, assignment)
    if not results:
        raise FileNotFoundError(f"No grading results for assignment '{assignment}' in "
                                f"{results_dir(course_root, assignment)}: run `python -m autograder grade "
                                f"--course {course_root} --assignment {assignment}` first.")
    return results
