#!/usr/bin/env bash
# The Python steps of the Gradescope setup (setup.sh runs them after the system packages):
# a virtual environment with the pinned packages and the helper package's wheel, a verified
# CIFAR-10, and the course prepared for grading. Safe to run again.
# Environment: AUTOGRADER_ROOT (default /autograder), AUTOGRADER_VENV (default
# $AUTOGRADER_ROOT/venv), PYTHON (default python3), CIFAR10_DIR and the dataset settings
# of datasets/README.md.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${AUTOGRADER_VENV:-$AUTOGRADER_ROOT/venv}"
PYTHON="${PYTHON:-python3}"
PIP=(--quiet --disable-pip-version-check)

shopt -s nullglob
WHEELS=("$SOURCE"/dist/nn_helpers-*.whl)
if [[ ${#WHEELS[@]} -ne 1 ]]; then
  echo "setup_python.sh: expected one helper wheel in $SOURCE/dist, found ${#WHEELS[@]}. Rebuild the zip with \`python -m autograder gradescope\`." >&2
  exit 1
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "Installing the pinned packages and the helper package"
"$VENV/bin/python" -m pip install "${PIP[@]}" -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install "${PIP[@]}" --no-deps "${WHEELS[0]}"

CIFAR10_DIR="${CIFAR10_DIR:-$SOURCE/datasets/cifar-10-batches-py}" PYTHON="$VENV/bin/python" \
  bash "$SOURCE/datasets/get_datasets.sh"

cd "$SOURCE"
"$VENV/bin/python" -m autograder.gradescope_run --prepare
