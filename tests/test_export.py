"""Tests of autograder/export.py on the graded toy class (conftest.graded_toy_course)."""
from __future__ import annotations

import csv
import json

import pytest

from autograder.__main__ import main
from autograder.export import export
from autograder.course import CONFIG_FILE, ROOT
from autograder.feedback import write_feedback
from autograder.manual import with_gradebook_grades
from autograder.results import FAILURE_KINDS, SubmissionResult, load_results, save_result
from conftest import CRASHED
from course_fixtures import ASSIGNMENT, EXPECTED_SCORE, EXPECTED_STATUS, HIDDEN_NUMBER, MANUAL_MAX, MAX_SCORE, \
    NOTEBOOK, QUESTION, TAMPERED

STATUS = {**EXPECTED_STATUS, CRASHED: "error"}
SCORE = {**EXPECTED_SCORE, CRASHED: 0.0}
# Gradescope's results.json keys and values (gradescope-autograders.readthedocs.io, "Autograder Specifications")
GRADESCOPE_TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
                       "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
                        "output_format", "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def exported(graded_toy_course, tmp_path_factory):
    return export(graded_toy_course, ASSIGNMENT, tmp_path_factory.mktemp("exports"))


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_grades_csv_is_nbgraders_export_of_every_student(exported):
    """Is grades.csv nbgrader's CSV export, with one row per submission and the gradebook's scores?"""
    with exported["csv"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                             "email", "raw_score", "late_submission_penalty", "score", "max_score"]
    assert {row["student_id"]: float(row["score"]) for row in rows} == SCORE
    assert {row["assignment"] for row in rows} == {ASSIGNMENT}
    assert {float(row["max_score"]) for row in rows} == {MAX_SCORE}


def test_results_json_holds_every_full_result_and_a_summary(exported, graded_toy_course):
    """Does results.json hold each student's full result (tests, points, failures) and the class summary?"""
    record = read_json(exported["results"])
    students = {s["student"]: s for s in record["students"]}
    assert {name: s["status"] for name, s in students.items()} == STATUS
    assert {name: s["score"] for name, s in students.items()} == SCORE
    assert students == {r.student: r.to_dict() for r in
                        with_gradebook_grades(load_results(graded_toy_course, ASSIGNMENT), graded_toy_course, ASSIGNMENT)}
    assert {s["pending"] for s in students.values()} == {MANUAL_MAX}
    assert [t["grade_id"] for t in students["dee"]["tests"]] == ["test_square_positive", "test_square_negative"]
    assert [t["points"] for t in students["dee"]["tests"]] == [2.0, 0.0]
    summary = record["summary"]
    assert summary["count"] == len(STATUS) and summary["max_score"] == MAX_SCORE
    assert summary["mean"] == pytest.approx(sum(SCORE.values()) / len(SCORE))
    assert summary["by_status"] == {kind: list(STATUS.values()).count(kind) for kind in ("graded", *FAILURE_KINDS)}


def test_every_failure_reason_reaches_both_json_exports(exported, graded_toy_course):
    """Does every failure kind (timeout, memory, kernel died, unreadable, error) appear, with its reason, in
    results.json and in the student's Gradescope file?"""
    results = {r.student: r for r in load_results(graded_toy_course, ASSIGNMENT)}
    full = {s["student"]: s for s in read_json(exported["results"])["students"]}
    seen = set()
    for student, status in STATUS.items():
        if status == "graded":
            continue
        reason = results[student].reason
        assert reason, f"{student} ({status}) has no reason"
        assert full[student]["reason"] == reason
        assert status in {f["kind"] for f in full[student]["failures"]}
        gradescope = read_json(exported["gradescope"][0].parent.parent / student / "results.json")
        assert status in gradescope["output"] and reason in gradescope["output"]
        seen.add(status)
    assert seen == set(FAILURE_KINDS)


def test_tampering_reaches_both_json_exports(exported):
    """Are the cells restored before grading named in results.json and in the Gradescope output?"""
    full = {r["student"]: r for r in read_json(exported["results"])["students"]}
    assert full[TAMPERED]["flagged"] == "squares.ipynb: cell test_square_negative was deleted; restored from the release"
    assert full["ada"]["flagged"] == ""
    gradescope = read_json(exported["gradescope"][0].parent.parent / TAMPERED / "results.json")
    assert "Flagged for review: squares.ipynb: cell test_square_negative was deleted" in gradescope["output"]


