"""Fresh virtual environments for the tests that set the kit up elsewhere (Gradescope, Colab).

A virtual environment made here holds nothing of the kit. Its own site-packages starts
empty; the third-party packages of the environment running the tests (numpy, nbgrader,
ipykernel, ...) reach it through a folder of links that leaves the helper package out, so
pip counts the pinned packages as installed and nothing needs the network. The helper
package is there only once a test installs it.
"""
from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

KIT_PACKAGES = Path(sysconfig.get_paths()["purelib"])
HELPER_ENTRIES = ("nn_helpers", "__editable__.nn_helpers", "__editable___nn_helpers")


def make_venv(dest: Path) -> Path:
    """A new virtual environment at `dest` without the helper package; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    python = dest / "bin" / "python"
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    view = dest / "kit-packages"
    view.mkdir()
    for entry in KIT_PACKAGES.iterdir():
        if not entry.name.startswith(HELPER_ENTRIES):
            (view / entry.name).symlink_to(entry)
    (Path(own) / "kit-packages.pth").write_text(f"import site; site.addsitedir({str(view)!r})\n")
    _copy_console_scripts(Path(sys.executable).parent, dest / "bin", python)
    return python


def _copy_console_scripts(source: Path, target: Path, python: Path) -> None:
    """The kit's console scripts (alembic, jupyter, ...), run by this environment's python, as pip writes them."""
    for script in sorted(source.iterdir()):
        if (target / script.name).exists() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            first = handle.readline()
        if first.startswith(b"#!") and b"python" in first:
            text = script.read_bytes().split(b"\n", 1)[1]
            (target / script.name).write_bytes(b"#!" + str(python).encode() + b"\n" + text)
            (target / script.name).chmod(0o755)
