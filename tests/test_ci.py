"""Tests for the CI entry points: .ci/run and the GitHub workflow run what the README tells users."""
import re

from autograder.course import ROOT


def readme_commands() -> list[str]:
    """The commands of the README's quick start block, without their comments."""
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_ci_runs_the_readme_setup_then_its_test_command():
    """Does .ci/run call the README's setup command, then its test command, then the demo, stopping on failure?"""
    script = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in script
    steps = [line.strip() for line in script.splitlines() if line.strip() in readme_commands()]
    assert steps == ["bash setup.sh", "make test", "make demo"]
    assert readme_commands() == ["bash setup.sh", "make demo", "make test"]


def test_the_github_workflow_runs_ci_run():
    """Does the workflow for copies kept on GitHub run .ci/run, as root, with CI=true?"""
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert re.search(r"run: sudo .*CI=true bash \.ci/run", workflow)
