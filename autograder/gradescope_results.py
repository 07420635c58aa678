"""One graded submission as Gradescope's results.json, without leaking what hidden tests hold.

- Each autograded test cell is one visible test with its points. Its output is the message a
  student may see: the grader's `student_message` when results carry one, else the failure
  message, withheld for a test cell with a hidden part (the message may quote hidden inputs).
  A withheld or shortened message also gets a zero-point "(details)" entry that Gradescope
  shows only once grades are published (`after_published`).
- Each answer graded by hand is a pending test: 0 of its points, "graded by hand".
- Flags and notes about how grading ran go to one entry only instructors see (`hidden`);
  the script's own output (stdout) is for instructors too.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from nn_helpers.cells import grade_id, is_answer, is_graded, is_test

from .results import SubmissionResult, TestResult
from .trusted.tests import HIDDEN_TESTS

BY_HAND = "Graded by hand: 0 points until your instructor has graded it."


def graded_cells(source_dir: Path) -> dict[tuple[str, str], dict]:
    """(notebook, grade_id) -> {"points", "hidden", "by_hand"} for every graded cell of the reference notebooks."""
    cells = {}
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_graded(cell):
                cells[(path.name, grade_id(cell))] = {
                    "points": float(cell.metadata["nbgrader"].get("points", 0)),
                    "hidden": is_test(cell) and HIDDEN_TESTS in cell.source,
                    "by_hand": is_answer(cell)}
    return cells


def student_output(test: TestResult) -> str:
    """What the student sees of a test's outcome: never a hidden part's inputs or expected values."""
    return "" if test.passed else test.student_message


def entry_name(test: TestResult) -> str:
    return f"{test.grade_id}: {test.description}" if test.description else test.grade_id


def results_json(result: SubmissionResult, source_dir: Path, notes: list[str] = (),
                 instructor_notes: list[str] = ()) -> dict:
    """Gradescope's results.json content for `result`, graded against the reference notebooks in `source_dir`.

    `notes` reach the student (e.g. ignored files); `instructor_notes` only instructors.
    """
    cells = graded_cells(source_dir)
    tests = []
    for test in result.tests:
        shown = student_output(test)
        tests.append({"name": entry_name(test), "score": test.points, "max_score": test.max_points,
                      "status": "passed" if test.passed else "failed", "output": shown,
                      "tags": [test.notebook], "visibility": "visible"})
        if shown != test.message and not test.passed:
            tests.append({"name": f"{entry_name(test)} (details)", "score": 0.0, "max_score": 0.0,
                          "output": test.message, "tags": [test.notebook], "visibility": "after_published"})
    by_hand = [(notebook, cell, info["points"]) for (notebook, cell), info in cells.items() if info["by_hand"]]
    tests += [{"name": f"{cell} (graded by hand)", "score": 0.0, "max_score": points,
               "output": BY_HAND, "tags": [notebook], "visibility": "visible"} for notebook, cell, points in by_hand]
    private = [*instructor_notes, *(f"Flagged for review: {f.notebook}: cell {f.cell} {f.change}" for f in result.flags)]
    if private:
        tests.append({"name": "Notes for the instructor", "score": 0.0, "max_score": 0.0,
                      "output": "\n".join(private), "visibility": "hidden"})
    return {"score": result.score, "execution_time": round(result.seconds),
            "output": summary(result, sum(points for *_, points in by_hand), notes),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": result.status, "fingerprint": result.fingerprint}}


def summary(result: SubmissionResult, by_hand_points: float, notes: list[str] = ()) -> str:
    """The text at the top of the student's results."""
    lines = [f"Autograded: {result.score:g} of {result.max_score:g} points."]
    if by_hand_points:
        lines.append(f"A further {by_hand_points:g} points are graded by hand.")
    if result.failures:
        lines.append(f"Not everything could be graded normally: {result.reason}.")
    return "\n".join([*lines, *notes])
