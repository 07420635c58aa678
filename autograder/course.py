"""Where things are in the kit's nbgrader course, and how to copy it somewhere safe to run."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from nn_helpers.cells import SAVED_MODEL_FILES

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT_ID = "two_layer_net"
CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
RELEASE_DIR = "assignment"
# Files a run of the notebooks leaves behind; never part of a source or a release.
RUN_ARTIFACTS = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", *SAVED_MODEL_FILES)


def source_notebooks(root: Path = ROOT) -> Path:
    """The folder of the reference notebooks (nbgrader's source/<assignment>)."""
    return root / SOURCE_DIR / ASSIGNMENT_ID


def release_notebooks(root: Path = ROOT) -> Path:
    """The folder of the student release (nbgrader's release/<assignment>)."""
    return root / RELEASE_DIR / ASSIGNMENT_ID


def copy_course(dest: Path, root: Path = ROOT, with_release: bool = False) -> Path:
    """Copy the nbgrader config and solutions (and the release) into a new course root `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / CONFIG_FILE, dest / CONFIG_FILE)
    shutil.copytree(root / SOURCE_DIR, dest / SOURCE_DIR, ignore=RUN_ARTIFACTS)
    if with_release:
        shutil.copytree(root / RELEASE_DIR, dest / RELEASE_DIR, ignore=RUN_ARTIFACTS)
    return dest


def run_nbgrader(args: list[str], course_root: Path) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in course_root with this interpreter's tools on PATH.

    nbgrader starts helper programs (alembic, the kernel) by name, so the folder of
    this Python's executables must be on PATH. Raises RuntimeError with nbgrader's
    output when it fails.
    """
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_root, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed in {course_root}:\n{result.stdout}{result.stderr}")
    return result


def add_course_arguments(parser, output_help: str | None = None) -> None:
    """The options every verb that works on a course shares: --course, --assignment (and --output)."""
    parser.add_argument("--course", default=".", help="the nbgrader course root (default: the current folder)")
    parser.add_argument("--assignment", default=ASSIGNMENT_ID, help=f"assignment id (default: {ASSIGNMENT_ID})")
    if output_help:
        parser.add_argument("--output", default=None, help=output_help)
