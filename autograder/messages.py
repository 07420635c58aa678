"""The words grading uses for what went wrong, in one place.

`student_text`: a test's failure as the student may read it (a hidden test's details stay with
the instructor). `cell_error`: what went wrong in a cell, with the cell named as the student
sees it (nn_helpers.cells.cell_label) and a syntax error's line.
"""
from __future__ import annotations

import re

# Why a hidden test's failure is told without its details.
HIDDEN_FAILED = "a hidden test (other shapes and seeds) failed"
KEPT = "the details are kept for your instructor"
# What a failure's kind alone says, when its message may not be shown.
KIND_MEANS = {"TimeoutError": "the code ran past the time limit of a test", "MemoryError": "the code ran out of memory",
              "WorkerGone": "the code ended the process that ran it"}
# The "[raised in ...]" grading appends to an exception of the student's code (trusted/worker.py, scoring.py).
WHERE = re.compile(r" \[raised in ([A-Za-z_]\w{0,60})(?:, line (\d{1,4})(?:: .*)?"
                   r"| \(([\w-]{1,60}\.ipynb), .*, line (\d{1,4})\))\]$")


def student_text(message: str, hidden: bool) -> str:
    """The failure `message` as the student may read it: whole for a visible test; for a hidden one,
    only the failure's kind, the check's name, its likely causes and the function and line that raised.

    A hidden test's inputs and expected values stay with the instructor, and so does any message
    that could quote them: a check's "got ..., expected ...", an exception of the student's own code.
    e.g. "CheckFailed: a hidden test (other shapes and seeds) failed: check 'dW (W of shape (4, 3))'
    failed; the details are kept for your instructor"
    """
    if not hidden or not message:
        return message
    kind, _, rest = message.partition(": ")
    kind = kind if kind.isidentifier() else "Error"
    if kind == "CheckFailed" and " [raised in " not in rest:   # a check of the test's, not the student's code
        what = f"check '{rest.split(': ', 1)[0].splitlines()[0][:120]}' failed"
    else:
        what = f"{kind} was raised" + (f" ({KIND_MEANS[kind]})" if kind in KIND_MEANS else "")
    causes = [line.strip() for line in message.splitlines() if line.strip().startswith("Likely cause:")]
    where = WHERE.search("\n".join(line for line in message.splitlines() if line.strip() not in causes))
    if where:
        function, line, notebook, imported_line = where.groups()
        what += f" in {function}" + (f", line {line}" if line else f" ({notebook}, line {imported_line})")
    return f"{kind}: {HIDDEN_FAILED}: {what}; {KEPT}" + "".join(f"\n  {cause}" for cause in causes)


# What the usual errors of array code mean: (exception name, pattern of its message, likely cause).
ERROR_HINTS = (
    ("ValueError", re.compile(r"matmul: Input operand \d has a mismatch in its core dimension|shapes \(.*\) and "
                              r"\(.*\) not aligned"),
     "the inner sizes of a matrix product differ, (n, k) @ (k, m): an operand needs a transpose (.T) or a reshape"),
    ("ValueError", re.compile(r"could not be broadcast together|non-broadcastable output operand"),
     "two arrays of shapes that do not fit meet in an elementwise operation (or an in-place +=): a sum lost its "
     "axis (keepdims=True), an operand needs a transpose or reshape, or values were unpacked in the wrong order"),
    ("ValueError", re.compile(r"cannot reshape array of size"),
     "the reshape's target shape does not hold the array's number of elements"),
    ("TypeError", re.compile(r"NoneType"),
     "a function returned None: its return statement is missing, or it returns the result of an in-place "
     "operation (such as list.sort())"),
    ("TypeError", re.compile(r"(string|list|tuple) indices must be integers"),
     "a str, list or tuple is indexed by name: the value is not the dict or array the code expects (a function "
     "returned another kind of value, e.g. one dict where a list of them is expected)"),
    ("IndexError", re.compile(r"out of bounds|too many indices"),
     "an index does not fit the array's shape: check which axis indexes examples and which classes"),
)


def error_hint(ename: str, message: str) -> str:
    """The likely cause of one of the usual errors of array code (ERROR_HINTS), or ""."""
    return next((hint for name, pattern, hint in ERROR_HINTS if name == ename and pattern.search(message)), "")


SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
# A syntax error's message ends with the file and line: "expected an indented block (3071.py, line 3)".
SYNTAX_WHERE = re.compile(r"^(.*) \((?:[^()]|\([^()]*\))*, line (\d+)\)$", re.S)


def cell_error(label: str, ename: str, message: str) -> str:
    """What an error in a cell means for the student, e.g. "Task 5.2 answer cell (`task_5_2_solver`) has
    an IndentationError at line 12: expected an indented block; fix it and rerun", or
    "Task 6.1 answer cell (`task_6_1_overfit`) raised ValueError: ..."."""
    if ename in SYNTAX_ERRORS:
        match = SYNTAX_WHERE.match(message.strip())
        text, line = (match.group(1), f" at line {match.group(2)}") if match else (message, "")
        article = "an" if ename[0] in "AEIOU" else "a"
        return f"{label} has {article} {ename}{line}: {text}; fix it and rerun"
    return f"{label} raised {ename}: {message}"
