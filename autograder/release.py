"""`release`: generate the student release from the reference notebooks, and check it for drift.

The committed assignment/ is a golden output of solutions/: it must equal what
nbgrader's generate step makes from them right now. Releasing first writes each
notebook's setup cell (colab.py) into solutions/; a stale one is drift too.
"""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from .colab import refresh_setup_cells, stale_setup_cells
from .course import ASSIGNMENT_ID, ROOT, copy_course, release_notebooks, run_nbgrader, source_notebooks


def generate_release(dest: Path, root: Path = ROOT) -> Path:
    """Generate the release of `root`'s solutions in a scratch course; return dest/<assignment>."""
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        course = copy_course(Path(scratch) / "course", root)
        run_nbgrader(["generate_assignment", ASSIGNMENT_ID, "--force", "--no-db"], course)
        dest.mkdir(parents=True, exist_ok=True)
        generated = dest / ASSIGNMENT_ID
        shutil.rmtree(generated, ignore_errors=True)
        shutil.copytree(release_notebooks(course), generated)
    return generated


def release_differences(committed: Path, fresh: Path) -> list[str]:
    """Files that differ between two release folders (missing on either side, or changed)."""
    comparison = filecmp.dircmp(committed, fresh)
    differences = []

    def walk(cmp, prefix=""):
        differences.extend(f"{prefix}{name}: only in the committed release" for name in cmp.left_only)
        differences.extend(f"{prefix}{name}: missing from the committed release" for name in cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        differences.extend(f"{prefix}{name}: differs from a fresh generation" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison)
    return sorted(differences)


def check_release(root: Path = ROOT) -> list[str]:
    """Differences between the committed release and a fresh generation, and stale setup cells (empty: no drift)."""
    with tempfile.TemporaryDirectory(prefix="fresh-release-") as scratch:
        fresh = generate_release(Path(scratch), root)
        return release_differences(release_notebooks(root), fresh) + stale_setup_cells(source_notebooks(root))


def release(root: Path = ROOT) -> list[str]:
    """Write the setup cells into `root`/solutions, regenerate `root`/assignment from it; return what changed."""
    refreshed = [f"solutions: {name}" for name in refresh_setup_cells(source_notebooks(root))]
    target = release_notebooks(root)
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        fresh = generate_release(Path(scratch), root)
        changed = refreshed + (release_differences(target, fresh) if target.exists() else ["(new release)"])
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(fresh, target)
    return changed


def add_arguments(parser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only compare the committed release with a fresh generation; exit 1 on drift")


def command(args) -> int:
    if args.check:
        differences = check_release()
        for line in differences:
            print(f"  {line}")
        print("assignment/ or a setup cell is out of date: run `make release` and commit the result." if differences
              else "assignment/ matches a fresh generation from solutions/.")
        return 1 if differences else 0
    changed = release()
    print("Regenerated assignment/ from solutions/." + (f" Changed: {', '.join(changed)}" if changed else " No changes."))
    return 0
