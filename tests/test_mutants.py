"""Tests for autograder.quality.mutants: declared seeded-bug submissions."""
import nbformat
import pytest

from autograder.course import release_notebooks, source_notebooks
from autograder.quality.mutants import CATALOGUE, Mutant, MutantError, write_mutant, write_reference
from nbgrader.utils import is_solution

from autograder.grading.restore import restore_notebook


def cell_source(folder, notebook, grade_id):
    cells = nbformat.read(folder / notebook, as_version=4).cells
    return next(c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("mutant", CATALOGUE, ids=lambda m: m.name)
def test_each_mutant_changes_exactly_its_cell(mutant, tmp_path):
    """Does each mutant differ from the reference in its one answer cell, by its one edit?"""
    written = write_mutant(mutant, source_notebooks(), tmp_path / "m")
    before = cell_source(source_notebooks(), mutant.notebook, mutant.cell)
    after = cell_source(written, mutant.notebook, mutant.cell)
    assert after == before.replace(mutant.find, mutant.replace) != before
    for path in source_notebooks().glob("*.ipynb"):
        if path.name != mutant.notebook:
            assert (written / path.name).read_bytes() == path.read_bytes()


def test_names_are_unique():
    """Is every mutant named once?"""
    names = [m.name for m in CATALOGUE]
    assert len(names) == len(set(names))


def test_an_edit_that_does_not_apply_is_refused(tmp_path):
    """Is a mutant whose text is not in its cell an error, not a silent copy of the reference?"""
    stale = Mutant("stale", "x", "2_layers.ipynb", "task_2_1_affine_forward", "not in the cell", "y")
    with pytest.raises(MutantError, match="occurs 0 times"):
        write_mutant(stale, source_notebooks(), tmp_path / "m")
    wrong_cell = Mutant("wrong", "x", "2_layers.ipynb", "no_such_cell", "a", "b")
    with pytest.raises(MutantError, match="0 cells with grade_id 'no_such_cell'"):
        write_mutant(wrong_cell, source_notebooks(), tmp_path / "n")


def test_the_reference_submission_is_the_release_with_the_reference_answers(tmp_path):
    """Is the reference submitted as a student would (release cells, reference answers), with nothing to flag?"""
    written = write_reference(source_notebooks(), release_notebooks(), tmp_path / "reference")
    for path in sorted(release_notebooks().glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        submitted = nbformat.read(written / path.name, as_version=4)
        assert restore_notebook(submitted, release, path.name)[1] == []
        for before, after in zip(release.cells, submitted.cells):
            grade_id = before.metadata.get("nbgrader", {}).get("grade_id")
            expected = cell_source(source_notebooks(), path.name, grade_id) if is_solution(before) else before.source
            assert after.source == expected
