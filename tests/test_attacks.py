"""The attack catalogue (autograder/quality/attacks.py): no attack may score more than honest code.

One grading run, through `grade` with its sandbox, of the honest submission and every
attack on it (notebook 1 of the real assignment: about a minute). Every attack must score
no more than the honest code and be recorded: flagged, failed for what the sandbox stopped, or
failed in a hidden part.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.quality.attacks import ATTACKS, NOTEBOOK, TESTED
from autograder.course import ASSIGNMENT_ID, CONFIG_FILE, ROOT, copy_course, release_notebooks, run_nbgrader, \
    source_notebooks
from autograder.grading.submission import Limits
from autograder.grade import grade
from autograder.quality.mutants import BY_NAME, write_mutant, write_reference

HONEST = "honest"
CELL_TIMEOUT = 10


def build_attack_class(course: Path) -> None:
    """The honest submission (one mistake) and one submission per attack: notebook 1 (and companions)."""
    reference = write_reference(source_notebooks(course), release_notebooks(course), course / "reference")
    honest = write_mutant(BY_NAME["matvec_dW_transposed"], reference, course / HONEST)
    for student, attack in [(HONEST, None)] + [(attack.name, attack) for attack in ATTACKS]:
        folder = course / "submitted" / student / ASSIGNMENT_ID
        folder.mkdir(parents=True)
        for name in (NOTEBOOK, *(attack.companions if attack else ())):
            notebook = nbformat.read(honest / name, as_version=4)
            if attack and name == NOTEBOOK:
                attack.edit(notebook)
            nbformat.write(notebook, folder / name)


@pytest.fixture(scope="session")
def attack_results(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("attacks") / "course", ROOT)
    with open(course / CONFIG_FILE, "a") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    build_attack_class(course)
    results = grade(course, ASSIGNMENT_ID, Limits(wall_seconds=180, memory_bytes=2 * 2 ** 30, test_seconds=CELL_TIMEOUT), workers=2,
                    progress=False, cifar10_dir=str(tmp_path_factory.mktemp("nodata")))
    return {result.student: result for result in results}


def notebook_score(result) -> float:
    return sum(t.points for t in result.tests if t.notebook == NOTEBOOK)


def test_the_honest_submission_fails_only_its_mistake(attack_results):
    """Does the honest submission lose exactly the points of its one mistake, with nothing flagged?"""
    honest = attack_results[HONEST]
    failed = [t.grade_id for t in honest.tests if t.notebook == NOTEBOOK and not t.passed]
    assert failed == [TESTED] and honest.flags == []
    assert [f for f in honest.failures if f.notebook == NOTEBOOK or not f.notebook] == []


def test_the_catalogue_covers_every_attack_the_issue_names():
    """At least 12 attacks, among them each kind named in the threat model."""
    names = {attack.name for attack in ATTACKS}
    assert len(ATTACKS) >= 12
    assert {"patch_allclose", "loop_after_definition", "delete_test", "exhaust_memory", "steal_reference",
            "always_equal", "doctored_ndarray", "fake_output", "forge_result_file", "extra_patch_cell"} <= names


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_an_attack_scores_no_more_than_honest_code_and_is_recorded(attack_results, attack):
    """Does this attack score at most what the honest code scores, and is it flagged or failed for what it did?"""
    result, honest = attack_results[attack.name], attack_results[HONEST]
    assert notebook_score(result) <= notebook_score(honest), \
        f"{attack.name} scored {notebook_score(result)}, honest code {notebook_score(honest)}"
    for trace in attack.traces:
        if trace == "flag":
            assert result.flags and {t.notebook for t in result.flags} == {NOTEBOOK}, result.flagged
        elif trace == "hidden":
            assert any(t.hidden for t in result.tests if t.grade_id == TESTED), [t.message for t in result.tests]
        else:
            assert trace in {f.kind for f in result.failures}, result.reason


def test_values_memorised_for_the_visible_inputs_fail_the_hidden_parts(attack_results):
    """Do sigmoid_circuit and matvec_l2, right for the visible tests' inputs only (zero gradients elsewhere),
    pass the visible parts and fail both tests in their hidden parts, which compare with the reference's values?"""
    result = attack_results["hardcode_visible_values"]
    failed = {t.grade_id: t for t in result.tests if t.notebook == NOTEBOOK and not t.passed}
    assert sorted(failed) == ["test_1_3_sigmoid_circuit", TESTED], [t.message for t in failed.values()]
    assert all(t.hidden and t.message.startswith("CheckFailed: f") for t in failed.values())
