#!/usr/bin/env bash
# Creates .venv (git-ignored) with the Python packages our reference checks
# use: scikit-learn (metrics) — installed from PyPI by pip. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
if [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import sklearn, numpy' 2>/dev/null; then
  exit 0
fi
command -v "$PY" >/dev/null || { echo "python-env: $PY not found (install python3 and python3-venv)" >&2; exit 1; }
"$PY" -m venv .venv || { echo "python-env: cannot create .venv (on Debian: apt-get install python3-venv)" >&2; exit 1; }
.venv/bin/pip install --quiet --disable-pip-version-check 'scikit-learn>=1.3' 'numpy>=1.24'
.venv/bin/python -c 'import sklearn; print("python-env: scikit-learn", sklearn.__version__)'
