"""Tests for autograder.grading.nbgrader_run: nbgrader's run of every notebook, or of some, and its log."""
import fnmatch
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.course import release_notebooks
from autograder.grading.nbgrader_run import failures_in_log, notebook_ids, place_neighbours
from autograder.grading.submission import GradeTask

REAL = sorted(p.name for p in release_notebooks().glob("*.ipynb"))


def test_nbgrader_log_reveals_dead_kernels_and_crashes():
    """Are a dead kernel and a failing nbgrader run recognised from nbgrader's log?"""
    log = ("[AutogradeApp | INFO] Converting notebook /tmp/c/submitted/gus/toy/squares.ipynb\n"
           "[AutogradeApp | ERROR] There was an error processing assignment\n"
           "nbclient.exceptions.DeadKernelError: Kernel died\n")
    dead = failures_in_log(log, 1)
    assert [(f.kind, f.notebook) for f in dead] == [("kernel died", "squares.ipynb")]
    crash = failures_in_log("line 1\nline 2\nTraceback: boom", 1)
    assert crash[0].kind == "error" and "boom" in crash[0].detail
    assert failures_in_log("all fine", 0) == []


def test_one_glob_runs_exactly_the_notebooks_asked_for_when_one_does():
    """Is one nbgrader notebook id (a glob) used when one matches exactly the notebooks to run, and one id per
    notebook, escaped, otherwise?"""
    assert notebook_ids(["7_hyperparameter_search.ipynb", "6_training_cifar10.ipynb"], REAL) == ["[67]*"]
    assert notebook_ids(["4_two_layer_net.ipynb"], REAL) == ["4_two_layer_net"]
    both = ["a_one.ipynb", "a_two.ipynb"]
    assert notebook_ids(both, both + ["b.ipynb"]) == ["a_one", "a_two"]
    assert notebook_ids(["x.ipynb", "y.ipynb"], ["x.ipynb", "y.ipynb", "yz.ipynb"]) == ["x", "y"]
    odd = ["[1] x.ipynb", "y?.ipynb"]
    assert notebook_ids(odd, odd) == ["[[]1] x", "y[?]"]
    assert all(fnmatch.fnmatchcase(name[:-len(".ipynb")], notebook_id)
               for name, notebook_id in zip(odd, notebook_ids(odd, odd)))


def test_neighbours_are_placed_without_outputs(tmp_path):
    """Are the notebooks that are not run copied where nbgrader runs the others, their cells as submitted but
    with no outputs or execution counts (nothing the student's notebook showed is taken as a run)?"""
    task = GradeTask("ada", "toy", "", str(tmp_path), "", "")
    submitted = tmp_path / "submitted" / "ada" / "toy"
    submitted.mkdir(parents=True)
    ran = new_code_cell("def f():\n    return 1", execution_count=4, outputs=[new_output("stream", text="1\n")])
    nbformat.write(new_notebook(cells=[new_markdown_cell("# A"), ran]), submitted / "a.ipynb")
    place_neighbours(tmp_path, task, ["a.ipynb"])
    placed = nbformat.read(tmp_path / "autograded" / "ada" / "toy" / "a.ipynb", as_version=4)
    assert [c.source for c in placed.cells] == ["# A", "def f():\n    return 1"]
    assert (placed.cells[1].outputs, placed.cells[1].execution_count) == ([], None)


def test_starting_nbgrader_builds_no_grammar():
    """Does nbgrader start without importing rfc3987-syntax (which jsonschema 4.24+ imports, building a grammar
    for about 1.5 s of CPU in every grading run: requirements.txt pins jsonschema below it)?"""
    probe = "import sys, nbgrader.apps.autogradeapp; print(sorted(m for m in sys.modules if m.startswith('rfc3987')))"
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]", f"nbgrader imported {imported.strip()}: is jsonschema pinned as requirements.txt says?"
