#!/usr/bin/env bash
# Stops or starts the stack's Kafka broker alone, on the same data, config and port: the other
# services keep running. For fault tests (test/support/broker.ts: a broker outage mid-stream)
# and by hand. The stack must have been started once with scripts/stack/start.sh.
#
# Usage: bash scripts/stack/kafka.sh stop|start|status
#   stop    SIGTERM the broker and wait until it has exited and its port is closed
#           (SIGKILL after STACK_STOP_GRACE [30] seconds). Safe when it is not running.
#   start   launch it as start.sh does and wait until it answers a metadata request
#           (STACK_KAFKA_TIMEOUT [120] seconds). Idempotent.
#   status  exit 0 when the broker process is alive and its port accepts connections.
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# shellcheck source=scripts/stack/kafka-lib.sh
source "$STACK_SCRIPTS/kafka-lib.sh"

GRACE="${STACK_STOP_GRACE:-30}"

kafka_pids() {
  local pids
  pids="$(pid_from_file "$KAFKA_PID_FILE" "$KAFKA_MARKER" || true)"
  printf '%s\n%s\n' "$pids" "$(pids_by_marker "$KAFKA_MARKER")" | grep -E '^[0-9]+$' | sort -u || true
}

kafka_stop() {
  local t=$SECONDS pids pid i
  pids="$(kafka_pids)"
  if [[ -z "$pids" ]]; then
    say "kafka: not running"
  else
    for pid in $pids; do
      say "kafka: stopping pid $pid"
      stop_pid kafka "$pid" "$GRACE"
    done
  fi
  rm -f "$KAFKA_PID_FILE"
  # Down means clients get "connection refused" from now on.
  for ((i = 0; i < 100; i++)); do
    port_open "$KAFKA_PORT" || break
    sleep 0.1
  done
  port_open "$KAFKA_PORT" && die "kafka: port $KAFKA_PORT still open after the broker exited"
  say "kafka: stopped ($(elapsed "$t"))"
}

kafka_start() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] || die "kafka: no formatted data in $KAFKA_DIR; start the stack with scripts/stack/start.sh first"
  [[ -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka: no jars in $KAFKA_LIB; start the stack with scripts/stack/start.sh first"
  kafka_launch
  kafka_wait
}

case "${1:-}" in
  stop) kafka_stop ;;
  start) kafka_start ;;
  status) [[ -n "$(kafka_pids)" ]] && port_open "$KAFKA_PORT" ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" ;;
  *) die "usage: kafka.sh stop|start|status (try --help)" ;;
esac
