#!/usr/bin/env bash
# Starts the real test stack without Docker, idempotently:
#   - Kafka (KRaft, one node) from Maven Central jars, on 127.0.0.1:9092 (controller :9093)
#   - ClickHouse 18.16 from Debian's clickhouse-server, HTTP 127.0.0.1:8123, native :9000
#   - the schema registry, if scripts/stack/registry.sh exists and is executable
# and makes sure promtool (Debian's prometheus package) and Chromium (Debian's
# chromium, with fonts-liberation, for the report's browser test) are installed.
# Writes .stack/env (FEEDBACKLOOP_* variables) for tests to source.
#
# Usage: bash scripts/stack/start.sh          (from any directory)
# Stop with scripts/stack/stop.sh [--wipe]; check with scripts/stack/status.sh.
#
# Environment overrides (defaults in brackets):
#   STACK_TIMEOUT [120]            seconds to wait for each service to be ready
#   STACK_KAFKA_TIMEOUT, STACK_CLICKHOUSE_TIMEOUT   per service, default STACK_TIMEOUT
#   STACK_KAFKA_VERSION [3.9.2]    4.x works too (log4j2 is picked automatically)
#   STACK_KAFKA_PORT [9092]  STACK_KAFKA_CONTROLLER_PORT [9093]  STACK_KAFKA_HEAP [1g]
#   STACK_CLICKHOUSE_HTTP_PORT [8123]
#   STACK_CLICKHOUSE_TCP_PORT [9000, or 19000 when 9000 is taken by another program]
#   STACK_REGISTRY_URL [what `registry.sh url` prints, else http://127.0.0.1:8081]
#                                  written to .stack/env when the registry starts
#   STACK_SKIP_REGISTRY=1          do not start the schema registry
#   STACK_M2_REPO [.cache/stack/m2] Maven local repository for the Kafka jars
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

case "${1:-}" in
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

TIMEOUT="${STACK_TIMEOUT:-120}"
KAFKA_TIMEOUT="${STACK_KAFKA_TIMEOUT:-$TIMEOUT}"
CLICKHOUSE_TIMEOUT="${STACK_CLICKHOUSE_TIMEOUT:-$TIMEOUT}"
REGISTRY_URL="${STACK_REGISTRY_URL:-http://127.0.0.1:8081}"
T_START=$SECONDS

mkdir -p "$STATE_DIR" "$CACHE_DIR"

# ---------------------------------------------------------------- packages (apt)

APT_UPDATED=0
APT_LOG="$STATE_DIR/apt.log"
apt_install() {
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to apt-get install $*"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
  local t=$SECONDS
  say "installing with apt-get: $* (log: $APT_LOG)"
  if [[ "$APT_UPDATED" == 0 ]]; then
    "${sudo[@]}" apt-get update -q >>"$APT_LOG" 2>&1 || die "apt-get update failed; log: $APT_LOG"
    APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    >>"$APT_LOG" 2>&1 || die "apt-get install $* failed; log: $APT_LOG"
  say "installed $* in $(elapsed "$t")"
}

ensure_packages() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  command -v ss >/dev/null || missing+=(iproute2)
  command -v setsid >/dev/null || missing+=(util-linux)
  command -v clickhouse-server >/dev/null || missing+=(clickhouse-server clickhouse-client)
  command -v promtool >/dev/null || missing+=(prometheus)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-liberation)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
}

# ---------------------------------------------------------------- Kafka

# shellcheck source=scripts/stack/kafka-lib.sh
source "$STACK_SCRIPTS/kafka-lib.sh"

# ---------------------------------------------------------------- ClickHouse

CLICKHOUSE_MARKER="$(clickhouse_marker)"
CLICKHOUSE_LOG="$CLICKHOUSE_DIR/logs/clickhouse-server.log"
CLICKHOUSE_TCP_PORT=""

