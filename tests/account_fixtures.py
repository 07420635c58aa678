"""Unix accounts for tests that play several people (an instructor, a student), and a Python they can run.

Creating accounts needs root. The kit's .venv may point at an interpreter other users cannot
reach (pyenv installs it under /root, mode 700): `shared_python` then builds a small venv
from the system's Python of the same version that loads the kit's site-packages, in a
world-readable folder.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest

from autograder.course import ROOT


def require_root() -> None:
    """Fail under CI=true, else skip, when not root (useradd and runuser need it)."""
    if os.geteuid() == 0 and shutil.which("useradd") and shutil.which("runuser"):
        return
    why = "needs root with useradd and runuser (util-linux, passwd) to create its unix accounts"
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


def run_as(user: str, command: str, cwd: Path, python: Path, extra_env: dict | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a shell command as `user` in a clean environment with `python`'s folder first on PATH.

    Raises AssertionError with the command's output when it fails.
    """
    home = Path(os.path.expanduser(f"~{user}"))
    env = {"HOME": str(home), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT),
           "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin", **(extra_env or {})}
    assignments = [f"{key}={value}" for key, value in env.items()]
    result = subprocess.run(["runuser", "-u", user, "--", "env", "-i", *assignments, "bash", "-c",
                             f"cd {shlex.quote(str(cwd))} && {command}"],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"as {user} in {cwd}: `{command}` failed ({result.returncode}):\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _runs_for(user: str, python: Path) -> bool:
    return subprocess.run(["runuser", "-u", user, "--", str(python), "-c", "import nbgrader"],
                          capture_output=True).returncode == 0


def _copy_scripts(source: Path, dest: Path) -> None:
    """The kit's console scripts (nbgrader runs `alembic` by name), started by the shared venv's Python."""
    for script in sorted(source.iterdir()):
        if script.is_file() and not (dest / script.name).exists():
            with open(script, "rb") as handle:
                first = handle.readline()
            if first.startswith(b"#!") and b"python" in first:
                text = script.read_bytes().split(b"\n", 1)[1]
                (dest / script.name).write_bytes(b"#!" + str(dest / "python").encode() + b"\n" + text)
                (dest / script.name).chmod(0o755)


def shared_python(user: str, folder: Path) -> Path:
    """An interpreter with the kit's packages that `user` can run (the kit's own when it can)."""
    kit_python = ROOT / ".venv" / "bin" / "python"
    if _runs_for(user, kit_python):
        return kit_python
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = next((Path(p) for p in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}")
                   if Path(p).exists()), None)
    if system is None:
        pytest.fail(f"{user} cannot run {kit_python} (it resolves to {kit_python.resolve()}; a parent folder "
                    f"is closed to other users) and there is no system python{version} to build a shared "
                    f"venv from: install python{version} or put the kit's venv on a path everyone can read")
    venv = folder / "shared-venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = sysconfig.get_paths()["purelib"]   # the kit's site-packages (this test runs in its venv)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "kit_packages.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    _copy_scripts(kit_python.parent, venv / "bin")
    subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
    python = venv / "bin" / "python"
    assert _runs_for(user, python), f"{user} cannot run the shared venv {python} either"
    return python
