"""Keep nbgrader's own autograde (the formgrader's Autograde button, `nbgrader autograde`) off a kit course.

Plain nbgrader would run the students' code outside the sandbox, score it with the
notebook's own test cells and overwrite the kit's grades in the gradebook. A course's
nbgrader_config.py sets `c.Autograde.exporter_class` to `GradeThroughTheKit`: nbgrader builds
that exporter before it touches the gradebook or `autograded/`, so refusing there leaves
both as the kit wrote them. The one autograde it lets through is the kit's own gradebook
writer, which executes nothing and records notebooks staged under `<course>/grading/`.
"""
from __future__ import annotations

from pathlib import Path

from nbconvert.exporters import NotebookExporter
from nbgrader.converters.base import NbGraderException

KIT = Path(__file__).resolve().parent.parent
GUARD = f"{__name__}.GradeThroughTheKit"   # the value of c.Autograde.exporter_class
# c.GenerateFeedback.preprocessors: nbgrader's own feedback (the formgrader's Generate Feedback) renders the
# autograded notebooks, whose test cells hold the hidden tests; these steps take them out first.
FEEDBACK_PREPROCESSORS = ("nbgrader.preprocessors.GetGrades", "nbgrader.preprocessors.ClearHiddenTests",
                          "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")


def guard_lines(indent: str = "") -> list[str]:
    """Config lines that turn the guard on (inside a block that runs in the course folder only)."""
    return [f"{indent}# nbgrader's own autograde (the formgrader's Autograde button, `nbgrader autograde`) would",
            f"{indent}# run the students' code outside the sandbox and overwrite the kit's grades: it refuses.",
            f"{indent}sys.path.append({str(KIT)!r})",
            f"{indent}c.Autograde.exporter_class = {GUARD!r}"]


def refusal(course_root: str | Path) -> str:
    """What the formgrader (and `nbgrader autograde`) shows instead of grading, one sentence a line."""
    return (f"This course is graded by the assignment kit, not by nbgrader's own autograde:\n"
            f"it would run the students' code outside the sandbox and overwrite the kit's grades.\n"
            f"Grade with: cd {KIT} && .venv/bin/python -m autograder grade --course {course_root}\n"
            f"The formgrader then shows the kit's grades; manual grading and feedback work as usual.")


def is_kit_writer(converter) -> bool:
    """Is this autograde the kit's gradebook writer (no execution, no cleared outputs, staged notebooks)?"""
    config = converter.config
    coursedir = converter.coursedir
    staged = Path(coursedir.submitted_directory)
    grading = Path(coursedir.root) / "grading"
    return (config.Execute.get("enabled", True) is False and config.ClearOutput.get("enabled", True) is False
            and staged.is_absolute() and staged.resolve().is_relative_to(grading.resolve()))


class GradeThroughTheKit(NotebookExporter):
    """nbgrader's notebook exporter, refusing to exist for any autograde but the kit's writer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        converter = self.parent
        if converter is None or not hasattr(converter, "coursedir"):
            return   # not built by a converter: nothing to guard
        if not is_kit_writer(converter):
            message = refusal(converter.coursedir.root)
            converter.log.error(message)
            raise NbGraderException(message)
