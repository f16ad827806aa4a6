# Sourced by bin/*: make .venv from the hash-locked requirements/dev.txt (bin/lock writes it),
# reinstalling when it or pyproject.toml changes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON_BIN=${PYTHON:-python3}
if ! "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "controlplane needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
stamp=.venv/.installed-$(cat pyproject.toml requirements/dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "[setup] installing dependencies into .venv (first run, or the lock changed)"
  [ -x .venv/bin/python ] || "$PYTHON_BIN" -m venv .venv
  # Every package with its locked hash; then the project itself, editable and alone.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
    -r requirements/dev.txt
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
