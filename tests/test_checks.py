"""Tests for nn_helpers.checks: the assertions of the notebooks' test cells."""
import numpy as np
import pytest

from nn_helpers.checks import (CheckFailed, all_equal, check_close, check_gradient, check_shape, check_true,
                               constant_ratio, equals, has_shape, matches, negated, offset_by, scaled_by, transposed,
                               GRADIENT_TOL, VALUE_TOL)


def test_close_values_pass():
    """Do values within the tolerance pass, scalars and arrays alike?"""
    check_close("x", 1.0 + 1e-9, 1.0)
    check_close("x", np.array([[1.0, 2.0]]) * (1 + 1e-8), [[1.0, 2.0]], VALUE_TOL)
    check_gradient("dx", np.zeros(3), np.zeros(3), GRADIENT_TOL)


def test_failure_names_output_index_values_and_tolerance():
    """Does a mismatch report the output's name, the worst index, both values and the tolerance?"""
    seen = np.array([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(CheckFailed) as failure:
        check_close("affine out", seen, [[1.0, 2.0], [3.0, 4.0]], tol=1e-6)
    message = str(failure.value)
    for part in ("affine out", "(1, 1)", "5.0", "4.0", "1e-06", "relative error 1.11e-01"):
        assert part in message


def test_gradient_failure_says_analytic_and_numeric():
    """Does a gradient mismatch label the two sides analytic and numeric?"""
    with pytest.raises(CheckFailed, match=r"dw: .* analytic 1\.0, numeric 2\.0"):
        check_gradient("dw", [1.0], [2.0])


def test_shape_mismatch_explains_transpose_and_reshape():
    """Does a wrong shape say which shape was expected, which was seen, and hint at the usual cause?"""
    with pytest.raises(CheckFailed, match=r"expected shape \(3, 2\), saw shape \(2, 3\)\. It looks transposed"):
        check_close("dw", np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(CheckFailed, match=r"expected shape \(4, 2, 3\), saw shape \(4, 6\)\. Same number of elements"):
        check_shape("dx", np.zeros((4, 6)), (4, 2, 3))
    with pytest.raises(CheckFailed, match="got None"):
        check_shape("dx", None, (4,))


def test_a_wrong_shape_names_the_likely_cause_that_matches():
    """Does check_shape name a known mistake whose shape matches what was seen, and no other?"""
    causes = {"no iteration 0": has_shape((5,)), "one entry too many": has_shape((7,))}
    with pytest.raises(CheckFailed, match=r"expected shape \(6,\), saw shape \(5,\)\.\n  Likely cause: no iteration 0$"):
        check_shape("val_acc_history", [0.5] * 5, (6,), likely_causes=causes)


def test_non_finite_values_suggest_overflow():
    """Does a NaN or inf fail with a hint about overflow, even where the expected value is finite?"""
    with pytest.raises(CheckFailed, match=r"non-finite value \(nan\) at index \(1,\).*Overflow"):
        check_close("loss", [0.5, np.nan], [0.5, 0.5])


def test_likely_causes_appear_only_when_they_match():
    """Is a known mistake named when its predicate matches, and silent when it does not?"""
    causes = {"divide by N": lambda seen, expected: np.allclose(seen, expected * 10),
              "wrong sign": lambda seen, expected: np.allclose(seen, -expected),
              "broken predicate": lambda seen, expected: seen.no_such_attribute}
    with pytest.raises(CheckFailed) as failure:
        check_close("dx", [10.0, 20.0], [1.0, 2.0], likely_causes=causes)
    message = str(failure.value)
    assert "Likely cause: divide by N" in message
    assert "wrong sign" not in message and "broken predicate" not in message


def test_check_true():
    """Does check_true pass on True and fail with the explanation on False?"""
    check_true("reg", True, "unused")
    with pytest.raises(CheckFailed, match="reg: should default to 0.0"):
        check_true("reg", False, "should default to 0.0")


def test_check_failed_is_an_assertion_error():
    """Is CheckFailed an AssertionError, so nbgrader and pytest count it as a failed test?"""
    assert issubclass(CheckFailed, AssertionError)


def test_a_passing_check_prints_one_line_of_what_it_measured(capsys):
    """Does each passing check print one line: its name and how close it came, never the values?"""
    check_gradient("affine dw", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2e-9]))
    check_close("loss", 3.25, 3.25)
    check_close("scores", [1.5, 2.5], [1.5, 2.5])
    check_shape("dx", np.zeros((4, 6)), (4, 6))
    check_true("reg", True, "unused")
    assert capsys.readouterr().out.splitlines() == [
        "ok  affine dw: matches the numeric gradient (max relative error 5.0e-10, tolerance 1e-06)",
        "ok  loss: matches the expected value (max relative error 0.0e+00, tolerance 1e-06)",
        "ok  scores: matches the expected values (max relative error 0.0e+00, tolerance 1e-06)",
        "ok  dx: shape (4, 6) as expected",
        "ok  reg: ok"]


def test_a_failing_check_prints_nothing(capsys):
    """Does a failure say everything in its message, with no passing line before it?"""
    with pytest.raises(CheckFailed):
        check_close("loss", 3.0, 2.0)
    with pytest.raises(CheckFailed):
        check_shape("dx", np.zeros(3), (4,))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("predicate, seen, expected", [
    (scaled_by(2.0), [2.0, -4.0], [1.0, -2.0]),
    (scaled_by(0.5), [0.5, -1.0], [1.0, -2.0]),
    (negated(), [-1.0, 2.0], [1.0, -2.0]),
    (transposed(), [[1.0, 3.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]),
    (constant_ratio(), [3.0, -6.0, 9.0], [1.0, -2.0, 3.0]),
    (equals(0.25), 0.25, 0.5),
    (offset_by([1.0, 1.0]), [2.0, 3.0], [1.0, 2.0]),
    (all_equal(), [0.3, 0.3, 0.3], [0.1, 0.2, 0.3]),
    (has_shape((3,)), [1.0, 2.0, 3.0], [1.0, 2.0]),
])
def test_each_predicate_recognises_its_mistake(predicate, seen, expected):
    """Does each predicate match the mistake it is named for?"""
    assert predicate(np.asarray(seen, dtype=float), np.asarray(expected, dtype=float))


@pytest.mark.parametrize("predicate, seen, expected", [
    (scaled_by(2.0), [2.0, -4.1], [1.0, -2.0]),        # nearly twice: another mistake
    (scaled_by(2.0), [0.0, 0.0], [0.0, 0.0]),          # zero is every multiple of zero
    (negated(), [1.0, 2.0], [1.0, -2.0]),              # one sign flipped, not all
    (transposed(), [[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]]),
    (constant_ratio(), [3.0, -6.0, 9.5], [1.0, -2.0, 3.0]),
    (constant_ratio(), [1.0, -2.0, 3.0], [1.0, -2.0, 3.0]),   # a ratio of 1 is no mistake
    (constant_ratio(), [3.0], [1.0]),                  # one value always has a constant ratio
    (equals(0.25), 0.3, 0.5),
    (offset_by([1.0, 1.0]), [2.0, 2.0], [1.0, 2.0]),
    (all_equal(), [0.3, 0.3, 0.2], [0.1, 0.2, 0.3]),
    (all_equal(), [0.3], [0.1]),
    (has_shape((3,)), [1.0, 2.0], [1.0, 2.0]),
    (has_shape((2,)), [1.0, 2.0], [1.0, 3.0]),         # the shape expected: a wrong value is another mistake
])
def test_each_predicate_rejects_what_is_not_its_mistake(predicate, seen, expected):
    """Is a near miss, a single value or a degenerate input not taken for the mistake?"""
    assert not predicate(np.asarray(seen, dtype=float), np.asarray(expected, dtype=float))


def test_matches_is_loose_enough_for_numeric_gradients_and_strict_on_shapes():
    """Do values a numeric estimate's error apart match, and arrays of other shapes never?"""
    assert matches([1.0, 2.0], [1.0 + 1e-7, 2.0])
    assert not matches([1.0, 2.0], [1.0, 2.01])
    assert not matches(np.zeros((2, 3)), np.zeros((3, 2)))


def test_a_predicate_names_the_cause_in_the_failure():
    """Does a check name the cause whose predicate matches, and only that one?"""
    causes = {"db averages over the examples: sum them": scaled_by(1 / 4),
              "the sign is flipped": negated()}
    with pytest.raises(CheckFailed) as failure:
        check_gradient("db", [0.25, 0.5], [1.0, 2.0], likely_causes=causes)
    assert str(failure.value).endswith("\n  Likely cause: db averages over the examples: sum them")


def test_a_wrong_shape_names_the_cause_whose_predicate_matches():
    """Is a shape mismatch explained by a test's cause for that shape, and by no value predicate?"""
    causes = {"db sums over the examples (axis 0)": has_shape((10,)), "the sign is flipped": negated()}
    with pytest.raises(CheckFailed) as failure:
        check_gradient("db", np.ones(10), np.ones(5), likely_causes=causes)
    assert str(failure.value) == ("db: expected shape (5,), saw shape (10,).\n"
                                  "  Likely cause: db sums over the examples (axis 0)")


PATTERNS = [
    ("every value is 0", np.zeros(4), [1.0, -2.0, 3.0, 0.5]),
    ("every value has the sign opposite", [-1.0, 2.0, -3.0, -0.5], [1.0, -2.0, 3.0, 0.5]),
    ("the transpose of the expected matrix", [[1.0, 3.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]),
    ("every value is 0.25 times the expected one", [0.25, -0.5, 0.75, 0.125], [1.0, -2.0, 3.0, 0.5]),
    ("every value is off by the same amount (0.1)", [1.1, -1.9, 3.1, 0.6], [1.0, -2.0, 3.0, 0.5]),
    ("wrong only where the expected value is 0 (2 of 4 entries)", [1.0, -2.0, 3.0, 0.5], [1.0, 0.0, 3.0, 0.0]),
    ("0 where non-zero values are expected (1 of 4 entries)", [1.0, 0.0, 3.0, 0.5], [1.0, -2.0, 3.0, 0.5]),
    ("the value is twice the expected one", 4.0, 2.0),
]


@pytest.mark.parametrize("words, seen, expected", PATTERNS, ids=[p[0][:30] for p in PATTERNS])
def test_a_failure_no_declared_cause_explains_names_the_pattern_it_shows(words, seen, expected):
    """Does a failed comparison without a matching cause still name the usual mistake its values show?"""
    with pytest.raises(CheckFailed) as failure:
        check_close("dx", seen, expected)
    assert f"\n  Likely cause: {words}" in str(failure.value), str(failure.value)


def test_a_failure_without_a_usual_pattern_guesses_nothing():
    """Are values wrong in no usual way (nor a scalar off by other than 2) left without a likely cause?"""
    for seen, expected in (([1.0, 5.0, -3.0], [1.0, 2.0, 3.0]), (3.0, 2.0)):
        with pytest.raises(CheckFailed) as failure:
            check_close("dx", seen, expected)
        assert "Likely cause" not in str(failure.value)


def test_a_declared_cause_that_matches_replaces_the_pattern():
    """Does a test's own cause, when it matches, stand alone (no generic line next to it)?"""
    with pytest.raises(CheckFailed) as failure:
        check_close("db", [0.5, 1.0], [1.0, 2.0], likely_causes={"db sums over the examples: no 1/N": scaled_by(0.5)})
    assert str(failure.value).endswith("\n  Likely cause: db sums over the examples: no 1/N")


SHAPES = [
    ((10, 5), (5,), "One axis too many in front (10 rows where one is expected): a sum over the first axis"),
    ((5, 3), (5,), "One axis too many at the end"),
    ((5,), (10, 5), "The first axis is missing"),
    ((10,), (10, 5), "The last axis is missing"),
    ((), (4,), "A single number where an array is expected"),
    ((4,), (), "An array where a single number is expected"),
]


@pytest.mark.parametrize("shape, expected, words", SHAPES, ids=[s[2][:25] for s in SHAPES])
def test_a_wrong_shape_says_which_axis_is_too_many_or_missing(shape, expected, words):
    """Does a shape with an axis too many or too few name the sum that usually causes it?"""
    with pytest.raises(CheckFailed) as failure:
        check_shape("db", np.zeros(shape), expected)
    assert words in str(failure.value), str(failure.value)


def test_a_mask_where_values_are_expected_is_named():
    """Are 0/1 values where real values are expected recognised as a mask used in place of the values?"""
    with pytest.raises(CheckFailed, match="every value is 0 or 1, like a mask"):
        check_close("relu out", [0.0, 1.0, 1.0, 0.0], [0.0, 0.5, 2.0, 0.0])


def test_an_inverted_mask_is_named():
    """Are values that are non-zero exactly where zeros are expected (and zero elsewhere) named an inverted mask?"""
    with pytest.raises(CheckFailed, match="the mask is inverted"):
        check_gradient("relu dx", [0.0, -0.3, 0.0, 0.7], [1.5, 0.0, -2.0, 0.0])
