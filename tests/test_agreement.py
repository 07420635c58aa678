"""Tests for autograder.agreement: every output states the same total for every student."""
from __future__ import annotations

import json

import pytest

from autograder.agreement import disagreements
from autograder.export import export
from autograder.feedback import write_feedback
from autograder.manual import with_gradebook_grades
from autograder.report import report
from autograder.results import load_results
from autograder.roster import with_names
from course_fixtures import ASSIGNMENT

pytestmark = pytest.mark.filterwarnings("ignore:Object of type")   # nbgrader's ORM about its own sessions


@pytest.fixture(scope="module")
def outputs(graded_toy_course, tmp_path_factory):
    """The toy class's exports, feedback pages and report, as the demo writes them."""
    base = tmp_path_factory.mktemp("outputs")
    written = export(graded_toy_course, ASSIGNMENT, base / "exports")
    pages = write_feedback(graded_toy_course, ASSIGNMENT, base / "feedback")
    text, _ = report(graded_toy_course, ASSIGNMENT, base / "report")
    results = with_names(with_gradebook_grades(load_results(graded_toy_course, ASSIGNMENT), graded_toy_course,
                                               ASSIGNMENT), graded_toy_course)
    return results, written, pages, text


def test_the_toy_class_has_one_total_everywhere(outputs):
    """Do grades.csv, results.json, Gradescope, the feedback pages and the report agree for every student?"""
    assert disagreements(*outputs) == []


def test_a_page_with_another_total_is_named(outputs, tmp_path):
    """Is a student whose feedback page states another total listed, with what each output says?"""
    results, written, pages, text = outputs
    student = results[0].student
    page = next(p for p in pages if p.name == f"{student}.html")
    changed = tmp_path / page.name
    changed.write_text(page.read_text().replace("Total: ", "Total: 1", 1))
    found = disagreements(results, written, [changed if p == page else p for p in pages], text)
    assert len(found) == 1 and found[0].startswith(f"{student}: ") and "feedback page 1" in found[0], found


def test_a_student_missing_from_an_output_is_named(outputs, tmp_path):
    """Is a student whose Gradescope file is missing listed as missing there?"""
    results, written, pages, text = outputs
    kept = [p for p in written["gradescope"] if json.loads(p.read_text())["extra_data"]["student"] != results[-1].student]
    found = disagreements(results, {**written, "gradescope": kept}, pages, text)
    assert found == [f"{results[-1].student}: " + found[0].split(": ", 1)[1]] and "Gradescope missing" in found[0]
