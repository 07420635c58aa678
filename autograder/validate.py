"""`validate`: the reference solutions get full marks; the untouched release gets none.

Runs nbgrader's own validator on scratch copies (running a notebook writes files,
e.g. best_model.npz, that must never land in solutions/ or assignment/).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

from .course import CONFIG_FILE, ROOT, RUN_ARTIFACTS, release_notebooks, source_notebooks


@dataclass
class NotebookValidation:
    """nbgrader's verdict on one notebook: the test cells that went the wrong way."""
    notebook: str
    problems: list[str]  # empty when the notebook behaves as expected

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_folder(folder: Path, invert: bool, root: Path = ROOT) -> list[NotebookValidation]:
    """Validate every notebook of `folder` with nbgrader (invert: expect every test cell to fail)."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    validator = Validator(config=config, invert=invert)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="validate-") as scratch:
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy, ignore=RUN_ARTIFACTS)
        for notebook in sorted(copy.glob("*.ipynb")):
            results = validator.validate(str(notebook))
            verdicts.append(NotebookValidation(notebook.name, _problems(results)))
    return verdicts


def _problems(results: dict) -> list[str]:
    """One line per cell nbgrader complains about."""
    labels = {"failed": "test failed", "passed": "test passed on the untouched release",
              "changed": "locked cell changed", "type_changed": "cell type changed"}
    problems = []
    for kind, cells in results.items():
        for cell in cells:
            first_line = cell["source"].splitlines()[0] if cell["source"] else ""
            detail = cell.get("raw_error", "").strip().splitlines()[-1:] or [""]
            problems.append(f"{labels.get(kind, kind)}: {first_line} {detail[0]}".strip())
    return problems


def validate(root: Path = ROOT) -> dict[str, list[NotebookValidation]]:
    """Validate the solutions (all pass) and the release (all fail)."""
    return {"solutions": validate_folder(source_notebooks(root), invert=False, root=root),
            "release": validate_folder(release_notebooks(root), invert=True, root=root)}


def add_arguments(parser) -> None:
    """No options: validate always checks both the solutions and the release."""


def command(args) -> int:
    expectations = {"solutions": "full marks", "release": "every test cell failing"}
    failed = False
    for group, results in validate().items():
        print(f"{group} ({expectations[group]}):")
        for result in results:
            print(f"  {'ok  ' if result.ok else 'FAIL'} {result.notebook}")
            for problem in result.problems:
                print(f"         {problem}")
            failed |= not result.ok
    return 1 if failed else 0
