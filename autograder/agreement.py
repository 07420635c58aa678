"""Do the outputs a course hands out agree on every student's total?

Feedback pages, the report, nbgrader's grades.csv (the gradebook formgrader shows), the
full results.json and the Gradescope files are written by different code from different
sources (result files, the gradebook). `disagreements` reads each back as its reader would
and lists every student whose totals differ; the demo runs it after writing them all.
"""
from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from .results import SubmissionResult

FEEDBACK_TOTAL = re.compile(r"Total: ([0-9.]+) / ([0-9.]+)")
REPORT_TOTAL = re.compile(r"^([0-9.]+)/([0-9.]+)\b")
OUTPUTS = ("grades.csv", "results.json", "Gradescope", "feedback page", "report")


def disagreements(results: list[SubmissionResult], written: dict, pages: list[Path], report_text: str) -> list[str]:
    """One line per student whose (score, max score) is not the same in every output.

    `written` is what export() returned, `pages` what write_feedback() returned, `report_text`
    the report's summary text; `results` are the reported results (names filled in).
    """
    totals: dict[str, dict[str, tuple[float, float] | None]] = {r.student: dict.fromkeys(OUTPUTS) for r in results}
    with Path(written["csv"]).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["student_id"] in totals:
                totals[row["student_id"]]["grades.csv"] = (float(row["score"]), float(row["max_score"]))
    for record in json.loads(Path(written["results"]).read_text())["students"]:
        if record["student"] in totals:
            totals[record["student"]]["results.json"] = (float(record["score"]), float(record["max_score"]))
    for path in written["gradescope"]:
        record = json.loads(Path(path).read_text())
        top = sum(float(test.get("max_score", 0.0)) for test in record["tests"])
        if record["extra_data"]["student"] in totals:
            totals[record["extra_data"]["student"]]["Gradescope"] = (float(record["score"]), top)
    pages_by_name = {path.name: path for path in pages}
    for result in results:
        seen = totals[result.student]
        page = pages_by_name.get(f"{result.student}.html")
        found = FEEDBACK_TOTAL.search(html.unescape(page.read_text())) if page else None
        seen["feedback page"] = (float(found[1]), float(found[2])) if found else None
        seen["report"] = _report_total(report_text, result.who)
    return [f"{student}: " + ", ".join(f"{where} {_shown(total)}" for where, total in seen.items())
            for student, seen in totals.items() if len(set(seen.values())) != 1 or None in seen.values()]


def _report_total(text: str, who: str) -> tuple[float, float] | None:
    """The total in the report's student table on the row of `who` (the first column)."""
    for line in text.splitlines():
        if line.startswith(who + " "):
            found = REPORT_TOTAL.search(line[len(who):].strip())
            return (float(found[1]), float(found[2])) if found else None
    return None


def _shown(total: tuple[float, float] | None) -> str:
    return "missing" if total is None else f"{total[0]:g}/{total[1]:g}"
