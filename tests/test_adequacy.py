"""Tests for autograder.adequacy: every test catches the mistakes it should, and only those.

The first tests check the judging on made-up results. The last ones grade the real
adequacy class (reference, untouched release, every mutant): one case per student and
part, graded on demand (the cases a run selects, e.g. with -k, are graded together in one
parallel run per part). The quick part (marker `adequacy`) is in `make test`; the
training part (marker `adequacy_training`, about forty minutes on two cores) is `make
adequacy`. CI runs both: this is where it proves the assignment's tests adequate.
"""
import os

import pytest

from autograder.adequacy import (PARTS, REFERENCE, UNTOUCHED, coverage_table, graded_notebooks, judge,
                                 judge_mutant, pack, part_notebooks, run_adequacy, within)
from autograder.course import ROOT, source_notebooks
from autograder.quality.mutants import CATALOGUE, Mutant
from autograder.results import Failure, Flag, SubmissionResult
from autograder.results import TestResult as Result  # not a test class
from autograder.grading.scoring import autograded_tests

TESTS = ("test_a", "test_b", "test_c")
MUTANT = Mutant("m", "a mistake", "n.ipynb", "task_a", "x", "y", must_fail=("test_a", "test_b"), cause="transposed")


def result(student, failing=(), messages=None, failures=()):
    tests = [Result("n.ipynb", t, "", 0.0 if t in failing else 1.0, 1.0, t not in failing,
                        (messages or {}).get(t, "CheckFailed: wrong" if t in failing else "")) for t in TESTS]
    return SubmissionResult(student, "a", "f", tests, list(failures))


def test_a_mutant_failing_exactly_its_tests_with_the_cause_is_ok():
    """Is a mutant that fails exactly its declared tests, naming the cause, judged ok?"""
    verdict = judge_mutant(MUTANT, result("m", {"test_a", "test_b"}, {"test_a": "CheckFailed: dw looks transposed"}))
    assert verdict.ok, verdict.problems


@pytest.mark.parametrize("failing, messages, expected", [
    ({"test_a"}, {"test_a": "transposed"}, "test_b passed but must fail"),
    ({"test_a", "test_b", "test_c"}, {"test_a": "transposed"}, "test_c failed but must pass"),
    ({"test_a", "test_b"}, {"test_a": "CheckFailed: dw differs"}, "message does not say 'transposed'"),
])
def test_a_mutant_graded_otherwise_is_a_problem(failing, messages, expected):
    """Is a missed test, an extra failure, or a message without the cause each reported?"""
    verdict = judge_mutant(MUTANT, result("m", failing, messages))
    assert not verdict.ok and any(expected in problem for problem in verdict.problems), verdict.problems


def test_a_mutant_that_could_not_run_is_a_problem():
    """Does a mutant that timed out count as a problem, even if it failed the right tests?"""
    timed_out = result("m", {"test_a", "test_b"}, {"test_a": "transposed"}, [Failure("timeout", "", "ran too long")])
    assert any("could not run normally" in p for p in judge_mutant(MUTANT, timed_out).problems)


def test_reference_untouched_and_missing_submissions_are_judged():
    """Must the reference pass everything, the release score zero, and every mutant be graded?"""
    graded = {student: {"n.ipynb"} for student in [REFERENCE, UNTOUCHED] + [m.name for m in CATALOGUE]}
    verdicts = {v.student: v for v in judge([result(REFERENCE, {"test_c"}), result(UNTOUCHED, {"test_a"})], graded)}
    assert any("test_c failed" in p for p in verdicts[REFERENCE].problems)
    assert any("test_b earned 1 points" in p for p in verdicts[UNTOUCHED].problems)
    assert all(verdicts[m.name].problems == ["was not graded"] for m in CATALOGUE)


def test_every_mutant_declares_real_tests_and_a_cause():
    """Does each mutant name existing tests, the first one in its own notebook, and a cause to look for?"""
    tests = {grade_id: notebook for notebook, grade_id, _, _ in autograded_tests(source_notebooks())}
    assert len(CATALOGUE) >= 15
    for mutant in CATALOGUE:
        assert mutant.must_fail and mutant.cause, mutant.name
        assert set(mutant.must_fail) <= set(tests), mutant.name
        assert tests[mutant.must_fail[0]] == mutant.notebook, mutant.name
        assert len(set(mutant.must_fail)) == len(mutant.must_fail), mutant.name


def test_readme_table_matches_the_catalogue():
    """Is the README's table of tests, points and mutants the one the catalogue generates?"""
    assert coverage_table() in (ROOT / "README.md").read_text(), \
        "README.md is out of date: paste the output of `python -m autograder adequacy --table`"


def test_a_may_fail_test_may_fail_or_pass():
    """Is a test the mutant leaves to training noise accepted both ways, and the others still checked?"""
    noisy = Mutant("m", "", "n.ipynb", "task_a", "x", "y", must_fail=("test_a",), cause="c", may_fail=("test_c",))
    assert judge_mutant(noisy, result("m", {"test_a", "test_c"}, {"test_a": "c"})).ok
    assert judge_mutant(noisy, result("m", {"test_a"}, {"test_a": "c"})).ok
    assert not judge_mutant(noisy, result("m", {"test_a", "test_b"}, {"test_a": "c"})).ok


def test_the_tests_no_mutant_reaches_are_known():
    """Which autograded tests does no mutant fail? (A known list: coverage can grow, never shrink silently.)"""
    caught = {grade_id for mutant in CATALOGUE for grade_id in mutant.must_fail}
    uncaught = [grade_id for _, grade_id, _, _ in autograded_tests(source_notebooks()) if grade_id not in caught]
    assert uncaught == []


