"""`exchange-feedback`: put the kit's feedback pages where `nbgrader release_feedback` takes them.

nbgrader's own generate_feedback renders the autograded notebooks, test cells and hidden
tests included. This writes the kit's page instead (scores and failure messages, no test
code; see feedback.py) in nbgrader's layout, one copy per submitted notebook:

    <course>/feedback/<student>/<assignment>/<notebook>.html
    <course>/feedback/<student>/<assignment>/timestamp.txt, submission_secret.txt

Then `nbgrader release_feedback <assignment>` copies them into the exchange and each
student gets them with `nbgrader fetch_feedback <assignment>` (or the Assignment List).
Only submissions collected from an exchange carry the secret nbgrader files them under.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .course import ASSIGNMENT_ID, add_course_arguments
from .feedback import render_student
from .gradebook_url import course_directory
from .results import require_results

SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")   # what release_feedback reads beside the pages


def write_exchange_feedback(course_root: Path, assignment: str = ASSIGNMENT_ID) -> tuple[list[Path], list[str]]:
    """Write every collected student's pages; return (pages written, students skipped with the reason)."""
    coursedir = course_directory(course_root)
    written, skipped = [], []
    for result in require_results(course_root, assignment):
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, result.student, assignment))
        missing = [name for name in SUBMISSION_FILES if not (submitted / name).is_file()]
        if missing:
            skipped.append(f"{result.student}: no {' or '.join(missing)} in {submitted} "
                           "(not collected from an exchange with `nbgrader collect`)")
            continue
        folder = Path(coursedir.format_path(coursedir.feedback_directory, result.student, assignment))
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name in SUBMISSION_FILES:
            shutil.copy2(submitted / name, folder / name)
        page = render_student(result)
        for notebook in sorted(submitted.glob("*.ipynb")):   # nbgrader files feedback per submitted notebook
            written.append(folder / f"{notebook.stem}.html")
            written[-1].write_text(page, encoding="utf-8")
    return written, skipped


def add_arguments(parser) -> None:
    add_course_arguments(parser)


def command(args) -> int:
    try:
        written, skipped = write_exchange_feedback(Path(args.course), args.assignment)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    students = {path.parent.parent.name for path in written}
    print(f"Wrote {len(written)} feedback pages for {len(students)} students of {args.assignment}; "
          f"release them with `nbgrader release_feedback {args.assignment}` in the course folder.")
    for line in skipped:
        print(f"  skipped {line}")
    return 0
