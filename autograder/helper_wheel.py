"""Build the helper package's wheel (`nn_helpers-<version>-py3-none-any.whl`) for installs outside the kit.

Gradescope's image and Colab install the helper package from this wheel. It is what
`python -m pip wheel --no-deps .` builds (pyproject.toml packages only nn_helpers), built
from a copy of the sources so that the checkout gets no build/ or egg-info folders.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .course import ROOT

PACKAGE = "nn_helpers"
WHEEL_GLOB = f"{PACKAGE}-*-py3-none-any.whl"


def build_wheel(dest: Path, root: Path = ROOT) -> Path:
    """Build the wheel of `root`'s helper package into the folder `dest`; return its path.

    pip needs setuptools to build it (in an isolated build environment, fetched by pip like
    any package). Raises RuntimeError with pip's output when the build fails.
    """
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helper-wheel-") as scratch:
        copy = Path(scratch) / "src"
        copy.mkdir()
        shutil.copy2(root / "pyproject.toml", copy / "pyproject.toml")
        shutil.copytree(root / PACKAGE, copy / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        built = Path(scratch) / "wheel"
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                              "--disable-pip-version-check", "-w", str(built), str(copy)],
                             capture_output=True, text=True)
        wheels = sorted(built.glob(WHEEL_GLOB))
        if run.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"`pip wheel --no-deps {root}` did not build one {WHEEL_GLOB} (exit code "
                               f"{run.returncode}). pip needs to reach a package index (or its cache) for "
                               f"setuptools. Its output:\n{run.stdout}{run.stderr}")
        target = dest / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target
