"""The outcome of each notebook of a student's last grading, kept to be reused while what it depends on is unchanged.

For each notebook that ran cleanly (no failure attached to it, none for the whole submission,
no fault of the grader) the last grading keeps a `NotebookOutcome` under the notebook's key
(notebook_keys.py): its executed notebook as graded, its test results, the flags its tests
raised, and the CPU seconds it took. The next grading of that student reuses every outcome
whose key is unchanged and runs only the other notebooks.

They live in one file per student beside the results, `<results>/notebooks/<student>.json`,
each outcome with a digest of its own content: a file or an outcome that cannot be read,
or does not match its digest, counts as absent (those notebooks are graded again).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from ..results import Flag, SubmissionResult, TestResult, results_dir
from ..trusted.saved import SAVED_FILES

FORMAT = 1


@dataclass
class NotebookOutcome:
    """What grading one notebook of a submission produced."""
    key: str                 # notebook_keys.notebook_keys: what the outcome depends on
    executed: str            # the executed notebook as graded (the grader's verdicts in its test cells), JSON text
    tests: list[TestResult] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)   # raised by its tests (passed in the notebook only)
    cpu_seconds: float = 0.0      # its cells' CPU time in the notebook run (nbgrader's log: cell_budget.py)
    trusted_seconds: float = 0.0  # CPU time of its tests in the grader's run (metered by the grader)

    def to_dict(self) -> dict:
        record = asdict(self)
        record["digest"] = _digest(record)
        return record

    @classmethod
    def from_dict(cls, record: dict) -> "NotebookOutcome":
        """The outcome a record holds; ValueError if it is not one, or not as it was written."""
        content = {k: v for k, v in record.items() if k != "digest"}
        if record.get("digest") != _digest(content):
            raise ValueError("the outcome does not match its digest")
        outcome = cls(key=str(record["key"]), executed=str(record["executed"]),
                      tests=[TestResult(**t) for t in record["tests"]], flags=[Flag(**f) for f in record["flags"]],
                      cpu_seconds=float(record["cpu_seconds"]), trusted_seconds=float(record["trusted_seconds"]))
        nbformat.reads(outcome.executed, as_version=4)   # the gradebook writer stages it as a notebook
        return outcome


def _digest(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def outcomes_path(course_root: Path, assignment: str, student: str) -> Path:
    return results_dir(course_root, assignment) / "notebooks" / f"{student}.json"


def load_outcomes(course_root: Path, assignment: str, student: str) -> dict[str, NotebookOutcome]:
    """Notebook -> kept outcome of the student's last grading ({} when there is none or it cannot be read)."""
    try:
        record = json.loads(outcomes_path(course_root, assignment, student).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            return {}
        notebooks = record["notebooks"].items()
    except Exception:   # missing, truncated, not JSON, not ours
        return {}
    outcomes = {}
    for name, entry in notebooks:
        try:
            outcomes[name] = NotebookOutcome.from_dict(entry)
        except Exception:   # that notebook is graded again
            continue
    return outcomes


def save_outcomes(course_root: Path, assignment: str, result: SubmissionResult,
                  outcomes: dict[str, NotebookOutcome]) -> None:
    """Keep the outcomes of the result's clean notebooks (none if the grader failed or the whole run was stopped),
    replacing what was kept before, atomically."""
    path = outcomes_path(course_root, assignment, result.student)
    if result.grader_fault or any(not f.notebook for f in result.failures):
        outcomes = {}
    if not outcomes:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "notebooks": {name: o.to_dict() for name, o in sorted(outcomes.items())}}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(handle.name, path)


def reusable(kept: dict[str, NotebookOutcome], keys: dict[str, str],
             tests: dict[str, list[str]]) -> dict[str, NotebookOutcome]:
    """The kept outcomes whose key is the notebook's key now, and that hold a result for each of its tests
    (`tests`: notebook -> grade_ids, in order)."""
    return {name: outcome for name, outcome in kept.items()
            if name in keys and outcome.key == keys[name]
            and [(t.notebook, t.grade_id) for t in outcome.tests] == [(name, test) for test in tests.get(name, [])]}


def stray_files(autograded: Path, copied_from: list[Path]) -> list[str]:
    """Files the notebooks' run left in the folder it ran in, other than notebooks, saved models and the files
    nbgrader copied there from `copied_from` (bytecode caches aside).

    Notebooks that write other files may pass anything to each other through them, which their code
    need not name: the outcomes of such a run are not kept.
    """
    copied = {path.relative_to(folder).as_posix() for folder in copied_from
              for path in Path(folder).rglob("*") if path.is_file()}
    return sorted(relative for path in Path(autograded).rglob("*")
                  if not path.is_dir() and "__pycache__" not in path.parts
                  and (relative := path.relative_to(autograded).as_posix()) not in copied
                  and path.suffix != ".ipynb" and path.name not in SAVED_FILES)