def test_gradescope_files_follow_the_results_spec(exported):
    """Is each gradescope/<student>/results.json in Gradescope's format, one test entry per test cell?"""
    assert sorted(p.parent.name for p in exported["gradescope"]) == sorted(STATUS)
    for path in exported["gradescope"]:
        record = read_json(path)
        student = path.parent.name
        assert set(record) <= GRADESCOPE_TOP_KEYS
        assert record["visibility"] in VISIBILITIES and isinstance(record["execution_time"], int)
        assert record["score"] == SCORE[student] == sum(t.get("score", 0.0) for t in record["tests"])
        assert sum(t["max_score"] for t in record["tests"]) == MAX_SCORE
        assert (record["output"] == "") == (STATUS[student] == "graded" and student != TAMPERED)
        *autograded, question = record["tests"]
        assert question == {"name": f"{QUESTION}: a question graded by hand", "max_score": MANUAL_MAX,
                            "output": "graded by hand: pending", "output_format": "text", "tags": [NOTEBOOK],
                            "visibility": "visible"}   # pending: no score yet
        for test in autograded:
            assert set(test) <= GRADESCOPE_TEST_KEYS and test["visibility"] in VISIBILITIES
            assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
            assert (test["output"] == "") == (test["status"] == "passed")
    dee = read_json(exported["gradescope"][0].parent.parent / "dee" / "results.json")
    assert [t["name"] for t in dee["tests"]] == ["test_square_positive: Does square give 9 for 3?",
                                                 "test_square_negative: Does square work for negative numbers?",
                                                 f"{QUESTION}: a question graded by hand"]
    assert dee["tests"][1]["output"].startswith("AssertionError")


def test_a_hidden_tests_details_reach_the_instructor_only(exported, graded_toy_course, tmp_path):
    """Does a number quoted by the student's exception in a hidden test (made from its hidden input) reach
    the instructor's results.json, and none of the feedback page, the Gradescope file and the executed
    notebook, which say which test failed and that the details are kept for the instructor?"""
    assert HIDDEN_NUMBER in exported["results"].read_text(encoding="utf-8")
    student_facing = {
        "gradescope": (exported["gradescope"][0].parent.parent / "mo" / "results.json").read_text(encoding="utf-8"),
        "feedback": (write_feedback(graded_toy_course, ASSIGNMENT, tmp_path)[0].parent / "mo.html").read_text(),
        "executed notebook": (graded_toy_course / "autograded" / "mo" / ASSIGNMENT / NOTEBOOK).read_text()}
    for name, text in student_facing.items():
        assert HIDDEN_NUMBER not in text and HIDDEN_NUMBER.lstrip("-") not in text, f"the hidden value leaked into {name}"
        assert "a hidden test (other shapes and seeds) failed: ValueError was raised in square, line 4" in text, name


def test_cli_writes_to_the_default_folder(graded_toy_course, capsys):
    """Does `python -m autograder export` write into <course>/exports/<assignment>/ and say where?"""
    assert main(["export", "--course", str(graded_toy_course), "--assignment", ASSIGNMENT]) == 0
    folder = graded_toy_course / "exports" / ASSIGNMENT
    assert (folder / "grades.csv").is_file() and (folder / "results.json").is_file()
    assert (folder / "gradescope" / "hal" / "results.json").is_file()
    assert str(folder) in capsys.readouterr().out


def test_without_results_it_says_to_grade_first(tmp_path, capsys):
    """Without results, does export write nothing, exit 1 and say to run `grade` first?"""
    assert main(["export", "--course", str(tmp_path), "--assignment", ASSIGNMENT]) == 1
    assert "autograder grade" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_missing_gradebook_is_named_not_created(tmp_path):
    """With results but no gradebook.db, does export say so (and to run `grade`) instead of creating one?"""
    (tmp_path / CONFIG_FILE).write_text((ROOT / CONFIG_FILE).read_text())
    save_result(SubmissionResult("ada", ASSIGNMENT, "0"), tmp_path)
    with pytest.raises(FileNotFoundError, match="No nbgrader gradebook.*autograder grade"):
        export(tmp_path, ASSIGNMENT, tmp_path / "out")
    assert not (tmp_path / "gradebook.db").exists()
