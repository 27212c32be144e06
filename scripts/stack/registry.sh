#!/usr/bin/env bash
# Confluent-compatible schema registry for integration tests: Apicurio Registry
# (prebuilt Quarkus distribution from Maven Central, no Docker), serving the
# Confluent Schema Registry REST API under /apis/ccompat/v7.
#
# Usage: scripts/stack/registry.sh start|stop|status|url
#
#   start   install if needed (cached in .cache/stack/registry, Maven repo in
#           .cache/stack/m2), start in the background on 127.0.0.1:8081, wait
#           until ready, print the base URL clients must use. Idempotent.
#   stop    stop the registry started by this script (pid file).
#   status  exit 0 and print the URL if running and ready, exit 1 otherwise.
#   url     print the client base URL.
#
# State (pid, log, data, url) lives in .stack/registry/.
#
# Environment:
#   REGISTRY_START_TIMEOUT   seconds to wait for readiness (default 180)
#   REGISTRY_PORT            listen port (default 8081)
#   REGISTRY_STORAGE         "file" (default; H2 database in .stack/registry/data,
#                            survives restarts) or "memory" (H2 in-memory, empty
#                            after every start)
#   REGISTRY_GLOBAL_COMPATIBILITY  default compatibility for subjects without
#                            their own config (default BACKWARD, like Confluent;
#                            "NONE" disables the check)
#   REGISTRY_JAVA_OPTS       extra JVM options (default "-Xms64m -Xmx512m")
#   REGISTRY_VERSION         Apicurio version (default 3.0.9; 3.3.x needs Java 21)
#   STACK_M2_REPO            Maven local repository (default .cache/stack/m2)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

VERSION="${REGISTRY_VERSION:-3.0.9}"
HOST=127.0.0.1
PORT="${REGISTRY_PORT:-8081}"
TIMEOUT="${REGISTRY_START_TIMEOUT:-180}"
STORAGE="${REGISTRY_STORAGE:-file}"
GLOBAL_COMPAT="${REGISTRY_GLOBAL_COMPATIBILITY:-BACKWARD}"
JAVA_OPTS_DEFAULT="-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
read -r -a JAVA_OPTS <<<"${REGISTRY_JAVA_OPTS:-$JAVA_OPTS_DEFAULT}"

POM="$SCRIPT_DIR/registry/pom.xml"
CACHE_DIR="$ROOT/.cache/stack/registry"
M2_DIR="${STACK_M2_REPO:-$ROOT/.cache/stack/m2}"   # shared with scripts/stack/lib.sh
DIST_DIR="$CACHE_DIR/apicurio-registry-app-$VERSION"
RUNNER_JAR="$DIST_DIR/apicurio-registry-app-$VERSION-runner.jar"

STATE_DIR="$ROOT/.stack/registry"
PID_FILE="$STATE_DIR/pid"
LOG_FILE="$STATE_DIR/registry.log"
URL_FILE="$STATE_DIR/url"
DATA_DIR="$STATE_DIR/data"

ROOT_URL="http://$HOST:$PORT"
BASE_URL="$ROOT_URL/apis/ccompat/v7"

log() { echo "registry: $*" >&2; }
die() { echo "registry: ERROR: $*" >&2; exit 1; }

need_cmd() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  # Only on a machine that lacks the toolchain; root + apt-get as on our machines.
  if need_cmd apt-get && [ "$(id -u)" = 0 ]; then
    log "installing $* with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    die "missing $*; install it (e.g. apt-get install $*)"
  fi
}

ensure_tools() {
  need_cmd curl || apt_install curl
  need_cmd java || apt_install openjdk-17-jre-headless
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [ -n "$major" ] && [ "$major" -ge 17 ] || die "Java 17+ required (found: $(java -version 2>&1 | head -n1))"
}

install() {
  [ -f "$RUNNER_JAR" ] && return 0
  need_cmd mvn || apt_install maven
  mkdir -p "$CACHE_DIR" "$M2_DIR"
  local tarball="$M2_DIR/io/apicurio/apicurio-registry-app/$VERSION/apicurio-registry-app-$VERSION-all.tar.gz"
  log "fetching io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all with Maven (log: $CACHE_DIR/mvn.log)"
  if ! mvn -B -f "$POM" -Dmaven.repo.local="$M2_DIR" -Dapicurio.version="$VERSION" \
        dependency:get >"$CACHE_DIR/mvn.log" 2>&1 || [ ! -f "$tarball" ]; then
    tail -n 20 "$CACHE_DIR/mvn.log" >&2
    die "Maven could not fetch the Apicurio distribution (see $CACHE_DIR/mvn.log)"
  fi
  local tmp="$CACHE_DIR/.extract.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  tar -xzf "$tarball" -C "$tmp"
  [ -f "$tmp/apicurio-registry-app-$VERSION-runner.jar" ] || die "unexpected archive layout in $tarball"
  rm -rf "$DIST_DIR"
  mv "$tmp" "$DIST_DIR"
  log "installed Apicurio Registry $VERSION in $DIST_DIR"
}

