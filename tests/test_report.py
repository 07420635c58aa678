"""Tests of autograder/report.py on the graded toy class (conftest.graded_toy_course)."""
from __future__ import annotations

import contextlib
import io

import matplotlib.pyplot as plt
import pytest

from autograder.__main__ import main
from autograder.report import report, table, truncate
from autograder.results import FAILURE_KINDS
from conftest import CRASHED
from course_fixtures import ASSIGNMENT, EXPECTED_SCORE, EXPECTED_STATUS, MANUAL_MAX, MAX_SCORE

STATUS = {**EXPECTED_STATUS, CRASHED: "error"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def printed(graded_toy_course):
    """The exit code of `python -m autograder report` and what it prints (capsys is per test: capture by hand)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["report", "--course", str(graded_toy_course), "--assignment", ASSIGNMENT])
    return code, out.getvalue()


def section(text: str, title: str) -> list[str]:
    """The rows (below the header rule) of the table printed under `title`."""
    lines = text.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return lines[2:]


def test_student_table_lists_every_student_with_score_and_status(printed):
    """Does the student table have one row per student with the gradebook's total (the question graded by
    hand pending) and status, reasons included?"""
    code, text = printed
    assert code == 0
    rows = {row.split()[0]: row for row in section(text, "Students")}
    assert sorted(rows) == sorted(STATUS)
    for student, status in STATUS.items():
        total = f"{EXPECTED_SCORE.get(student, 0.0):g}/{MAX_SCORE:g} ({MANUAL_MAX:g} pending)"
        assert total in rows[student] and status in rows[student]
    assert "ran past the per-cell time limit" in rows["eve"] and "MemoryError" in rows["fay"]


def test_status_table_counts_every_failure_kind(printed):
    """Does the status table count the submissions of each failure kind (one each in the toy class)?"""
    rows = [row.rsplit(None, 1) for row in section(printed[1], "Submissions by status")]
    counts = {status.strip(): int(count) for status, count in rows}
    assert counts == {"graded": 6, **{kind: 1 for kind in FAILURE_KINDS}}


def test_test_table_gives_points_and_pass_rates(printed):
    """Does the test table give each test's points and pass rate (ada passes both tests, dee the first)?"""
    rows = {row.split()[0]: row.split() for row in section(printed[1], "Tests")}
    students = len(STATUS)  # ada, dee, kim and mo pass the first test; ada and kim the second
    assert rows["test_square_positive"][2] == "2" and f"4/{students}" in rows["test_square_positive"]
    assert rows["test_square_negative"][2] == "1" and f"2/{students}" in rows["test_square_negative"]


def test_flags_are_listed_with_the_cell(printed):
    """Does the report list the deleted test cell (kim) and the code that kills (gus) or spawns (jay), naming the cells?"""
    assert "Flagged for review (3 submissions)" in printed[1]
    assert "kim: squares.ipynb: cell test_square_negative was deleted" in printed[1]
    assert "gus: squares.ipynb: cell answer_square calls os.kill" in printed[1]
    assert "jay: squares.ipynb: cell answer_square calls subprocess.Popen" in printed[1]


def test_charts_are_png_files_in_the_printed_folder(printed, graded_toy_course):
    """Are grades.png and pass_rate.png written as PNG files to the default folder, whose path is printed?"""
    folder = graded_toy_course / "reports" / ASSIGNMENT
    assert str(folder) in printed[1]
    for name in ("grades.png", "pass_rate.png"):
        assert (folder / name).read_bytes()[:8] == PNG_MAGIC


def test_no_pyplot_figures_are_left_open(graded_toy_course, tmp_path):
    """Does making the charts leave pyplot's list of open figures as it was?"""
    before = plt.get_fignums()
    _, charts = report(graded_toy_course, ASSIGNMENT, tmp_path)
    assert plt.get_fignums() == before
    assert [p.name for p in charts] == ["grades.png", "pass_rate.png"]


def test_table_aligns_columns_and_truncate_marks_cuts():
    """Are table columns aligned under a rule, and is a long reason cut to the width with '...'?"""
    assert table(["a", "bb"], [["xxx", 1]]).splitlines() == ["a    bb", "---  --", "xxx  1"]
    assert truncate("x" * 100, 20) == "x" * 17 + "..." and truncate("short", 20) == "short"


def test_without_results_it_says_to_grade_first(tmp_path, capsys):
    """Without results, does report write nothing, exit 1 and say to run `grade` first?"""
    assert main(["report", "--course", str(tmp_path), "--assignment", ASSIGNMENT]) == 1
    assert "autograder grade" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
