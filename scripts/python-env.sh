#!/usr/bin/env bash
# Creates .venv (git-ignored) with the Python packages our reference checks
# use: scikit-learn (metrics), River for bench/reference/river_loop.py
# (bench:replay; pinned as bench/models/run.sh pins it), and confluent-kafka
# for the Python producer example (examples/python, tested against the real
# stack) — installed from PyPI by pip. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
RIVER_VERSION="${RIVER_VERSION:-0.26.1}"
if [[ -x .venv/bin/python ]] && .venv/bin/python -c "import sklearn, numpy, river, confluent_kafka, sys; sys.exit(river.__version__ != '$RIVER_VERSION')" 2>/dev/null; then
  exit 0
fi
command -v "$PY" >/dev/null || { echo "python-env: $PY not found (install python3 and python3-venv)" >&2; exit 1; }
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv || { echo "python-env: cannot create .venv (on Debian: apt-get install python3-venv)" >&2; exit 1; }
.venv/bin/pip install --quiet --disable-pip-version-check 'scikit-learn>=1.9' 'numpy>=1.24' "river==$RIVER_VERSION" 'confluent-kafka>=2.3'
.venv/bin/python -c 'import sklearn, river; import confluent_kafka, importlib.metadata as m; print("python-env: scikit-learn", sklearn.__version__, "river", river.__version__, "confluent-kafka", m.version("confluent-kafka"))'
