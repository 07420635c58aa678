"""Tests for autograder.grading.notebook_keys: what each notebook's outcome depends on, found without running it."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.course import release_notebooks
from autograder.grading.notebook_keys import context_key, dependencies, must_run, notebook_keys, read_code, \
    run_together

ASSIGNMENT = {"a.ipynb", "b.ipynb", "c.ipynb"}


def code(*sources):
    return read_code([new_code_cell(source) for source in sources], ASSIGNMENT)


def test_the_real_assignment_loads_as_its_notebooks_say():
    """Do 6 and 7 depend on 4 and 5 (and on 2 through 4), 4 and 3 on 2, and the others on nothing?"""
    names = sorted(p.name for p in release_notebooks().glob("*.ipynb"))
    codes = {name: read_code(nbformat.read(release_notebooks() / name, as_version=4).cells, set(names))
             for name in names}
    found = {name[0]: sorted(other[0] for other in loaded) for name, loaded in dependencies(codes).items()}
    assert found == {"1": [], "2": [], "3": ["2"], "4": ["2"], "5": [], "6": ["2", "4", "5"], "7": ["2", "4", "5"]}
    assert must_run({"7_hyperparameter_search.ipynb"}, codes) == {"7_hyperparameter_search.ipynb"}


def test_notebook_names_are_found_in_any_string_of_the_code():
    """Is a notebook named in load_from_notebook, in %run or in any string found, and another file's name kept apart?"""
    found = code('f = load_from_notebook("a.ipynb", "f")', "%run b.ipynb", 'np.savez("model.npz", w=1)\nprint("x.ipynb")')
    assert (found.notebooks, found.files, found.dynamic) == ({"a.ipynb", "b.ipynb"}, {"model.npz"}, False)


def test_a_computed_notebook_name_or_a_cell_that_is_not_python_depends_on_every_notebook():
    """Does load_from_notebook of a name built at run time, or a cell that cannot be parsed, count as loading
    every notebook (transitively too)?"""
    assert code('name = "a" + ".ipynb"\nf = load_from_notebook(name, "f")').dynamic
    assert code("def f(:\n    pass").dynamic
    codes = {"a.ipynb": code("x = 1"), "b.ipynb": code("def f(:"), "c.ipynb": code('load_from_notebook("b.ipynb")')}
    assert dependencies(codes) == {"a.ipynb": set(), "b.ipynb": {"a.ipynb", "c.ipynb"},
                                   "c.ipynb": {"a.ipynb", "b.ipynb"}}


def test_notebooks_that_name_the_same_file_run_together():
    """Do notebooks whose code names the same file run together, and does a notebook that runs take along the
    later notebooks it names (in a full run they would not be there yet)?"""
    codes = {"a.ipynb": code('np.savez("w.npz")'), "b.ipynb": code('load_from_notebook("c.ipynb")'),
             "c.ipynb": code('w = np.load("w.npz")')}
    assert run_together(codes)["a.ipynb"] == {"a.ipynb", "c.ipynb"}
    assert must_run({"a.ipynb"}, codes) == {"a.ipynb", "c.ipynb"}
    assert must_run({"b.ipynb"}, codes) == {"a.ipynb", "b.ipynb", "c.ipynb"}
    assert must_run(set(), codes) == set()


def write(folder, name, *cells):
    nbformat.write(new_notebook(cells=list(cells)), folder / name)


def test_a_key_changes_with_the_notebook_and_the_code_it_loads_only(tmp_path):
    """Does editing a notebook change its key and those of the notebooks that load it, a markdown edit its own
    key only, new outputs no key, and a missing notebook the keys of those that load it?"""
    write(tmp_path, "a.ipynb", new_markdown_cell("# A"), new_code_cell("def f():\n    return 1"))
    write(tmp_path, "b.ipynb", new_code_cell('f = load_from_notebook("a.ipynb", "f")'))
    write(tmp_path, "c.ipynb", new_code_cell("x = 2"))
    names = sorted(ASSIGNMENT)
    first, _ = notebook_keys(tmp_path, names, "context")

    run = nbformat.read(tmp_path / "a.ipynb", as_version=4)
    run.cells[1].outputs, run.cells[1].execution_count = [new_output("stream", text="1")], 3
    nbformat.write(run, tmp_path / "a.ipynb")
    assert notebook_keys(tmp_path, names, "context")[0] == first

    write(tmp_path, "a.ipynb", new_markdown_cell("# A, answered"), new_code_cell("def f():\n    return 1"))
    markdown, _ = notebook_keys(tmp_path, names, "context")
    assert [markdown[n] != first[n] for n in names] == [True, False, False]

    write(tmp_path, "a.ipynb", new_markdown_cell("# A"), new_code_cell("def f():\n    return 1  # now commented"))
    edited, _ = notebook_keys(tmp_path, names, "context")
    assert [edited[n] != first[n] for n in names] == [True, True, False]

    (tmp_path / "a.ipynb").unlink()
    missing, _ = notebook_keys(tmp_path, names, "context")
    assert [missing[n] != edited[n] for n in names] == [True, True, False]
    assert notebook_keys(tmp_path, names, "other context")[0]["c.ipynb"] != missing["c.ipynb"]


def test_the_context_holds_every_file_but_the_names_left_out(tmp_path):
    """Does the context change with any file of its folders (but the names left out and Jupyter's checkpoints), its
    single files and its words?"""
    release, submitted, config = tmp_path / "release", tmp_path / "submitted", tmp_path / "nbgrader_config.py"
    for folder in (release, submitted):
        folder.mkdir()
        (folder / "a.ipynb").write_text("{}")
    config.write_text("c = get_config()\n")

    def key(words="limits"):
        return context_key({release: set(), submitted: {"a.ipynb", "timestamp.txt"}}, [config], words)

    first = key()
    (submitted / ".ipynb_checkpoints").mkdir()
    (submitted / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    (submitted / "a.ipynb").write_text('{"edited": 1}')
    (submitted / "timestamp.txt").write_text("2026-11-20")
    assert key() == first
    assert key("other limits") != first
    (submitted / "helpers.py").write_text("x = 1")
    assert key() != first
    (submitted / "helpers.py").unlink()
    (release / "a.ipynb").write_text('{"edited": 1}')
    assert key() != first
    config.write_text("c = get_config()\nc.Execute.timeout = 5\n")
    assert key() != first