def test_a_mutant_is_judged_only_on_the_notebooks_it_was_graded_on():
    """Are tests and failures of notebooks a mutant was not graded on left out of its judgement?"""
    partial = SubmissionResult("m", "a", "f", result("m").tests + [Result("other.ipynb", "test_z", "", 0.0, 1.0,
                                                                           False, "not run")],
                               [Failure("unreadable", "other.ipynb", "is missing from the submission")])
    kept = within(partial, {"n.ipynb"})
    assert [t.grade_id for t in kept.tests] == list(TESTS) and kept.failures == []


def test_mutants_whose_notebooks_do_not_meet_share_a_submission():
    """Is every student submitted once, the reference and the release alone, and no two mutants of a
    submission on a common notebook (what each notebook loads is in its set)?"""
    graded = graded_notebooks(source_notebooks(), "quick")
    submissions = pack(graded)
    students = [student for members in submissions.values() for student in members]
    assert sorted(students) == sorted(graded)
    assert submissions[REFERENCE] == (REFERENCE,) and submissions[UNTOUCHED] == (UNTOUCHED,)
    for members in submissions.values():
        for number, student in enumerate(members):
            assert all(not graded[student] & graded[other] for other in members[number + 1:]), members
    assert len(submissions) <= len(graded) // 2 + 2, "the quick part's mutants are on three groups of notebooks"
    assert pack({"a": {"n1"}, "b": {"n1", "n2"}, "c": {"n3"}}) == {"mutants_01": ("b", "c"), "a": ("a",)}


def test_a_mutant_submitted_with_others_is_judged_on_its_own_notebooks():
    """Do another mutant's failures and flags, on notebooks this one was not graded on, leave it ok?"""
    other = Mutant("o", "another mistake", "other.ipynb", "task_z", "x", "y", must_fail=("test_z",), cause="swapped")
    tests = result("packed", {"test_a", "test_b"}, {"test_a": "CheckFailed: dw looks transposed"}).tests
    tests.append(Result("other.ipynb", "test_z", "", 0.0, 1.0, False, "CheckFailed: swapped"))
    packed = SubmissionResult("mutants_01", "a", "f", tests, [Failure("error", "other.ipynb", "its kernel died")],
                              flags=[Flag("other.ipynb", "task_z", "was deleted; restored from the release")])
    graded = {"m": {"n.ipynb"}, "o": {"other.ipynb"}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("autograder.adequacy.CATALOGUE", [MUTANT, other])
        verdicts = {v.student: v for v in judge([packed], graded, {"mutants_01": ("m", "o")})}
    assert verdicts["m"].ok, verdicts["m"].problems
    assert not verdicts["o"].ok and any("falsely flagged" in p for p in verdicts["o"].problems)
    assert any("could not run normally" in p for p in verdicts["o"].problems)


def test_the_parts_split_the_notebooks_and_together_grade_every_mutant():
    """Do quick and training cover every tested notebook once, and the parts grade every mutant where it reaches?"""
    quick, training, downstream = (part_notebooks(source_notebooks(), part) for part in PARTS)
    assert training == downstream == {"6_training_cifar10.ipynb", "7_hyperparameter_search.ipynb"}
    assert quick | training == part_notebooks(source_notebooks(), None) and not quick & training
    parts = dict(zip(PARTS, (graded_notebooks(source_notebooks(), part) for part in PARTS)))
    everything = graded_notebooks(source_notebooks())
    for mutant in CATALOGUE:
        assert set().union(*(graded.get(mutant.name, set()) for graded in parts.values())) == everything[mutant.name]
    assert set(parts["training"]) == {REFERENCE, UNTOUCHED} | {m.name for m in CATALOGUE if m.notebook in training}
    assert REFERENCE not in parts["downstream"] and "dw_not_transposed" in parts["downstream"]
    assert "2_layers.ipynb" not in parts["quick"]["mul_gate_no_swap"] and "mul_gate_no_swap" not in parts["training"]
    assert parts["quick"]["sigmoid_overflows"] == {"2_layers.ipynb"}   # notebook 4 loads no activation but ReLU


def _selected(session) -> dict[str, set[str]]:
    """part -> the students whose adequacy cases this run selected."""
    chosen = {}
    for item in session.items:
        if getattr(item, "originalname", "") == "test_graded_as_it_must_be":
            chosen.setdefault(item.callspec.params["part"], set()).add(item.callspec.params["student"])
    return chosen


@pytest.fixture(scope="session")
def adequacy_judgements(request, tmp_path_factory):
    """part -> student -> Judgement, graded once per part for the cases selected."""
    from nn_helpers.data import find_cifar10_dir
    try:
        find_cifar10_dir()
    except FileNotFoundError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"CIFAR-10 is not set up: {error}")
    judgements = {}
    for part, students in _selected(request.session).items():
        folder = tmp_path_factory.mktemp(f"adequacy-{part}") / "course"
        judgements[part] = {j.student: j for j in run_adequacy(folder, part=part, students=students)}
    return judgements


MARKS = {"quick": pytest.mark.adequacy, "training": pytest.mark.adequacy_training,
         "downstream": pytest.mark.adequacy_downstream}
CASES = [pytest.param(part, student, marks=MARKS[part], id=f"{part}-{student}")
         for part in PARTS for student in graded_notebooks(source_notebooks(), part)]


@pytest.mark.sandbox
@pytest.mark.parametrize("part, student", CASES)
def test_graded_as_it_must_be(adequacy_judgements, part, student):
    """Is this submission of the adequacy class graded exactly as it must be, in this part (see adequacy.py)?"""
    judgement = adequacy_judgements[part][student]
    assert judgement.ok, f"{student} must get {judgement.expected}:\n  " + "\n  ".join(judgement.problems)
