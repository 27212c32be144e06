#!/usr/bin/env bash
# Stops the test stack started by scripts/stack/start.sh: the schema registry (if
# scripts/stack/registry.sh exists), Kafka and ClickHouse. Graceful first (SIGTERM),
# then SIGKILL. Safe to run when nothing is running.
#
# Usage: bash scripts/stack/stop.sh [--wipe]
#   --wipe   also delete .stack/ (Kafka and ClickHouse data, logs, env file).
#            The jar cache in .cache/stack/ is kept.
# Environment: STACK_STOP_GRACE [30] seconds to wait for each service before SIGKILL;
#              STACK_SKIP_REGISTRY=1 leaves the schema registry running.
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

WIPE=0
for arg in "$@"; do
  case "$arg" in
    --wipe) WIPE=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done
GRACE="${STACK_STOP_GRACE:-30}"

# stop_service NAME PID_FILE MARKER
stop_service() {
  local name="$1" pid_file="$2" marker="$3" pids pid t=$SECONDS
  pids="$(pid_from_file "$pid_file" "$marker" || true)"
  # also any copy whose pid file was lost (same config path on its command line)
  pids="$(printf '%s\n%s\n' "$pids" "$(pids_by_marker "$marker")" | grep -E '^[0-9]+$' | sort -u || true)"
  if [[ -z "$pids" ]]; then
    say "$name: not running"
  else
    for pid in $pids; do
      say "$name: stopping pid $pid"
      stop_pid "$name" "$pid" "$GRACE"
    done
    say "$name: stopped ($((SECONDS - t))s)"
  fi
  rm -f "$pid_file"
}

if [[ "${STACK_SKIP_REGISTRY:-0}" == 1 ]]; then
  say "registry: left alone (STACK_SKIP_REGISTRY=1)"
elif [[ -f "$REGISTRY_SCRIPT" && -x "$REGISTRY_SCRIPT" ]]; then
  rc=0
  "$REGISTRY_SCRIPT" stop || rc=$?
  if ((rc != 0)); then warn "registry: scripts/stack/registry.sh stop exited with $rc"; fi
fi
stop_service kafka "$KAFKA_PID_FILE" "$(kafka_marker)"
# The secured broker of the ACL test (scripts/stack/kafka-secure.sh), if a test left it running.
if [[ -f "$STATE_DIR/kafka-secure.pid" ]]; then bash "$STACK_SCRIPTS/kafka-secure.sh" stop; fi
stop_service clickhouse "$CLICKHOUSE_PID_FILE" "$(clickhouse_marker)"
rm -f "$ENV_FILE"

if ((WIPE)); then
  rm -rf "$STATE_DIR"
  say "wiped $STATE_DIR"
fi
