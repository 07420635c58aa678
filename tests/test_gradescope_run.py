"""Tests for autograder.gradescope_run: a Gradescope submission becomes a one-student course, and always a result.

Grading itself is the `grade` step's (tests/test_grade.py); here it is replaced by stand-ins
so that what happens around it (finding notebooks, the sandbox decision, failures) is fast
to check. tests/test_gradescope.py runs the real thing end to end.
"""
import json
import os
from pathlib import Path

import pytest

from autograder import gradescope_run
from autograder.course import copy_course
from autograder.grade import SandboxUnavailable
from autograder.gradescope_run import Layout, collect_notebooks, grade_submission, load_config

EXPECTED = ["1_a.ipynb", "2_b.ipynb"]


def touch(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_notebooks_are_found_in_subfolders_and_checkpoints_are_skipped(tmp_path):
    """Is a notebook in a subfolder graded, and a Jupyter checkpoint copy of it never?"""
    graded = touch(tmp_path / "hw" / "1_a.ipynb")
    touch(tmp_path / "hw" / ".ipynb_checkpoints" / "1_a.ipynb")
    touch(tmp_path / "__MACOSX" / "hw" / "2_b.ipynb")
    found, notes = collect_notebooks(tmp_path, EXPECTED)
    assert found == {"1_a.ipynb": graded} and notes == []


def test_the_shallowest_copy_of_a_name_wins_and_the_others_are_named(tmp_path):
    """With two copies of a notebook, is the shallower graded and the other named in a note?"""
    top = touch(tmp_path / "2_b.ipynb")
    touch(tmp_path / "old" / "2_b.ipynb")
    found, notes = collect_notebooks(tmp_path, EXPECTED)
    assert found == {"2_b.ipynb": top}
    assert notes == ["old/2_b.ipynb was not graded: 2_b.ipynb has the same name."]


def test_unknown_notebooks_and_links_are_not_graded_and_the_note_lists_the_expected_names(tmp_path):
    """Are a notebook of another name and a link left out, the note naming them and the expected names?"""
    touch(tmp_path / "1_a (1).ipynb")
    (tmp_path / "2_b.ipynb").symlink_to(touch(tmp_path.parent / "elsewhere.ipynb"))
    found, notes = collect_notebooks(tmp_path, EXPECTED)
    assert found == {}
    assert notes == ["Not graded: 1_a (1).ipynb, 2_b.ipynb (a link). The notebooks graded are: 1_a.ipynb, 2_b.ipynb."]


def test_paths_follow_gradescope_under_a_root_that_the_environment_may_move():
    """Are the paths Gradescope's /autograder ones, and all under AUTOGRADER_ROOT when it is set?"""
    assert Layout.from_env({}).results == Path("/autograder/results/results.json")
    layout = Layout.from_env({"AUTOGRADER_ROOT": "/tmp/fake"})
    assert [str(p) for p in (layout.source, layout.submission, layout.results)] == [
        "/tmp/fake/source", "/tmp/fake/submission", "/tmp/fake/results/results.json"]
    assert "grading" in layout.course.relative_to(layout.source).parts   # hidden from submissions by the sandbox


def test_a_zip_without_its_settings_says_how_to_build_one(tmp_path):
    """Does a missing gradescope_config.json name the command that writes it?"""
    with pytest.raises(FileNotFoundError, match="python -m autograder gradescope"):
        load_config(tmp_path)


@pytest.fixture
def layout(tmp_path):
    """A Gradescope root whose course is prepared already (a stand-in gradebook) and one submitted notebook."""
    layout = Layout(tmp_path / "autograder")
    copy_course(layout.source, with_release=True)
    touch(copy_course(layout.course, with_release=True) / "gradebook.db", "")
    touch(layout.submission / "1_computational_graphs.ipynb")
    return layout


def config(allow_no_sandbox):
    return {"assignment": "two_layer_net", "allow_no_sandbox": allow_no_sandbox,
            "limits": {"cpu_seconds": 60.0, "memory_bytes": 2 ** 30, "test_seconds": 5.0}}


def no_sandbox_here(calls):
    def grade(course, assignment, limits, **kwargs):
        calls.append((limits.sandbox, sorted(p.name for p in (course / "submitted" / "student" / assignment).iterdir())))
        if limits.sandbox:
            raise SandboxUnavailable("Submissions are untrusted code and run in a sandbox, which cannot be made here: "
                                     "namespaces are not allowed.")
        return ["graded without the sandbox"]
    return grade


def test_without_a_sandbox_the_submission_scores_zero_saying_why(layout, monkeypatch):
    """Where no sandbox can be made, and the zip does not allow grading without it, is every test zero, with why?"""
    calls = []
    monkeypatch.setattr(gradescope_run, "grade", no_sandbox_here(calls))
    result, notes, instructor = grade_submission(layout, config(allow_no_sandbox=False))
    assert calls == [(True, ["1_computational_graphs.ipynb"])]
    assert result.score == 0 and result.max_score > 0 and result.status == "error"
    assert all("could not make its sandbox" in t.message for t in result.tests)
    assert "namespaces are not allowed" in instructor[0] and "--allow-no-sandbox" in instructor[0]


def test_a_zip_built_to_allow_it_grades_without_the_sandbox_and_says_so(layout, monkeypatch):
    """With --allow-no-sandbox, is the submission graded again without the sandbox, with a note for the instructor?"""
    calls = []
    monkeypatch.setattr(gradescope_run, "grade", no_sandbox_here(calls))
    result, _, instructor = grade_submission(layout, config(allow_no_sandbox=True))
    assert [sandbox for sandbox, _ in calls] == [True, False] and result == "graded without the sandbox"
    assert instructor[0].startswith("Graded without the sandbox") and "namespaces are not allowed" in instructor[0]


def test_a_failure_of_the_grader_still_gives_a_zero_result_and_tells_the_instructor(layout, monkeypatch):
    """If grading itself raises, is there still a zero result for every test, the error kept for the instructor?"""
    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(gradescope_run, "grade", broken)
    result, _, instructor = grade_submission(layout, config(allow_no_sandbox=False))
    assert result.score == 0 and all("the autograder itself failed (OSError)" in t.message for t in result.tests)
    assert instructor == ["The autograder failed: OSError: disk full"]
    assert "disk full" not in " ".join(t.message for t in result.tests)


def test_the_prepared_course_is_not_changed_by_grading(layout, monkeypatch):
    """Does grading work on a copy, leaving the prepared course without submissions for the next run?"""
    monkeypatch.setattr(gradescope_run, "grade", no_sandbox_here([]))
    grade_submission(layout, config(allow_no_sandbox=True))
    assert not (layout.course / "submitted").exists()
    assert os.listdir(layout.course / "solutions" / "two_layer_net")


def test_a_results_file_is_written_even_when_no_result_can_be_made(layout, monkeypatch):
    """If grading fails before any result exists, is there still a results.json with zero points, and an error?"""
    def broken(*args, **kwargs):
        raise RuntimeError("nbgrader is not installed")
    monkeypatch.setattr(gradescope_run, "grade_submission", broken)
    monkeypatch.setenv("AUTOGRADER_ROOT", str(layout.root))
    (layout.source / "gradescope_config.json").write_text(json.dumps(config(allow_no_sandbox=False)))
    with pytest.raises(RuntimeError):
        gradescope_run.main([])
    record = json.loads(layout.results.read_text())
    assert record["score"] == 0 and record["tests"] == [] and "RuntimeError" in record["output"]