running_pid() {
  # Prints the pid if the pid file names a live registry process.
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "apicurio-registry-app" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

is_ready() {
  curl -fsS -m 3 -o /dev/null "$ROOT_URL/health/ready" 2>/dev/null &&
    curl -fsS -m 3 -o /dev/null "$BASE_URL/subjects" 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

write_url() {
  mkdir -p "$STATE_DIR"
  echo "$BASE_URL" >"$URL_FILE"
  echo "$BASE_URL"
}

apply_global_compat() {
  [ -n "$GLOBAL_COMPAT" ] || return 0
  local current
  current="$(curl -fsS -m 5 "$BASE_URL/config" 2>/dev/null || true)"
  case "$current" in *"\"$GLOBAL_COMPAT\""*) return 0 ;; esac
  curl -fsS -m 5 -o /dev/null -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data "{\"compatibility\":\"$GLOBAL_COMPAT\"}" "$BASE_URL/config" ||
    die "could not set global compatibility to $GLOBAL_COMPAT (log: $LOG_FILE)"
}

cmd_start() {
  if running_pid >/dev/null && is_ready; then
    log "already running (pid $(running_pid))"
    write_url
    return 0
  fi
  if ! running_pid >/dev/null && port_in_use; then
    die "port $HOST:$PORT is already in use by another process (not started by this script)"
  fi

  ensure_tools
  install
  mkdir -p "$STATE_DIR" "$DATA_DIR"

  local launched=0
  if ! running_pid >/dev/null; then
    launched=1
    local dsurl
    case "$STORAGE" in
      file) dsurl="jdbc:h2:file:$DATA_DIR/registry" ;;
      memory) dsurl="jdbc:h2:mem:registry" ;;
      *) die "REGISTRY_STORAGE must be 'file' or 'memory' (got '$STORAGE')" ;;
    esac
    echo "=== $(date -u +%FT%TZ) starting Apicurio Registry $VERSION on $HOST:$PORT (storage: $STORAGE)" >>"$LOG_FILE"
    rm -f "$PID_FILE"
    local launcher=()
    need_cmd setsid && launcher=(setsid)
    # The launched shell writes its own pid and then execs java, so the pid file
    # names the JVM even if setsid had to fork. setsid detaches it from the
    # caller's process group (a Ctrl-C in the caller does not kill it).
    (
      cd "$DIST_DIR"
      exec "${launcher[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        java "${JAVA_OPTS[@]}" \
        -Dquarkus.http.host="$HOST" \
        -Dquarkus.http.port="$PORT" \
        -Dquarkus.log.console.color=false \
        -Dapicurio.storage.kind=sql \
        -Dapicurio.storage.sql.kind=h2 \
        -Dapicurio.datasource.url="$dsurl" \
        -Dapicurio.datasource.jdbc.initial-size=2 \
        -Dapicurio.datasource.jdbc.min-size=2 \
        -Dapicurio.datasource.jdbc.max-size=20 \
        -Dapicurio.rules.global.compatibility="$GLOBAL_COMPAT" \
        -Dapicurio.rest.deletion.group.enabled=true \
        -Dapicurio.rest.deletion.artifact.enabled=true \
        -Dapicurio.rest.deletion.artifact-version.enabled=true \
        -Dapicurio.storage.snapshot.location="$DATA_DIR" \
        -jar "$RUNNER_JAR"
    ) </dev/null >>"$LOG_FILE" 2>&1 &
    local i
    for i in $(seq 1 50); do
      running_pid >/dev/null && break
      sleep 0.2
    done
    log "started pid $(cat "$PID_FILE" 2>/dev/null || echo "?"), log: $LOG_FILE"
  fi

  local waited=0
  while ! is_ready; do
    if ! running_pid >/dev/null; then
      tail -n 30 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "registry process exited during startup; see log file $LOG_FILE"
    fi
    if [ "$waited" -ge "$TIMEOUT" ]; then
      tail -n 30 "$LOG_FILE" >&2 || true
      if [ "$launched" = 1 ]; then
        log "stopping the registry that did not become ready"
        cmd_stop || true
      fi
      die "registry not ready on $ROOT_URL after ${TIMEOUT}s (REGISTRY_START_TIMEOUT); see log file $LOG_FILE"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  apply_global_compat
  log "ready after ~${waited}s"
  write_url
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop after 30s; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && is_ready; then
    log "running and ready (pid $pid, Apicurio Registry $VERSION)"
    write_url
    return 0
  elif pid="$(running_pid)"; then
    log "process $pid alive but not ready; log: $LOG_FILE"
    return 1
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) echo "$BASE_URL" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
