"""`report`: summarise a graded assignment in the terminal, with charts of grades and pass rates.

Prints three tables: one row per student (the gradebook's total, questions graded by hand
included and pending until graded; status; why it could not run normally),
one row per test (points, mean, pass rate) and the number of submissions per status.
Writes `grades.png` (histogram of the scores) and `pass_rate.png` (pass rate of each
test) into the output folder (default `<course>/reports/<assignment>/`). The charts are
drawn on matplotlib's Agg canvas without pyplot, so no global figure state is touched.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .course import ASSIGNMENT_ID, add_course_arguments
from .roster import reported_results
from .results import SubmissionResult, status_counts

REASON_WIDTH = 110  # characters of a failure reason shown in the student table (cells are named in full)


def default_output(course_root: Path, assignment: str) -> Path:
    """Where the charts go unless told otherwise."""
    return Path(course_root) / "reports" / assignment


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def truncate(text: str, width: int = REASON_WIDTH) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def total(result: SubmissionResult) -> str:
    """The gradebook's total, e.g. '60/77 (8 pending)': questions graded by hand count once graded."""
    notes = [f"{result.pending:g} pending"] * bool(result.pending) + [f"{result.late_penalty:g} off late"] * bool(
        result.late_penalty)
    return f"{result.score:g}/{result.max_score:g}" + (f" ({', '.join(notes)})" if notes else "")


def test_stats(results: list[SubmissionResult]) -> list[dict]:
    """Per test (in notebook order): grade_id, notebook, max points, mean points, passed, submissions."""
    stats: dict[tuple[str, str], dict] = {}
    for result in results:
        for t in result.tests:
            row = stats.setdefault((t.notebook, t.grade_id), {"grade_id": t.grade_id, "notebook": t.notebook,
                                                             "max_points": t.max_points, "points": 0.0,
                                                             "passed": 0, "count": 0})
            row["points"] += t.points
            row["passed"] += t.passed
            row["count"] += 1
    return list(stats.values())


def summary_text(results: list[SubmissionResult]) -> str:
    """The three tables, as printed by the `report` command."""
    students = table(["student", "score", "status", "reason"],
                     [[r.who, total(r), r.status, truncate(r.reason)] for r in results])
    tests = table(["test", "notebook", "points", "mean", "passed"],
                  [[s["grade_id"], s["notebook"], f"{s['max_points']:g}", f"{s['points'] / s['count']:.2f}",
                    f"{s['passed']}/{s['count']} ({100 * s['passed'] / s['count']:.0f}%)"]
                   for s in test_stats(results)])
    statuses = table(["status", "submissions"], [[k, n] for k, n in status_counts(results).items()])
    tampered = [r for r in results if r.flags]
    flagged = "".join(f"  {r.student}: {truncate(r.flagged)}\n" for r in tampered) or "  none\n"
    mean = sum(r.score for r in results) / len(results)
    return (f"{results[0].assignment}: {len(results)} submissions, mean score "
            f"{mean:.2f}/{max(r.max_score for r in results):g}\n\n"
            f"Students\n{students}\n\nTests\n{tests}\n\nSubmissions by status\n{statuses}\n\n"
            f"Flagged for review ({len(tampered)} submissions)\n{flagged}")


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_grades(results: list[SubmissionResult], path: Path) -> Path:
    """A histogram of the total scores, from 0 to the maximum score."""
    top = max(max(r.max_score for r in results), 1.0)
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    # one bar per whole point on small assignments, twenty equal bins on larger ones
    edges = np.arange(math.ceil(top) + 2) - 0.5 if top <= 20 else np.linspace(0, top, 21)
    axes.hist([r.score for r in results], bins=edges, edgecolor="black")
    axes.set(xlabel="score", ylabel="submissions", title=f"{results[0].assignment}: scores (max {top:g})")
    return _save(figure, path)


def plot_pass_rates(results: list[SubmissionResult], path: Path) -> Path:
    """A horizontal bar per test: the share of submissions that passed it."""
    stats = test_stats(results)
    figure = Figure(figsize=(7, 1.5 + 0.3 * len(stats)))
    axes = figure.subplots()
    axes.barh(range(len(stats)), [100 * s["passed"] / s["count"] for s in stats])
    # grade ids are unique within a notebook only: numeric positions keep equal ids apart
    axes.set_yticks(range(len(stats)), [s["grade_id"] for s in stats])
    axes.invert_yaxis()  # first test at the top, as in the notebooks
    axes.set(xlim=(0, 100), xlabel="passed (% of submissions)", title=f"{results[0].assignment}: pass rate per test")
    return _save(figure, path)


def report(course_root: Path, assignment: str = ASSIGNMENT_ID, output: Path | None = None) -> tuple[str, list[Path]]:
    """The summary text and the chart files written.

    Raises FileNotFoundError (saying to run `grade`) when the assignment has no results.
    """
    results = reported_results(course_root, assignment)
    output = Path(output) if output else default_output(course_root, assignment)
    output.mkdir(parents=True, exist_ok=True)
    charts = [plot_grades(results, output / "grades.png"), plot_pass_rates(results, output / "pass_rate.png")]
    return summary_text(results), charts


def add_arguments(parser) -> None:
    add_course_arguments(parser, output_help="folder for the charts (default: <course>/reports/<assignment>/)")


def command(args) -> int:
    try:
        text, charts = report(Path(args.course), args.assignment, args.output)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(text)
    print(f"Charts written to {charts[0].parent}: {', '.join(p.name for p in charts)}")
    return 0
