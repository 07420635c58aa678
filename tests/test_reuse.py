"""Tests for autograder.grading.reuse: the kept outcome of each notebook, reused only while it is sound."""
import json

import nbformat
from nbformat.v4 import new_notebook

from autograder.grading.reuse import NotebookOutcome, load_outcomes, outcomes_path, reusable, save_outcomes, \
    stray_files
from autograder.results import Failure, Flag, SubmissionResult, TestResult as Result  # not a test class

EXECUTED = nbformat.writes(new_notebook())


def outcome(name, key="k1"):
    return NotebookOutcome(key, EXECUTED, [Result(name, "test_a", "Does a?", 1.0, 1.0, True)],
                           [Flag(name, "test_a", "passed in the notebook but failed when the grader ran the test")],
                           cpu_seconds=12.5, trusted_seconds=0.5)


def result(*failures):
    return SubmissionResult("ada", "toy", "fingerprint", failures=list(failures))


def test_kept_outcomes_come_back_as_they_were(tmp_path):
    """Does a kept outcome load back equal, and is it reusable only under its key and with its notebook's tests?"""
    kept = {"a.ipynb": outcome("a.ipynb"), "b.ipynb": outcome("b.ipynb")}
    save_outcomes(tmp_path, "toy", result(), kept)
    loaded = load_outcomes(tmp_path, "toy", "ada")
    assert loaded == kept
    tests = {"a.ipynb": ["test_a"], "b.ipynb": ["test_a"]}
    assert list(reusable(loaded, {"a.ipynb": "k1", "b.ipynb": "k2"}, tests)) == ["a.ipynb"]
    assert reusable(loaded, {"a.ipynb": "k1"}, {"a.ipynb": ["test_a", "test_b"]}) == {}


def test_nothing_is_kept_after_a_stopped_run_or_a_fault_of_the_grader(tmp_path):
    """Does a result with a failure of the whole submission, or the grader's fault, leave no outcome kept?"""
    kept = {"a.ipynb": outcome("a.ipynb")}
    for failure in (Failure("timeout", "", "used more than 900 s of CPU time"),
                    Failure("error", "b.ipynb", "the grader could not run the tests", grader_fault=True)):
        save_outcomes(tmp_path, "toy", result(), kept)
        save_outcomes(tmp_path, "toy", result(failure), kept)
        assert not outcomes_path(tmp_path, "toy", "ada").exists()
        assert load_outcomes(tmp_path, "toy", "ada") == {}


def test_a_corrupt_file_or_outcome_counts_as_absent(tmp_path):
    """Does a truncated file, another format, an edited outcome or an executed notebook that is not one mean
    'grade again' (for that notebook only, where the file is sound), never an error?"""
    path = outcomes_path(tmp_path, "toy", "ada")
    save_outcomes(tmp_path, "toy", result(), {"a.ipynb": outcome("a.ipynb"), "b.ipynb": outcome("b.ipynb")})
    sound = path.read_text()
    path.write_text(sound[: len(sound) // 2])
    assert load_outcomes(tmp_path, "toy", "ada") == {}
    path.write_text(json.dumps({**json.loads(sound), "format": 99}))
    assert load_outcomes(tmp_path, "toy", "ada") == {}

    record = json.loads(sound)
    record["notebooks"]["a.ipynb"]["tests"][0]["points"] = 0.0
    path.write_text(json.dumps(record))
    assert list(load_outcomes(tmp_path, "toy", "ada")) == ["b.ipynb"]

    broken = outcome("b.ipynb")
    broken.executed = '{"cells": ['
    record["notebooks"]["b.ipynb"] = broken.to_dict()
    path.write_text(json.dumps(record))
    assert load_outcomes(tmp_path, "toy", "ada") == {}
    path.write_text("[1, 2]")
    assert load_outcomes(tmp_path, "toy", "ada") == {}


def test_files_a_run_left_beside_its_notebooks_are_found(tmp_path):
    """Are files the notebooks wrote found, but not the notebooks, the saved models, bytecode or copied files?"""
    submitted, autograded = tmp_path / "submitted", tmp_path / "autograded"
    for folder in (submitted, autograded):
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "helper.py").write_text("x = 1")
        (folder / "a.ipynb").write_text("{}")
    for name in ("best_model.npz", "__pycache__/helper.pyc", "scores.npy", "data/cache.txt"):
        (autograded / name).parent.mkdir(exist_ok=True)
        (autograded / name).write_text("")
    assert stray_files(autograded, [submitted]) == ["data/cache.txt", "scores.npy"]
