"""What the sandbox tests share: the gate for tests that need sandboxes, and small commands to run.

A test marked `sandbox` is skipped where sandboxes cannot be made (with what is missing),
and fails instead when CI=true: a machine that grades needs them.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.sandbox import sandbox_unavailable

SECRET = "the-answer-is-42"


@functools.cache
def unavailable() -> str | None:
    """Why sandboxes cannot be made here (None if they can), asked once per test session."""
    return sandbox_unavailable()


def require_sandbox(why: str | None, ci: bool) -> None:
    """Skip (or, under CI, fail) the calling test when sandboxes cannot be made: `why` says why."""
    if why is None:
        return
    message = f"sandboxes cannot be made here: {why}"
    if ci:
        pytest.fail(f"{message} (CI=true: grading needs them)", pytrace=False)
    pytest.skip(message)


def python(code: str) -> list[str]:
    """The command that runs `code` (dedented) with this Python."""
    return [sys.executable, "-c", textwrap.dedent(code)]


# Spends `seconds` of its own CPU time, then exits: the same work however loaded the machine is.
BURN = "import time\nwhile time.process_time() < {seconds}:\n    pass\n"


@contextmanager
def competing_loops(count: int = 6):
    """`count` busy loops, each in a session of its own, for as long as the block runs."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
             for _ in range(count)]
    try:
        yield loops
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


@contextmanager
def planted(parent: str, *parts: str):
    """A file holding SECRET at parent/<a new folder>/parts..., readable by anyone on the host; removed after."""
    top = Path(tempfile.mkdtemp(prefix="kit-planted-", dir=parent))
    try:
        top.chmod(0o755)
        path = top.joinpath(*parts)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.write_text(SECRET)
        path.chmod(0o644)
        yield path
    finally:
        shutil.rmtree(top)