clickhouse_launch() {
  local pid
  if ! pid="$(pid_from_file "$CLICKHOUSE_PID_FILE" "$CLICKHOUSE_MARKER")"; then
    pid="$(pids_by_marker "$CLICKHOUSE_MARKER")"
    pid="${pid%%$'\n'*}"
    if [[ -n "$pid" ]]; then printf '%s\n' "$pid" >"$CLICKHOUSE_PID_FILE"; fi
  fi
  if [[ -n "$pid" ]]; then
    CLICKHOUSE_TCP_PORT="$(cat "$CLICKHOUSE_DIR/tcp_port" 2>/dev/null || echo 9000)"
    say "clickhouse: already running (pid $pid)"
    return 0
  fi
  if port_open "$CLICKHOUSE_HTTP_PORT"; then
    die "clickhouse: port $CLICKHOUSE_HTTP_PORT on 127.0.0.1 is already in use by $(port_owner "$CLICKHOUSE_HTTP_PORT") — stop it or set STACK_CLICKHOUSE_HTTP_PORT"
  fi
  if [[ -n "${STACK_CLICKHOUSE_TCP_PORT:-}" ]]; then
    CLICKHOUSE_TCP_PORT="$STACK_CLICKHOUSE_TCP_PORT"
    if port_open "$CLICKHOUSE_TCP_PORT"; then
      die "clickhouse: native port $CLICKHOUSE_TCP_PORT is already in use by $(port_owner "$CLICKHOUSE_TCP_PORT")"
    fi
  else
    CLICKHOUSE_TCP_PORT=9000
    if port_open 9000; then
      CLICKHOUSE_TCP_PORT=19000
      warn "clickhouse: port 9000 is taken by $(port_owner 9000); using native port $CLICKHOUSE_TCP_PORT"
      if port_open "$CLICKHOUSE_TCP_PORT"; then
        die "clickhouse: ports 9000 and $CLICKHOUSE_TCP_PORT are both in use; set STACK_CLICKHOUSE_TCP_PORT"
      fi
    fi
  fi
  mkdir -p "$CLICKHOUSE_DIR"/{data,tmp,user_files,format_schemas,logs}
  sed -e "s|@CH_DIR@|$CLICKHOUSE_DIR|g" \
      -e "s|@CH_HTTP_PORT@|$CLICKHOUSE_HTTP_PORT|g" \
      -e "s|@CH_TCP_PORT@|$CLICKHOUSE_TCP_PORT|g" \
      "$STACK_SCRIPTS/clickhouse-config.xml.in" >"$CLICKHOUSE_DIR/config.xml"
  cp "$STACK_SCRIPTS/clickhouse-users.xml" "$CLICKHOUSE_DIR/users.xml"
  printf '%s\n' "$CLICKHOUSE_TCP_PORT" >"$CLICKHOUSE_DIR/tcp_port"
  local f
  for f in "$CLICKHOUSE_LOG" "$CLICKHOUSE_DIR/logs/clickhouse-server.err.log"; do
    if [[ -s "$f" ]]; then mv -f "$f" "$f.prev"; fi
  done
  say "clickhouse: starting $(clickhouse_version) on 127.0.0.1:$CLICKHOUSE_HTTP_PORT (log: $CLICKHOUSE_LOG)"
  (
    cd "$CLICKHOUSE_DIR"
    exec setsid clickhouse-server "--config-file=$CLICKHOUSE_DIR/config.xml"
  ) >"$CLICKHOUSE_DIR/logs/stdout.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$CLICKHOUSE_PID_FILE"
}

clickhouse_version() {
  dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null | sed 's/+.*//; s/^/ClickHouse /' || true
}

clickhouse_fail() {
  local f
  for f in "$CLICKHOUSE_DIR/logs/stdout.log" "$CLICKHOUSE_DIR/logs/clickhouse-server.err.log" "$CLICKHOUSE_LOG"; do
    if [[ -s "$f" ]]; then
      printf '%s\n' "--- last lines of $f ---" >&2
      tail -n 15 "$f" >&2 || true
    fi
  done
  die "clickhouse: $1; log: $CLICKHOUSE_LOG (errors: $CLICKHOUSE_DIR/logs/clickhouse-server.err.log)"
}

