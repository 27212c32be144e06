# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by start.sh, stop.sh and status.sh: paths, ports and small process helpers.
# Sourced, not executed. Every setting can be overridden from the environment.

STACK_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SCRIPTS/../.." && pwd)"

# physical DIR: DIR with its symbolic links resolved (itself when it does not exist yet). The
# daemons' command lines carry these paths (the markers below), so a checkout whose .stack and
# .cache/stack link to another checkout's (a git worktree) finds and restarts that stack's daemons.
physical() { if [[ -d "$1" ]]; then (cd -P "$1" && pwd); else printf '%s' "$1"; fi; }

STATE_DIR="$(physical "$REPO_ROOT/.stack")"            # runtime data, logs, pid files (git-ignored)
CACHE_DIR="$(physical "$REPO_ROOT/.cache/stack")"      # downloaded jars (git-ignored)
M2_REPO="${STACK_M2_REPO:-$CACHE_DIR/m2}"              # Maven local repository

KAFKA_VERSION="${STACK_KAFKA_VERSION:-3.9.2}"
KAFKA_PORT="${STACK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${STACK_KAFKA_HEAP:-1g}"
KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_PID_FILE="$STATE_DIR/kafka.pid"
KAFKA_LIB="$CACHE_DIR/kafka-$KAFKA_VERSION/lib"

CLICKHOUSE_HTTP_PORT="${STACK_CLICKHOUSE_HTTP_PORT:-8123}"
CLICKHOUSE_DIR="$STATE_DIR/clickhouse"
CLICKHOUSE_PID_FILE="$STATE_DIR/clickhouse.pid"

REGISTRY_SCRIPT="$STACK_SCRIPTS/registry.sh"
ENV_FILE="$STATE_DIR/env"

say() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
# elapsed [SINCE]: seconds since SINCE (default T_START, set by start.sh), as "12s".
elapsed() { printf '%ss' "$((SECONDS - ${1:-${T_START:-0}}))"; }

kafka_major() { printf '%s' "${KAFKA_VERSION%%.*}"; }

# pid_alive PID MARKER: the process exists and its command line contains MARKER
# (guards against a recycled pid belonging to something else).
pid_alive() {
  local pid="$1" marker="$2"
  [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# pid_from_file FILE MARKER: prints the pid recorded in FILE if that process is alive.
pid_from_file() {
  local file="$1" marker="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' < "$file")"
  pid_alive "$pid" "$marker" || return 1
  printf '%s' "$pid"
}

# pids_by_marker MARKER: every process whose command line contains MARKER
# (used to find our own daemons when the pid file was lost).
pids_by_marker() {
  local marker="$1" d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
    pid_alive "$pid" "$marker" && printf '%s\n' "$pid"
  done
  return 0
}

port_open() { # port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_owner() { # port_owner PORT: "pid=N (command)" of the listener, if ss can tell
  local line
  line="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -n1)" || true
  [[ -n "$line" ]] || return 0
  printf '%s' "$(grep -o 'users:(([^)]*))' <<<"$line" || printf 'unknown process')"
}

# The markers: the absolute config path is on each daemon's command line.
kafka_marker() { printf '%s' "$KAFKA_DIR/server.properties"; }
clickhouse_marker() { printf '%s' "$CLICKHOUSE_DIR/config.xml"; }

clickhouse_ready() {
  local out
  out="$(curl -sf --max-time 3 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/?query=SELECT%201" 2>/dev/null)" || return 1
  [[ "$out" == "1" ]]
}

# stop_pid NAME PID GRACE: SIGTERM, wait up to GRACE seconds, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" grace="$3" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    [[ -d "/proc/$pid" ]] || return 0
    # a zombie child of ours counts as gone
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == "Z" ]] && return 0
    sleep 0.1
  done
  warn "$name (pid $pid) did not stop within ${grace}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -d "/proc/$pid" ]] || return 0
    sleep 0.1
  done
}
