"""The attack catalogue (autograder/quality/attacks.py): no attack may score more than honest code.

One grading run, through `grade` with its sandbox, of the honest submission and every
attack on it (notebook 1 of the real assignment: a few minutes). Every attack must score
no more than the honest code, be recorded (flagged, or failed for what the sandbox or the
grader stopped, or failed in a hidden part), harm no other submission and finish within its limits. The attacks on
the grader's own process are graded first, beside the honest submission.
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
from autograder.sandbox import WALL_FACTOR

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

HONEST = "honest"
CELL_TIMEOUT = 10
TRUSTED_BUDGET = 15   # seconds for all the tests of a submission in the grader: less than notebook 1's 4 x 10 s
FIRST = ("sleep_in_grader_calls", "segfault_array_interface", HONEST, "forged_array_reply", "kill_grader", "huge_reply")
# Three submissions at once on two cores: the attack that sleeps holds one slot for its wall-clock backstop
# (WALL_FACTOR x TRUSTED_BUDGET) without computing, so it starts first and the others go on beside it.
WORKERS = 3


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
        if attack and attack.folder:
            attack.folder(folder)


@pytest.fixture(scope="session")
def attack_results(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("attacks") / "course", ROOT)
    with open(course / CONFIG_FILE, "a") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force"], course)
    build_attack_class(course)
    limits = Limits(cpu_seconds=180, memory_bytes=2 * 2 ** 30, test_seconds=CELL_TIMEOUT, trusted_seconds=TRUSTED_BUDGET)
    results = grade(course, ASSIGNMENT_ID, limits, workers=WORKERS, progress=False,
                    cifar10_dir=str(tmp_path_factory.mktemp("nodata")), first=FIRST)
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
    assert {"segfault_array_interface", "forged_array_reply", "kill_grader", "exit_in_grader_calls",
            "sleep_in_grader_calls", "huge_reply", "sparse_file", "oversize_notebook", "many_cells", "huge_cell"} <= names


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
    if attack.message:
        messages = [t.message for t in result.tests if t.notebook == NOTEBOOK and not t.passed]
        assert any(attack.message in message for message in messages), messages


def test_no_attack_kills_a_grading_process_or_trips_the_grader(attack_results):
    """Did every submission get its grade in the process grading it (no crash to retry alone, no grader fault)?"""
    for student, result in attack_results.items():
        assert not result.grader_fault and "grading process died" not in result.reason, (student, result.reason)


def test_sleeping_in_the_graders_calls_costs_no_more_than_the_budget(attack_results):
    """Does the attack that sleeps in every call the grader makes finish within the trusted budget's wall-clock
    backstop (and a margin) of the honest submission's time, its tests past the budget failing at once, saying why?
    (Sleeping spends no CPU time: the backstop, WALL_FACTOR budgets of wall-clock time, is what stops it.)"""
    result, honest = attack_results["sleep_in_grader_calls"], attack_results[HONEST]
    assert result.seconds <= honest.seconds + WALL_FACTOR * TRUSTED_BUDGET + 20, (result.seconds, honest.seconds)
    kinds = [t.message.partition(":")[0] for t in result.tests if t.notebook == NOTEBOOK]
    assert kinds[0] == "TimeoutError" and set(kinds[1:]) == {"GraderBudgetSpent"}, kinds


def test_values_memorised_for_the_visible_inputs_fail_the_hidden_parts(attack_results):
    """Do sigmoid_circuit and matvec_l2, right for the visible tests' inputs only (zero gradients elsewhere),
    pass the visible parts and fail both tests in their hidden parts, which compare with the reference's values?"""
    result = attack_results["hardcode_visible_values"]
    failed = {t.grade_id: t for t in result.tests if t.notebook == NOTEBOOK and not t.passed}
    assert sorted(failed) == ["test_1_3_sigmoid_circuit", TESTED], [t.message for t in failed.values()]
    assert all(t.hidden and t.message.startswith("CheckFailed: f") for t in failed.values())
