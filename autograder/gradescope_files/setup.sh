#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: the system
# packages (the sandbox's tools, a Python 3.11 or newer with venv), then setup_python.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends bubblewrap util-linux iproute2 coreutils ca-certificates

PYTHON=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PYTHON="$candidate"
    break
  fi
done
if [[ -z "$PYTHON" ]]; then   # Ubuntu 22.04's python3 is 3.10; the pinned numpy needs 3.11
  apt-get install -y --no-install-recommends python3.11 python3.11-venv
  PYTHON=python3.11
fi
VERSION="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
apt-get install -y --no-install-recommends "python$VERSION-venv"

PYTHON="$PYTHON" bash setup_python.sh
