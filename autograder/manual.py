"""Questions graded by hand: their points count in every total, pending until an instructor grades them.

The questions are the reference notebooks' answer cells that carry points (nbgrader's manually
graded cells: the inline questions of notebooks 3 and 6). Their scores live in nbgrader's
gradebook, where formgrader writes them; the feedback pages, the report and the exports read
them here, so that every total agrees with formgrader's and with grades.csv.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from nn_helpers.cells import grade_id, is_answer, is_graded

from .course import SOURCE_DIR
from .gradebook_url import course_db_url, gradebook_exists
from .results import ManualGrade, SubmissionResult


def manual_questions(source_dir: Path) -> list[tuple[str, str, float]]:
    """(notebook, grade_id, points) of every question graded by hand, in notebook order."""
    return [(path.name, grade_id(cell), float(cell.metadata["nbgrader"].get("points", 0)))
            for path in sorted(Path(source_dir).glob("*.ipynb"))
            for cell in nbformat.read(path, as_version=4).cells if is_answer(cell) and is_graded(cell)]


def with_gradebook_grades(results: list[SubmissionResult], course_root: Path, assignment: str) -> list[SubmissionResult]:
    """The results with what only the gradebook knows: each question graded by hand with the points given
    (None while pending), and how late the submission was with the penalty of the course's late policy
    (nbgrader's `LateSubmissionPlugin`). Without a gradebook every question is pending and nothing is late."""
    questions = manual_questions(Path(course_root) / SOURCE_DIR / assignment)
    db_url = course_db_url(course_root)   # SQLite or a server database, as nbgrader_config.py says
    students = [r.student for r in results]
    known = gradebook_exists(db_url)
    scores = _manual_scores(db_url, assignment, questions, students) if questions and known else {}
    lateness = _lateness(db_url, assignment, students) if known else {}
    for result in results:
        result.manual = [ManualGrade(notebook, question, points, scores.get((result.student, notebook, question)))
                         for notebook, question, points in questions]
        result.seconds_late, result.late_penalty = lateness.get(result.student, (0.0, 0.0))
    return results


def _lateness(db_url: str, assignment: str, students) -> dict[str, tuple[float, float]]:
    """student -> (seconds late, late penalty in points) of each recorded submission."""
    lateness = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                continue
            lateness[student] = (float(submission.total_seconds_late or 0.0),
                                 float(submission.late_submission_penalty or 0.0))
    return lateness


def _manual_scores(db_url: str, assignment: str, questions, students) -> dict:
    """(student, notebook, grade_id) -> the points an instructor gave (absent while pending)."""
    scores = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            for notebook, question, _ in questions:
                try:
                    grade = gradebook.find_grade(question, Path(notebook).stem, assignment, student)
                except MissingEntry:
                    continue
                if grade.manual_score is not None:
                    scores[(student, notebook, question)] = float(grade.manual_score)
    return scores
