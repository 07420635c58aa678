"""Tests for the CI entry points: .ci/run and the GitHub workflow run what the README tells users."""
import re

from autograder.course import ROOT


def readme_commands() -> list[str]:
    """The commands of the README's quick start block, without their comments."""
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_ci_runs_the_readme_test_command_then_the_demo():
    """Does .ci/run call the README's test command (which sets the kit up), then the demo, stopping on failure?"""
    script = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in script
    steps = [line.split("#")[0].strip() for line in script.splitlines()
             if line.split("#")[0].strip() in readme_commands()]
    assert steps == ["make test", "make demo"]
    assert readme_commands() == ["make demo", "make test"]


def test_make_sets_a_fresh_clone_up_before_it_tests_or_demos():
    """Do `make test` and `make demo` depend on the setup marker that setup.sh writes once it is done?"""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(SETUP_DONE\): .*\n\tbash setup.sh$", makefile, re.M)
    for target in ("test", "demo"):
        assert re.search(rf"^{target}: \$\(SETUP_DONE\)", makefile, re.M), target
    assert "touch .venv/.setup-done" in (ROOT / "setup.sh").read_text()


def test_the_github_workflow_runs_ci_run():
    """Does the workflow for copies kept on GitHub run .ci/run, as root, with CI=true?"""
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert re.search(r"run: sudo .*CI=true bash \.ci/run", workflow)
