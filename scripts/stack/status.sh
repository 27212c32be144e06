#!/usr/bin/env bash
# Prints whether each service of the test stack is up or down.
# Usage: bash scripts/stack/status.sh    Exit status: 0 when Kafka and ClickHouse are both up.
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

all_up=1

# find_pid PID_FILE MARKER: our daemon's pid, from its pid file or else its command line.
find_pid() {
  local pid
  pid="$(pid_from_file "$1" "$2")" || pid="$(pids_by_marker "$2")"
  pid="${pid%%$'\n'*}"
  [[ -n "$pid" ]] && printf '%s' "$pid"
}

# Kafka: our process is alive and the client port accepts connections.
# (start.sh does the full metadata probe; this stays fast.)
if pid="$(find_pid "$KAFKA_PID_FILE" "$(kafka_marker)")"; then
  if port_open "$KAFKA_PORT"; then
    echo "kafka:      up    127.0.0.1:$KAFKA_PORT (pid $pid, $(cat "$KAFKA_DIR/version" 2>/dev/null || echo '?'))"
  else
    echo "kafka:      down  (pid $pid running but 127.0.0.1:$KAFKA_PORT not accepting; log: $KAFKA_DIR/logs/server.log)"
    all_up=0
  fi
else
  echo "kafka:      down"
  all_up=0
fi

if pid="$(find_pid "$CLICKHOUSE_PID_FILE" "$(clickhouse_marker)")"; then
  if clickhouse_ready; then
    echo "clickhouse: up    http://127.0.0.1:$CLICKHOUSE_HTTP_PORT, native port $(cat "$CLICKHOUSE_DIR/tcp_port" 2>/dev/null || echo '?') (pid $pid)"
  else
    echo "clickhouse: down  (pid $pid running but SELECT 1 fails; log: $CLICKHOUSE_DIR/logs/clickhouse-server.log)"
    all_up=0
  fi
else
  echo "clickhouse: down"
  all_up=0
fi

if [[ -f "$REGISTRY_SCRIPT" && -x "$REGISTRY_SCRIPT" ]]; then
  if out="$("$REGISTRY_SCRIPT" status 2>&1)"; then
    echo "registry:   up    ${out//$'\n'/ }"
  else
    echo "registry:   down  ${out//$'\n'/ }"
  fi
else
  echo "registry:   n/a   (no executable scripts/stack/registry.sh)"
fi

if command -v promtool >/dev/null; then
  echo "promtool:   installed ($(promtool --version 2>&1 | head -n1 | awk '{print $3}'))"
else
  echo "promtool:   missing"
fi

((all_up))
