"""Tests for autograder.messages: what a student may read of a failure, and how a cell's error is told."""
from autograder.messages import KEPT, cell_error, error_hint, student_text

CHECK = ("CheckFailed: dW (W of shape (4, 3)): relative error 1.00e+00 exceeds tolerance 1e-06 at index (0, 1): "
         "got 0.0, expected 0.8137\n  Likely cause: dW is the outer product 2 q x^T, not its transpose")


def test_a_visible_failure_is_shown_whole():
    """Does a failure in a visible test reach the student unchanged (the notebook shows its inputs anyway)?"""
    assert student_text(CHECK, hidden=False) == CHECK


def test_a_hidden_check_shows_its_name_and_hint_but_no_value():
    """Does a hidden check's failure name the check and its likely cause, and quote no value seen or expected?"""
    text = student_text(CHECK, hidden=True)
    assert text.startswith("CheckFailed: a hidden test (other shapes and seeds) failed: check 'dW (W of shape (4, 3))'")
    assert "Likely cause: dW is the outer product 2 q x^T, not its transpose" in text and KEPT in text
    assert "0.8137" not in text and "0.0" not in text and "index" not in text, text


def test_a_hidden_exception_of_the_students_code_keeps_only_its_kind_and_place():
    """Is the message of the student's own exception in a hidden test (which may quote the hidden inputs)
    replaced by its kind, function and line?"""
    message = "ValueError: no square for -4242.4242 [raised in square, line 4: raise ValueError(f'{x}')]"
    text = student_text(message, hidden=True)
    assert text == ("ValueError: a hidden test (other shapes and seeds) failed: ValueError was raised in square, "
                    f"line 4; {KEPT}")


def test_an_exception_posing_as_a_check_is_not_taken_for_one():
    """Does a 'CheckFailed' raised by the student's code (marked by where it was raised) show no message either?"""
    message = "CheckFailed: -4242.4242: fake [raised in the student's code]"
    assert "4242" not in student_text(message, hidden=True)


def test_a_grader_timeout_in_a_hidden_test_says_what_it_means():
    """Does a hidden test the grader stopped at its time limit say so, in fixed words?"""
    text = student_text("TimeoutError: the student's code ran past the 120 s limit of a test and was stopped", True)
    assert "TimeoutError was raised (the code ran past the time limit of a test)" in text


def test_a_syntax_error_names_the_cell_and_line():
    """Is a syntax error told at its cell and line, with what to do, and another error as raised there?"""
    label = "Task 5.2 answer cell (`task_5_2_solver`)"
    assert cell_error(label, "IndentationError", "expected an indented block after 'if' statement on line 11 "
                                                 "(3071.py, line 12)") == (
        f"{label} has an IndentationError at line 12: expected an indented block after 'if' statement on line 11; "
        "fix it and rerun")
    assert cell_error(label, "ValueError", "diverged") == f"{label} raised ValueError: diverged"


def test_the_usual_errors_of_array_code_get_their_likely_cause():
    """Do a mismatched matrix product, shapes that do not broadcast and a missing return get a likely cause,
    and other errors none?"""
    matmul = "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?)"
    assert "transpose (.T)" in error_hint("ValueError", matmul)
    assert "keepdims=True" in error_hint("ValueError", "operands could not be broadcast together with shapes (3,4) (3,)")
    assert "unpacked in the wrong order" in error_hint("ValueError", "non-broadcastable output operand with shape (50,)")
    assert "a list of them" in error_hint("TypeError", "string indices must be integers, not 'str'")
    assert "returned None" in error_hint("TypeError", "cannot unpack non-iterable NoneType object")
    assert error_hint("ValueError", "math domain error") == "" == error_hint("KeyError", "matmul")


def test_a_hidden_exception_with_a_likely_cause_keeps_its_place_and_cause():
    """Is a hidden exception's likely cause (on its own line, after where it was raised) shown, and its place kept?"""
    message = ("ValueError: matmul: size 6 is different from 5 [raised in affine_backward, line 17: dx = dout @ w]"
               "\n  Likely cause: the inner sizes of a matrix product differ")
    text = student_text(message, hidden=True)
    assert "ValueError was raised in affine_backward, line 17" in text and "size 6" not in text
    assert text.endswith("\n  Likely cause: the inner sizes of a matrix product differ")
