"""Tests for autograder.release: the committed release is exactly nbgrader's generation of solutions/."""
import json
import shutil

import pytest

from autograder.course import ROOT, copy_course, release_notebooks, source_notebooks
from autograder.release import check_release, generate_release, release_differences


def test_committed_release_matches_a_fresh_generation():
    """Is assignment/ what nbgrader generates from solutions/ right now (no drift, no hand edits)?"""
    differences = check_release()
    assert differences == [], ("assignment/ is out of date, run `make release` and commit it:\n  "
                               + "\n  ".join(differences))


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    return generate_release(tmp_path_factory.mktemp("fresh"))


def test_release_strips_solutions_and_hidden_tests(fresh_release):
    """Does the release keep the stubs and visible tests but drop every solution and hidden test?"""
    for notebook in sorted(fresh_release.glob("*.ipynb")):
        text = notebook.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{notebook.name} still contains {marker}"
    layers = json.loads((fresh_release / "2_layers.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in layers["cells"]]
    assert any('raise NotImplementedError("Replace this line with your code")' in s for s in sources)
    assert not any("x.reshape(x.shape[0], -1) @ w + b" in s for s in sources)


def test_release_holds_every_source_notebook(fresh_release):
    """Does every reference notebook have its student copy, and nothing else ship?"""
    assert sorted(p.name for p in fresh_release.iterdir()) == sorted(p.name for p in source_notebooks().glob("*.ipynb"))


def test_drift_is_detected(tmp_path):
    """Is an edit to the solutions, or a hand edit to the release, reported as drift?"""
    course = copy_course(tmp_path / "course", with_release=True)
    notebook = source_notebooks(course) / "1_computational_graphs.ipynb"
    notebook.write_text(notebook.read_text().replace("The three gate patterns", "The gate patterns"))
    assert check_release(course) == ["1_computational_graphs.ipynb: differs from a fresh generation"]

    extra = release_notebooks(course) / "notes.txt"
    extra.write_text("hand-made")
    assert "notes.txt: only in the committed release" in check_release(course)


def test_release_differences_reports_missing_files(tmp_path):
    """Is a notebook missing from the committed release reported?"""
    committed, fresh = tmp_path / "committed", tmp_path / "fresh"
    shutil.copytree(release_notebooks(ROOT), committed)
    shutil.copytree(release_notebooks(ROOT), fresh)
    (committed / "5_solver.ipynb").unlink()
    assert release_differences(committed, fresh) == ["5_solver.ipynb: missing from the committed release"]
