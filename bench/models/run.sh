#!/usr/bin/env bash
# Online models against River: the same models, hyperparameters and streams on
# both sides, progressive validation, one table; then the dense-20-features
# micro-benchmark.
#
#   bash bench/models/run.sh            # everything (~3-4 minutes on 2 cores)
#   BENCH_ONLY=phishing bash bench/models/run.sh
#   BENCH_ONLY=imagesegments,digits,wine bash bench/models/run.sh   # the multi-class streams
#
# River comes from PyPI into a venv outside the repository (RIVER_VENV,
# default /tmp/river-venv; RIVER_VERSION pins it, default 0.26.1), with
# scikit-learn for its bundled digits and wine data sets; the
# streams are written to BENCH_DATA (default /tmp/feedbackloop-models-bench).
# Our side runs with tsx when the repository has it, else it is compiled
# with tsc into BENCH_DATA/js first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RIVER_VENV:-/tmp/river-venv}"
RIVER_VERSION="${RIVER_VERSION:-0.26.1}"
DATA="${BENCH_DATA:-/tmp/feedbackloop-models-bench}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import river, sys; sys.exit(river.__version__ != '$RIVER_VERSION')" 2>/dev/null; then
  echo "installing river==$RIVER_VERSION into $VENV" >&2
  "$VENV/bin/pip" install --quiet "river==$RIVER_VERSION"
fi
if ! "$VENV/bin/python" -c "import sklearn" 2>/dev/null; then
  echo "installing scikit-learn into $VENV" >&2
  "$VENV/bin/pip" install --quiet scikit-learn
fi

mkdir -p "$DATA"
echo "exporting streams to $DATA" >&2
"$VENV/bin/python" bench/models/export_datasets.py "$DATA"

echo "running River (progress on stderr)" >&2
ONLY=()
if [ -n "${BENCH_ONLY:-}" ]; then ONLY=(--only "$BENCH_ONLY"); fi
"$VENV/bin/python" bench/models/compare.py "$DATA" "$DATA/river.json" "${ONLY[@]}"

if [ -x node_modules/.bin/tsx ]; then
  run_ts() { node --expose-gc --import tsx "$@"; }
else
  echo "tsx not found: compiling with tsc into $DATA/js" >&2
  mkdir -p "$DATA/js" && echo '{"type":"module"}' > "$DATA/js/package.json"
  npx tsc --outDir "$DATA/js" --rootDir . --module NodeNext --moduleResolution NodeNext --target ES2022 \
    --strict --skipLibCheck --types node bench/models/compare.ts bench/models/micro.ts
  run_ts() { local src="$1"; shift; node --expose-gc "$DATA/js/${src%.ts}.js" "$@"; }
fi

echo "running ours" >&2
run_ts bench/models/compare.ts "$DATA" "$DATA/river.json" bench/models/models.json
run_ts bench/models/micro.ts
echo
echo "load while measuring: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average, $(nproc) cores)"
