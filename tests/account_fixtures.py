"""Unix accounts for tests that play several people (an instructor, a student), running the kit's Python.

Creating accounts needs root. The kit's .venv may point at an interpreter under a folder
other users cannot enter (pyenv installs it under /root, mode 700). Then each command runs
in a private mount namespace where that folder is an empty tmpfs with the interpreter's
top folder (e.g. /root/.pyenv) bound back, the way the grading sandbox reaches it: the
accounts run the very same interpreter and nothing on the machine changes.
"""
from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from autograder.course import ROOT

PYTHON = ROOT / ".venv" / "bin" / "python"


def require_root() -> None:
    """Fail under CI=true, else skip, when not root (useradd, runuser and unshare need it)."""
    if os.geteuid() == 0 and all(shutil.which(tool) for tool in ("useradd", "runuser", "unshare")):
        return
    why = "needs root with useradd, runuser and unshare (passwd, util-linux) to create and use its unix accounts"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: run the tests as root")
    pytest.skip(why)


def make_account(prefix: str) -> str:
    """A new unix account with a home folder; its name starts with `prefix`."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    return name


def remove_account(name: str) -> None:
    """Remove the account and its home folder."""
    subprocess.run(["userdel", "--force", "--remove", name], check=False, capture_output=True)


def closed_folder(python: Path = PYTHON) -> tuple[Path, Path] | None:
    """(a folder others cannot enter, its child on the way to the interpreter), or None when all are open."""
    target = python.resolve()
    for folder in target.parents:
        if folder != Path("/") and not folder.stat().st_mode & stat.S_IXOTH:
            return folder, folder / target.relative_to(folder).parts[0]
    return None


def run_as(user: str, command: str, cwd: Path, extra_env: dict | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a shell command as `user` in a clean environment with the kit's venv first on PATH.

    Raises AssertionError with the command's output when it fails.
    """
    home = Path(os.path.expanduser(f"~{user}"))
    env = {"HOME": str(home), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT),
           "PATH": f"{PYTHON.parent}:/usr/local/bin:/usr/bin:/bin", **(extra_env or {})}
    as_user = ["runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
               "bash", "-c", f"cd {shlex.quote(str(cwd))} && {command}"]
    result = subprocess.run(_with_interpreter_visible(as_user), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"as {user} in {cwd}: `{command}` failed ({result.returncode}):\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _with_interpreter_visible(command: list[str]) -> list[str]:
    closed = closed_folder()
    if closed is None:
        return command
    folder, keep = closed
    # /mnt gets a tmpfs of its own first, so the holding mount point exists in the namespace only
    script = (f"mount -t tmpfs -o size=1m tmpfs /mnt && mkdir /mnt/hold && "
              f"mount --bind {shlex.quote(str(keep))} /mnt/hold && "
              f"mount -t tmpfs -o mode=0755,size=1m tmpfs {shlex.quote(str(folder))} && "
              f"mkdir {shlex.quote(str(keep))} && mount --move /mnt/hold {shlex.quote(str(keep))} && exec \"$@\"")
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *command]
