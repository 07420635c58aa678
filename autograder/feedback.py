"""`feedback`: write one HTML feedback page per student, with scores and failure messages but no test code.

Unlike nbgrader's generate_feedback, which renders the autograded notebook and so shows
the source of every test cell (hidden tests included), a page here is built only from the
student's result record: the total (autograded points plus the questions graded by hand, pending
until graded in formgrader: the same total as the gradebook's), why the submission could not run normally (if so),
and for each test its notebook, id, claim, points, pass/fail and the exception it raised
(for a hidden test, only which check failed and its hint: `TestResult.student_message`).
Everything is HTML-escaped (jinja2 autoescaping), and a Content-Security-Policy forbids scripts.
Writes `<output>/<student>.html` and `<output>/index.html` (default output:
`<course>/feedback_html/<assignment>/`).
"""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import jinja2

from .course import ASSIGNMENT_ID, add_course_arguments
from .roster import reported_results
from .results import SubmissionResult

_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }}</title>
<style>
 body { font-family: sans-serif; max-width: 60em; margin: 2em auto; }
 table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ccc; padding: .3em .5em; }
 .passed { color: #1a7f37; } .failed { color: #cf222e; }
 .problem { background: #fff3cd; border: 1px solid #e0c36c; padding: .5em 1em; }
 pre { white-space: pre-wrap; margin: 0; }
</style></head><body>
"""
_STUDENT = _HEAD + """<h1>{{ r.assignment }}: feedback for {{ r.who }}</h1>
<p><strong>Total: {{ points(r.score) }} / {{ points(r.max_score) }}</strong>{% if r.pending %}
 ({{ points(r.pending) }} points of questions graded by hand still pending){% endif %}</p>
{% if r.lateness %}<p>{{ r.lateness }}</p>{% endif %}
{% if r.failures %}
<div class="problem"><p><strong>Your submission could not be graded normally ({{ r.status }}).</strong></p>
<ul>{% for f in r.failures %}<li>{{ f.kind }}{% if f.notebook %} in {{ f.notebook }}{% endif %}: {{ f.detail }}</li>
{% endfor %}</ul></div>
{% endif %}
{% if r.flags %}
<div class="problem"><p><strong>Grading flagged these cells for your instructor (cells you may not change were restored before grading).</strong></p>
<ul>{% for t in r.flags %}<li>{{ t.notebook }}: {{ t.cell_name }} {{ t.change }}</li>
{% endfor %}</ul></div>
{% endif %}
<table>
<tr><th>notebook</th><th>test</th><th>points</th><th>result</th><th>message</th></tr>
{% for t in r.tests %}
<tr><td>{{ t.notebook }}</td><td><code>{{ t.grade_id }}</code>{% if t.description %}<br>{{ t.description }}{% endif %}</td>
<td>{{ points(t.points) }} / {{ points(t.max_points) }}</td>
<td class="{{ 'passed' if t.passed else 'failed' }}">{{ 'passed' if t.passed else 'failed' }}</td>
<td><pre>{{ t.student_message }}</pre></td></tr>
{% endfor %}
{% for m in r.manual %}
<tr><td>{{ m.notebook }}</td><td><code>{{ m.grade_id }}</code><br>a question graded by hand</td>
<td>{{ 'pending' if m.points is none else points(m.points) }} / {{ points(m.max_points) }}</td>
<td>{{ 'pending' if m.points is none else 'graded' }}</td><td></td></tr>
{% endfor %}
</table>
<p>The code of the tests is not shown; hidden tests use other inputs than the visible ones.</p>
</body></html>
"""
_INDEX = _HEAD + """<h1>{{ assignment }}: feedback</h1>
<table>
<tr><th>student</th><th>score</th><th>status</th></tr>
{% for r in results %}
<tr><td><a href="{{ link(r.student) }}">{{ r.who }}</a></td>
<td>{{ points(r.score) }} / {{ points(r.max_score) }}{% if r.pending %} ({{ points(r.pending) }} pending){% endif %}</td>
<td>{{ r.status }}</td></tr>
{% endfor %}
</table>
</body></html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True)
_ENVIRONMENT.globals.update(points=lambda value: f"{value:g}", link=lambda student: quote(page_name(student)))
_STUDENT_PAGE = _ENVIRONMENT.from_string(_STUDENT)
_INDEX_PAGE = _ENVIRONMENT.from_string(_INDEX)


def default_output(course_root: Path, assignment: str) -> Path:
    """Where feedback pages go unless told otherwise."""
    return Path(course_root) / "feedback_html" / assignment


def page_name(student: str) -> str:
    """The file name of a student's feedback page."""
    return f"{student}.html"


def render_student(result: SubmissionResult) -> str:
    """The feedback page of one submission."""
    return _STUDENT_PAGE.render(title=f"{result.assignment}: {result.who}", r=result)


def render_index(results: list[SubmissionResult], assignment: str) -> str:
    """A page linking every student's feedback page, with their scores."""
    return _INDEX_PAGE.render(title=f"{assignment}: feedback", assignment=assignment, results=results)


def write_feedback(course_root: Path, assignment: str = ASSIGNMENT_ID, output: Path | None = None) -> list[Path]:
    """Write every student's feedback page and the index; return the pages (index last).

    Raises FileNotFoundError (saying to run `grade`) when the assignment has no results, and
    ValueError when a student's page would be overwritten by the index.
    """
    results = reported_results(course_root, assignment)
    if any(page_name(r.student) == "index.html" for r in results):
        raise ValueError("A student is named 'index': their page would be overwritten by index.html. "
                         "Rename the folder submitted/index/ (nbgrader student ids are folder names).")
    output = Path(output) if output else default_output(course_root, assignment)
    output.mkdir(parents=True, exist_ok=True)
    pages = []
    for result in results:
        pages.append(output / page_name(result.student))
        pages[-1].write_text(render_student(result), encoding="utf-8")
    pages.append(output / "index.html")
    pages[-1].write_text(render_index(results, assignment), encoding="utf-8")
    return pages


def add_arguments(parser) -> None:
    add_course_arguments(parser, output_help="folder to write into (default: <course>/feedback_html/<assignment>/)")


def command(args) -> int:
    try:
        pages = write_feedback(Path(args.course), args.assignment, args.output)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Wrote feedback for {len(pages) - 1} students of {args.assignment}: {pages[-1]}")
    return 0