clickhouse_wait() {
  local t=$SECONDS deadline=$((SECONDS + CLICKHOUSE_TIMEOUT)) pid
  while :; do
    pid="$(pid_from_file "$CLICKHOUSE_PID_FILE" "$CLICKHOUSE_MARKER")" ||
      clickhouse_fail "the server process exited during startup"
    if clickhouse_ready; then
      say "clickhouse: ready on http://127.0.0.1:$CLICKHOUSE_HTTP_PORT, native port $CLICKHOUSE_TCP_PORT (pid $pid, $(elapsed "$t"))"
      return 0
    fi
    ((SECONDS < deadline)) || clickhouse_fail "not ready after ${CLICKHOUSE_TIMEOUT}s (GET /?query=SELECT 1 did not return 1)"
    sleep 0.5
  done
}

# ---------------------------------------------------------------- env file, registry

write_env() { # write_env [REGISTRY_URL]
  {
    printf '# Written by scripts/stack/start.sh; source it (set -a; . .stack/env; set +a).\n'
    printf 'FEEDBACKLOOP_KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
    printf 'FEEDBACKLOOP_CLICKHOUSE_URL=http://127.0.0.1:%s\n' "$CLICKHOUSE_HTTP_PORT"
    printf 'FEEDBACKLOOP_CLICKHOUSE_NATIVE_PORT=%s\n' "$CLICKHOUSE_TCP_PORT"
    if [[ -n "${1:-}" ]]; then printf 'FEEDBACKLOOP_KAFKA_SCHEMA_REGISTRY_URL=%s\n' "$1"; fi
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

registry_start() { # sets REGISTRY_URL_FOUND to the client base URL on success
  REGISTRY_URL_FOUND=""
  if [[ "${STACK_SKIP_REGISTRY:-0}" == 1 ]]; then
    say "registry: skipped (STACK_SKIP_REGISTRY=1)"
  elif [[ -f "$REGISTRY_SCRIPT" && -x "$REGISTRY_SCRIPT" ]]; then
    local t=$SECONDS rc=0
    say "registry: scripts/stack/registry.sh start"
    FEEDBACKLOOP_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" "$REGISTRY_SCRIPT" start >/dev/null || rc=$?
    ((rc == 0)) || die "registry: scripts/stack/registry.sh start exited with $rc (Kafka and ClickHouse are up; see its output above)"
    # The registry script knows its base URL (it may serve the Confluent API under a path).
    REGISTRY_URL_FOUND="${STACK_REGISTRY_URL:-$("$REGISTRY_SCRIPT" url 2>/dev/null || true)}"
    REGISTRY_URL_FOUND="${REGISTRY_URL_FOUND:-$REGISTRY_URL}"
    say "registry: ready at $REGISTRY_URL_FOUND ($(elapsed "$t"))"
  elif [[ -e "$REGISTRY_SCRIPT" ]]; then
    say "registry: skipped (scripts/stack/registry.sh is not executable)"
  else
    say "registry: skipped (no scripts/stack/registry.sh)"
  fi
}

# ---------------------------------------------------------------- main

ensure_packages
clickhouse_launch           # ClickHouse boots while Maven resolves Kafka
kafka_fetch
kafka_launch
clickhouse_wait
kafka_wait
write_env
registry_start
if [[ -n "$REGISTRY_URL_FOUND" ]]; then write_env "$REGISTRY_URL_FOUND"; fi
say "promtool: $(promtool --version 2>&1 | head -n1)"
say "stack up in $(elapsed); settings in $ENV_FILE:"
grep '^FEEDBACKLOOP_' "$ENV_FILE" | sed 's/^/[stack]   /'
