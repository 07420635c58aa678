"""Tests for nn_helpers.notebook_import: using one notebook's functions from another."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nn_helpers.notebook_import import load_from_notebook


def answer_cell(source):
    return new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "a",
                                                        "locked": False, "schema_version": 3}})


def write_notebook(path, cells):
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_loads_answer_and_export_cells_only(tmp_path):
    """Are answer cells and `export` cells run, in order, and other cells (tests, training) skipped?"""
    write_notebook(tmp_path / "a.ipynb", [
        new_markdown_cell("# title"),
        new_code_cell("SCALE = 3", metadata={"tags": ["export"]}),
        answer_cell("def triple(x):\n    return SCALE * np.asarray(x)"),
        new_code_cell("raise RuntimeError('a test or a training run must not be executed')"),
    ])
    triple = load_from_notebook(tmp_path / "a.ipynb", "triple")
    assert triple(2) == 6


def test_returns_a_tuple_for_several_names(tmp_path):
    """Do several names come back as a tuple in the order asked?"""
    write_notebook(tmp_path / "a.ipynb", [answer_cell("def f(): return 1\ndef g(): return 2")])
    f, g = load_from_notebook(tmp_path / "a.ipynb", "f", "g")
    assert (f(), g()) == (1, 2)


def test_missing_name_says_what_to_complete(tmp_path):
    """Does asking for an undefined name fail naming the notebook and the name?"""
    write_notebook(tmp_path / "a.ipynb", [answer_cell("def f(): return 1")])
    with pytest.raises(ImportError, match=r"a\.ipynb defines no affine_forward"):
        load_from_notebook(tmp_path / "a.ipynb", "f", "affine_forward")


def test_failing_cell_names_notebook_and_cell(tmp_path):
    """Does an error in a loaded cell name the notebook, the cell by heading and grade_id, and the error?"""
    write_notebook(tmp_path / "a.ipynb", [new_markdown_cell("## Task 1.1: Gates"), answer_cell("1 / 0")])
    with pytest.raises(ImportError, match=r"a\.ipynb, Task 1\.1 answer cell \(`a`\), failed while being loaded: "
                                          r"ZeroDivisionError"):
        load_from_notebook(tmp_path / "a.ipynb", "f")


def test_a_syntax_error_names_its_line(tmp_path):
    """Does a syntax error in a loaded cell say which line of which cell, as the student sees them?"""
    write_notebook(tmp_path / "a.ipynb", [new_markdown_cell("## Task 5.2: Solver"),
                                          answer_cell("x = 1\ndef f():\nreturn 1\n")])
    with pytest.raises(ImportError, match=r"a\.ipynb, Task 5\.2 answer cell \(`a`\), failed while being loaded: "
                                          r"IndentationError: expected an indented block .* at line 3\."):
        load_from_notebook(tmp_path / "a.ipynb", "f")


def test_missing_and_unreadable_notebooks(tmp_path):
    """Are a missing file and a corrupt notebook reported as such?"""
    with pytest.raises(FileNotFoundError, match="Keep all notebooks of the assignment in the same folder"):
        load_from_notebook(tmp_path / "nope.ipynb", "f")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(ImportError, match="not a readable notebook"):
        load_from_notebook(tmp_path / "bad.ipynb", "f")


def test_stubs_load_and_fail_loudly_when_called(tmp_path):
    """Does an unfinished stub load fine and raise NotImplementedError only when called?"""
    write_notebook(tmp_path / "a.ipynb", [answer_cell("def f():\n    raise NotImplementedError('todo')")])
    f = load_from_notebook(tmp_path / "a.ipynb", "f")
    with pytest.raises(NotImplementedError):
        f()


def test_list_sources_are_joined(tmp_path):
    """Does a cell source stored as a list of lines (as Jupyter writes it) load?"""
    path = tmp_path / "a.ipynb"
    write_notebook(path, [answer_cell("")])
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] = ["def f():\n", "    return 5\n"]
    path.write_text(json.dumps(notebook))
    assert load_from_notebook(path, "f")() == 5
