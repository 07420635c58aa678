"""Tests of autograder/feedback.py: pages for the graded toy class, and escaping of crafted results."""
from __future__ import annotations

import html

import pytest

from autograder.__main__ import main
from autograder.feedback import render_student, write_feedback
from autograder import results  # results.TestResult: a Test* name imported here would be collected by pytest
from autograder.manual import with_gradebook_grades
from autograder.results import Failure, SubmissionResult, load_results, save_result
from conftest import CRASHED
from course_fixtures import ASSIGNMENT, EXPECTED_STATUS, MANUAL_MAX, QUESTION, TEST_HIDDEN, TEST_VISIBLE

STUDENTS = sorted([*EXPECTED_STATUS, CRASHED])
SCRIPT = "<script>alert('owned')</script>"


@pytest.fixture(scope="module")
def pages(graded_toy_course, tmp_path_factory):
    written = write_feedback(graded_toy_course, ASSIGNMENT, tmp_path_factory.mktemp("feedback"))
    return {path.stem: path.read_text(encoding="utf-8") for path in written}


def code_lines(source: str) -> list[str]:
    """The lines of a test cell that are code (not its docstring, which is the test's shown description)."""
    return [line.strip() for line in source.splitlines()[1:] if line.strip()]


def test_a_page_per_student_and_an_index_linking_them(pages):
    """Is there one page per student, and does index.html link each of them?"""
    assert sorted(pages) == sorted([*STUDENTS, "index"])
    for student in STUDENTS:
        assert f'href="{student}.html"' in pages["index"]


def test_no_test_source_appears_hidden_tests_especially(pages):
    """Does no line of any test cell's code (visible or hidden part, or the hidden-test markers) appear in
    any page, even once its HTML escapes are undone?"""
    assert "assert square(-2) == 4" in code_lines(TEST_HIDDEN)[2]  # the claim is about this hidden line
    for line in code_lines(TEST_HIDDEN) + code_lines(TEST_VISIBLE):
        for name, page in pages.items():
            assert line not in html.unescape(page), f"{line!r} leaked into {name}.html"
    for page in pages.values():
        assert "square(-2)" not in html.unescape(page) and "HIDDEN TESTS" not in page


def test_every_score_and_failure_message_is_shown(pages, graded_toy_course):
    """Does each page show the gradebook's total (the question graded by hand pending), and each test's id,
    description, points and the failure message the student may read?"""
    for result in with_gradebook_grades(load_results(graded_toy_course, ASSIGNMENT), graded_toy_course, ASSIGNMENT):
        page = pages[result.student]
        assert f"Total: {result.score:g} / {result.max_score:g}" in page
        assert f"({MANUAL_MAX:g} points of questions graded by hand still pending)" in page
        assert QUESTION in page and f"pending / {MANUAL_MAX:g}" in page
        for test in result.tests:
            assert test.grade_id in page and test.description in html.unescape(page)
            assert f"{test.points:g} / {test.max_points:g}" in page
            assert test.student_message in html.unescape(page)
    row = pages["dee"].split("test_square_negative", 1)[1].split("</tr>", 1)[0]  # dee fails the hidden test
    assert 'class="failed"' in row and "AssertionError" in row


def test_why_a_submission_did_not_run_is_shown(pages, graded_toy_course):
    """Does the page of each submission that could not run normally name the failure kind and reason?"""
    for result in load_results(graded_toy_course, ASSIGNMENT):
        if result.status == "graded":
            assert "could not be graded normally" not in pages[result.student]
            continue
        page = pages[result.student]
        assert f"could not be graded normally ({result.status})" in page
        for failure in result.failures:
            assert failure.detail in html.unescape(page)


def test_undone_tampering_is_shown(pages, graded_toy_course):
    """Does the page of a student who deleted a test cell say it was restored, naming the cell?"""
    assert "Grading flagged these cells" in pages["kim"] and "test_square_negative" in pages["kim"]
    assert "Cells you may not change" not in pages["ada"]


def test_student_text_is_escaped():
    """Is markup in a failure message, a failure detail or a student id escaped, never rendered?"""
    test = results.TestResult("squares.ipynb", "test_square_positive", "Does square give 9 for 3?", 0.0, 2.0,
                              False, f"AssertionError: square(3) should be 9, got {SCRIPT}")
    result = SubmissionResult(student="<b>mallory</b>", assignment=ASSIGNMENT, fingerprint="0", tests=[test],
                              failures=[Failure("error", "squares.ipynb", f"nbgrader failed on {SCRIPT}")])
    page = render_student(result)
    assert "<script" not in page and "<b>mallory" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;mallory&lt;/b&gt;" in page
    assert SCRIPT in html.unescape(page)  # shown as text, whole
    assert "default-src 'none'" in page  # and a Content-Security-Policy forbids scripts anyway


def test_cli_writes_to_the_default_folder(graded_toy_course, capsys):
    """Does `python -m autograder feedback` write <course>/feedback_html/<assignment>/ and print the index?"""
    assert main(["feedback", "--course", str(graded_toy_course), "--assignment", ASSIGNMENT]) == 0
    folder = graded_toy_course / "feedback_html" / ASSIGNMENT
    assert sorted(p.stem for p in folder.glob("*.html")) == sorted([*STUDENTS, "index"])
    assert str(folder / "index.html") in capsys.readouterr().out


def test_without_results_it_says_to_grade_first(tmp_path, capsys):
    """Without results, does feedback write nothing, exit 1 and say to run `grade` first?"""
    assert main(["feedback", "--course", str(tmp_path), "--assignment", ASSIGNMENT]) == 1
    assert "autograder grade" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_student_named_index_is_refused(tmp_path):
    """Is a student named 'index' (whose page index.html would overwrite) refused with a message saying why?"""
    save_result(SubmissionResult("index", ASSIGNMENT, "0"), tmp_path)
    with pytest.raises(ValueError, match="named 'index'"):
        write_feedback(tmp_path, ASSIGNMENT, tmp_path / "out")
    assert not (tmp_path / "out").exists()
