"""Students' names from nbgrader's roster (`nbgrader db student add ID --first-name --last-name`), for the outputs.

The kit's result files know students by id only; the gradebook's roster may hold their
names. Reading it never creates a gradebook.
"""
from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook

from .gradebook_url import course_directory, gradebook_exists
from .manual import with_gradebook_grades
from .results import SubmissionResult, require_results


def reported_results(course_root: Path, assignment: str) -> list[SubmissionResult]:
    """The saved results as every output reports them: with the gradebook's grades by hand and late
    penalties, and the roster's names. FileNotFoundError (saying to run `grade`) when there are none."""
    return with_names(with_gradebook_grades(require_results(course_root, assignment), course_root, assignment),
                      course_root)


def with_names(results: list[SubmissionResult], course_root: Path) -> list[SubmissionResult]:
    """The results, each with its student's name from the roster (left empty where it has none)."""
    names = roster_names(course_root)
    for result in results:
        result.name = names.get(result.student, "")
    return results


def roster_names(course_root: Path) -> dict[str, str]:
    """student id -> "First Last" for every student of the course's roster who has a name."""
    coursedir = course_directory(course_root)
    if not gradebook_exists(coursedir.db_url):
        return {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        students = [(s.id, s.first_name, s.last_name) for s in gradebook.students]
    return {student: " ".join(part for part in (first, last) if part)
            for student, first, last in students if first or last}
