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

elapsed() { printf '%ss' "$((SECONDS - ${1:-$T_START}))"; }

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

KAFKA_MARKER="$(kafka_marker)"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"

kafka_log_opts() {
  if (($(kafka_major) >= 4)); then
    printf '%s\n' "-Dlog4j2.configurationFile=$1"
  else
    printf '%s\n' "-Dlog4j.configuration=file:$1"
  fi
}

# kafka_tool [timeout SECS] CLASS ARGS...: runs a Kafka CLI class from the cached jars, quietly.
kafka_tool() {
  local cfg pre=()
  if [[ "$1" == timeout ]]; then pre=(timeout "$2"); shift 2; fi
  if (($(kafka_major) >= 4)); then cfg="$STACK_SCRIPTS/kafka-tools-log4j2.properties"
  else cfg="$STACK_SCRIPTS/kafka-tools-log4j.properties"; fi
  "${pre[@]}" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "$(kafka_log_opts "$cfg")" -cp "$KAFKA_LIB/*" "$@"
}

kafka_fetch() {
  local pom="$STACK_SCRIPTS/kafka-pom.xml" stamp="$CACHE_DIR/kafka-$KAFKA_VERSION/.complete" want
  want="$KAFKA_VERSION $(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  # never swap the jars under a running broker
  if [[ -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]] && pid_from_file "$KAFKA_PID_FILE" "$KAFKA_MARKER" >/dev/null; then
    return 0
  fi
  local t=$SECONDS log="$CACHE_DIR/kafka-$KAFKA_VERSION/mvn.log" profile=()
  if (($(kafka_major) >= 4)); then profile=(-P kafka4); fi
  say "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven (log: $log)"
  rm -rf "$KAFKA_LIB" "$stamp"
  mkdir -p "$KAFKA_LIB"
  if ! mvn -B -q -f "$pom" "-Dmaven.repo.local=$M2_REPO" "-Dkafka.version=$KAFKA_VERSION" \
      "-Dstack.libdir=$KAFKA_LIB" "${profile[@]}" dependency:copy-dependencies >"$log" 2>&1; then
    tail -n 15 "$log" >&2 || true
    die "kafka: Maven could not resolve Kafka $KAFKA_VERSION; log: $log"
  fi
  [[ -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka: jars missing after Maven run; log: $log"
  printf '%s\n' "$want" >"$stamp"
  say "kafka: $(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars cached in $(elapsed "$t")"
}

kafka_render_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_DATA_DIR@|$KAFKA_DIR/data|g" \
      "$STACK_SCRIPTS/kafka-server.properties.in" >"$KAFKA_DIR/server.properties.tmp"
  mv "$KAFKA_DIR/server.properties.tmp" "$KAFKA_DIR/server.properties"
}

kafka_format() {
  local version_file="$KAFKA_DIR/version"
  if [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local had
    had="$(cat "$version_file" 2>/dev/null || echo unknown)"
    if [[ "$had" != "$KAFKA_VERSION" && "${had%%.*}" != "$(kafka_major)" ]]; then
      die "kafka: $KAFKA_DIR/data was formatted by Kafka $had, not $KAFKA_VERSION; run scripts/stack/stop.sh --wipe first"
    fi
    return 0
  fi
  local id
  # A KRaft cluster id: 16 random bytes, base64url without padding (not starting with '-').
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  say "kafka: formatting storage (cluster id $id)"
  if ! kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" \
      >"$KAFKA_DIR/logs/format.log" 2>&1; then
    cat "$KAFKA_DIR/logs/format.log" >&2 || true
    die "kafka: storage format failed; log: $KAFKA_DIR/logs/format.log"
  fi
  printf '%s\n' "$KAFKA_VERSION" >"$version_file"
}

kafka_launch() {
  local pid
  if pid="$(pid_from_file "$KAFKA_PID_FILE" "$KAFKA_MARKER")"; then
    say "kafka: already running (pid $pid)"
    return 0
  fi
  pid="$(pids_by_marker "$KAFKA_MARKER")"
  pid="${pid%%$'\n'*}"
  if [[ -n "$pid" ]]; then
    printf '%s\n' "$pid" >"$KAFKA_PID_FILE"
    say "kafka: already running (pid $pid, pid file restored)"
    return 0
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$port"; then
      die "kafka: port $port on 127.0.0.1 is already in use by $(port_owner "$port") — stop it or set STACK_KAFKA_PORT / STACK_KAFKA_CONTROLLER_PORT"
    fi
  done
  kafka_render_config
  kafka_copy_log_config
  kafka_format
  say "kafka: starting $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_LOG)"
  # keep the previous run's log apart, so a failure shows only this run's lines
  if [[ -s "$KAFKA_LOG" ]]; then mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"; fi
  (
    cd "$KAFKA_DIR"
    exec setsid java -Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true "-Dkafka.logs.dir=$KAFKA_DIR/logs" \
      "$(kafka_log_opts "$KAFKA_DIR/log4j.properties")" \
      -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_DIR/server.properties"
  ) >"$KAFKA_DIR/logs/kafkaServer.out" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$KAFKA_PID_FILE"
}

kafka_copy_log_config() {
  if (($(kafka_major) >= 4)); then
    cp "$STACK_SCRIPTS/kafka-log4j2.properties" "$KAFKA_DIR/log4j.properties"
  else
    cp "$STACK_SCRIPTS/kafka-log4j.properties" "$KAFKA_DIR/log4j.properties"
  fi
}

kafka_fail() {
  local f
  for f in "$KAFKA_DIR/logs/kafkaServer.out" "$KAFKA_LOG"; do
    if [[ -s "$f" ]]; then
      printf '%s\n' "--- last lines of $f ---" >&2
      tail -n 15 "$f" >&2 || true
    fi
  done
  die "kafka: $1; log: $KAFKA_LOG (JVM stdout/stderr: $KAFKA_DIR/logs/kafkaServer.out)"
}

kafka_wait() {
  local t=$SECONDS deadline=$((SECONDS + KAFKA_TIMEOUT)) pid probe_log="$KAFKA_DIR/logs/probe.log"
  while :; do
    pid="$(pid_from_file "$KAFKA_PID_FILE" "$KAFKA_MARKER")" || kafka_fail "the broker process exited during startup"
    # Ready = the broker answers a metadata request (list topics) from the admin client.
    if port_open "$KAFKA_PORT" &&
      kafka_tool timeout 30 org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list \
        >"$probe_log" 2>&1; then
      say "kafka: ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $(elapsed "$t"))"
      return 0
    fi
    ((SECONDS < deadline)) || kafka_fail "not ready after ${KAFKA_TIMEOUT}s (last probe output: $probe_log)"
    sleep 1
  done
}

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
