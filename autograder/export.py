"""`export`: write an assignment's grades for other systems: nbgrader's CSV, full results, Gradescope files.

Reads the result files of the `grade` step and the course's nbgrader gradebook. Writes
into the output folder (default `<course>/exports/<assignment>/`):

    grades.csv                       nbgrader's own CSV export of the gradebook
    results.json                     every student's full result (failure messages in full) and a class summary
    gradescope/<student>/results.json  one Gradescope autograder results file per submission (what the
                                     student may read: a hidden test's details are not in it)

Every total is the gradebook's: autograded points plus the questions graded by hand (pending
until graded in formgrader), as in grades.csv.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from traitlets.config.loader import PyFileConfigLoader

from .course import ASSIGNMENT_ID, CONFIG_FILE, add_course_arguments
from .gradebook_url import gradebook_exists
from .roster import reported_results
from .results import ManualGrade, SubmissionResult, status_counts


def default_output(course_root: Path, assignment: str) -> Path:
    """Where exports go unless told otherwise."""
    return Path(course_root) / "exports" / assignment


def summary(results: list[SubmissionResult]) -> dict:
    """Class-level numbers: how many, mean score, the maximum score (questions graded by hand included),
    submissions per status."""
    scores = [r.score for r in results]
    return {"count": len(results),
            "mean": round(sum(scores) / len(scores), 6) if scores else 0.0,
            "max_score": max((r.max_score for r in results), default=0.0),
            "by_status": status_counts(results)}


def results_record(results: list[SubmissionResult], assignment: str) -> dict:
    """The content of results.json: the summary and every result with its tests and failures."""
    return {"assignment": assignment, "summary": summary(results), "students": [r.to_dict() for r in results]}


def gradescope_record(result: SubmissionResult) -> dict:
    """One submission in Gradescope's autograder results.json format (one entry per test cell)."""
    lines = [result.lateness] if result.lateness else []
    if result.failures:
        lines.append(f"Not graded normally ({result.status}): {result.reason}")
    if result.flags:
        lines.append(f"Flagged for review: {result.flagged}")
    return {
        "score": result.score,
        "execution_time": round(result.seconds),
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible",
        "tests": [{"name": f"{t.grade_id}: {t.description}" if t.description else t.grade_id,
                   "score": t.points,
                   "max_score": t.max_points,
                   "status": "passed" if t.passed else "failed",
                   "output": t.student_message,
                   "output_format": "text",
                   "tags": [t.notebook],
                   "visibility": "visible"} for t in result.tests] + [_manual_entry(m) for m in result.manual],
        "extra_data": {"student": result.student, "name": result.name, "status": result.status,
                       "fingerprint": result.fingerprint},
    }


def _manual_entry(question: ManualGrade) -> dict:
    """A question graded by hand, as a Gradescope test: scored once graded, else pending (no score)."""
    entry = {"name": f"{question.grade_id}: a question graded by hand", "max_score": question.max_points,
             "output": "graded by hand: pending" if question.points is None else "graded by hand",
             "output_format": "text", "tags": [question.notebook], "visibility": "visible"}
    return entry if question.points is None else {**entry, "score": question.points}


def export_csv(course_root: Path, assignment: str, target: Path) -> Path:
    """Write nbgrader's CSV export of the gradebook, for `assignment` only, to `target`."""
    course_root = Path(course_root).resolve()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    coursedir = CourseDirectory(config=config)
    if not gradebook_exists(coursedir.db_url):  # nbgrader would create an empty one
        raise FileNotFoundError(f"No nbgrader gradebook at {coursedir.db_url}: run `python -m autograder grade "
                                f"--course {course_root}` first.")
    target.parent.mkdir(parents=True, exist_ok=True)
    exporter = CsvExportPlugin(to=str(target), assignment=[assignment], config=config)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        exporter.export(gradebook)
    return target


def _write_json(path: Path, record: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def export(course_root: Path, assignment: str = ASSIGNMENT_ID, output: Path | None = None) -> dict:
    """Write every export of the assignment; return {"csv": path, "results": path, "gradescope": [paths]}.

    Raises FileNotFoundError (saying to run `grade`) when the assignment has no results.
    """
    results = reported_results(course_root, assignment)
    output = Path(output) if output else default_output(course_root, assignment)
    return {"csv": export_csv(course_root, assignment, output / "grades.csv"),
            "results": _write_json(output / "results.json", results_record(results, assignment)),
            "gradescope": [_write_json(output / "gradescope" / r.student / "results.json", gradescope_record(r))
                           for r in results]}


def add_arguments(parser) -> None:
    add_course_arguments(parser, output_help="folder to write into (default: <course>/exports/<assignment>/)")


def command(args) -> int:
    try:
        written = export(Path(args.course), args.assignment, args.output)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    folder = written["results"].parent
    print(f"Exported {len(written['gradescope'])} submissions of {args.assignment} to {folder}:")
    print(f"  {written['csv'].name} (nbgrader), {written['results'].name} (full results), "
          f"gradescope/<student>/results.json")
    return 0
