"""Tests for autograder.results: the plain records every step after grading reads."""
import json

import pytest

from autograder.results import (Failure, ManualGrade, SubmissionResult, Flag, TestResult as Result, load_results,
                                require_results, save_result)


def sample(student="ada") -> SubmissionResult:
    return SubmissionResult(student, "toy", "f" * 64,
                            [Result("n.ipynb", "test_a", "Does a work?", 2.0, 2.0, True),
                             Result("n.ipynb", "test_b", "", 0.0, 1.0, False, "CheckFailed: b")],
                            [Failure("memory", "n.ipynb", "ran out of memory in cell 3 (MemoryError)")], 12.5,
                            [Flag("n.ipynb", "test_b", "was deleted; restored from the release")])


def test_a_result_survives_a_round_trip_through_its_file(tmp_path):
    """Does a saved result load back equal, tampering and failures included?"""
    save_result(sample(), tmp_path)
    assert load_results(tmp_path, "toy") == [sample()]


def test_the_record_states_score_status_reason_and_tampering(tmp_path):
    """Does the JSON record carry the derived score, status, reason and tampering in plain words?"""
    record = json.loads(save_result(sample(), tmp_path).read_text())
    assert (record["score"], record["max_score"], record["status"]) == (2.0, 3.0, "memory")
    assert record["reason"] == "n.ipynb: ran out of memory in cell 3 (MemoryError)"
    assert record["flagged"] == "n.ipynb: cell test_b was deleted; restored from the release"


def test_the_worst_failure_gives_the_status():
    """Is the status the worst failure kind, and 'graded' without failures?"""
    result = sample()
    result.failures.append(Failure("unreadable", "m.ipynb", "is missing from the submission"))
    assert result.status == "unreadable"
    assert SubmissionResult("ben", "toy", "f").status == "graded"


def test_records_written_before_tampering_existed_still_load(tmp_path):
    """Does a result file without a flags list load with none?"""
    record = sample().to_dict()
    del record["flags"]
    (tmp_path / "grading" / "toy").mkdir(parents=True)
    (tmp_path / "grading" / "toy" / "ada.json").write_text(json.dumps(record))
    assert load_results(tmp_path, "toy")[0].flags == []


def test_no_results_is_an_error_that_says_to_grade_first(tmp_path):
    """Does asking for results before grading name the command to run?"""
    with pytest.raises(FileNotFoundError, match="python -m autograder grade"):
        require_results(tmp_path, "toy")


def test_a_failure_of_the_grader_is_marked_and_survives_the_file(tmp_path):
    """Does a failure marked grader_fault make the result grader_fault, in the record and after loading?"""
    result = sample()
    assert not result.grader_fault
    result.failures.append(Failure("error", "", "the grader failed: RuntimeError: boom", grader_fault=True))
    record = json.loads(save_result(result, tmp_path).read_text())
    assert record["grader_fault"] is True and record["failures"][-1]["grader_fault"] is True
    assert load_results(tmp_path, "toy")[0].grader_fault


def test_records_written_before_grader_faults_were_marked_load_unmarked(tmp_path):
    """Does a result file whose failures lack grader_fault load as the student's own failures?"""
    record = sample().to_dict()
    for failure in record["failures"]:
        del failure["grader_fault"]
    (tmp_path / "grading" / "toy").mkdir(parents=True)
    (tmp_path / "grading" / "toy" / "ada.json").write_text(json.dumps(record))
    assert not load_results(tmp_path, "toy")[0].grader_fault


def test_the_total_counts_the_questions_graded_by_hand_pending_until_graded(tmp_path):
    """Is the total the autograded points plus the points given by hand, out of both maxima, with the
    ungraded questions' points pending, and does it survive the result file?"""
    result = sample()
    result.manual = [ManualGrade("q.ipynb", "question_1", 4.0), ManualGrade("q.ipynb", "question_2", 2.0, 1.5)]
    assert (result.score, result.max_score, result.pending) == (3.5, 9.0, 4.0)
    save_result(result, tmp_path)
    assert load_results(tmp_path, "toy") == [result]


def test_the_record_keeps_the_full_message_and_what_the_student_may_read(tmp_path):
    """Does the instructor's record of a hidden failure hold its whole message and, beside it, the student's text?"""
    result = sample()
    result.tests[1] = Result("n.ipynb", "test_b", "", 0.0, 1.0, False, "CheckFailed: b: got 1.5, expected 2.5", True)
    record = json.loads(save_result(result, tmp_path).read_text())["tests"][1]
    assert record["message"] == "CheckFailed: b: got 1.5, expected 2.5" and record["hidden"]
    assert "2.5" not in record["student_message"] and "check 'b' failed" in record["student_message"]
    assert load_results(tmp_path, "toy") == [result]


def test_the_notebooks_reused_survive_the_file_and_older_records_load_with_none(tmp_path):
    """Does a result keep the notebooks whose last outcome was reused, and a record written before load with none?"""
    result = sample()
    result.reused = ["m.ipynb"]
    record = json.loads(save_result(result, tmp_path).read_text())
    assert record["reused"] == ["m.ipynb"] and load_results(tmp_path, "toy") == [result]
    del record["reused"]
    (tmp_path / "grading" / "toy" / "ada.json").write_text(json.dumps(record))
    assert load_results(tmp_path, "toy")[0].reused == []
