#!/usr/bin/env bash
# A second Kafka broker that enforces SASL/SCRAM-SHA-512 and ACLs (StandardAuthorizer,
# allow.everyone.if.no.acl.found=false), for the least-privilege test
# (test/integration/kafka-acls.test.ts). The same cached jars as the stack's broker, its own
# data (.stack/kafka-secure), its own ports; KRaft, one node. `admin` is the only super user
# (it creates the topics, users and ACLs); every other user needs an ACL for all it does.
# A SASL_SSL listener too (127.0.0.1:19094, same users and ACLs) when .stack/kafka-secure/tls/
# holds broker.pem (key and certificate chain) and ca.pem: the encrypted end-to-end test writes
# them, from a CA it makes, before it starts the broker (test/support/secure-kafka.ts); read at
# start only: a broker already running keeps its listeners until restarted.
# Needs the jars: run scripts/stack/start.sh once first.
#
# Usage: bash scripts/stack/kafka-secure.sh start|stop|status|env|user NAME PASSWORD
#   start   format (with admin's SCRAM credential) on first use, launch, wait until admin can
#           list topics. Idempotent.
#   stop    SIGTERM the broker, wait until it has exited (SIGKILL after STACK_STOP_GRACE [30] s).
#   status  exit 0 when it runs and its port accepts connections.
#   user    create (or reset) the SCRAM-SHA-512 credential of user NAME, as admin. It may do
#           nothing until ACLs allow it (kafkajs admin.createAcls, kafka-acls.sh).
#   env     print its settings (FEEDBACKLOOP_SECURE_KAFKA_*), as start writes them to
#           .stack/kafka-secure/env.
# Environment: STACK_KAFKA_SECURE_PORT [19092], STACK_KAFKA_SECURE_CONTROLLER_PORT [19093],
#              STACK_KAFKA_SECURE_TLS_PORT [19094],
#              STACK_KAFKA_SECURE_ADMIN_PASSWORD [admin-secret], STACK_KAFKA_SECURE_HEAP [512m],
#              STACK_KAFKA_TIMEOUT [120].
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# kafka-lib.sh works on these: point them at the secure broker before sourcing it.
KAFKA_PORT="${STACK_KAFKA_SECURE_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_SECURE_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${STACK_KAFKA_SECURE_HEAP:-512m}"
KAFKA_DIR="$STATE_DIR/kafka-secure"
KAFKA_PID_FILE="$STATE_DIR/kafka-secure.pid"
KAFKA_TEMPLATE="$STACK_SCRIPTS/kafka-secure-server.properties.in"
KAFKA_ADMIN_PASSWORD="${STACK_KAFKA_SECURE_ADMIN_PASSWORD:-admin-secret}"
[[ "$KAFKA_ADMIN_PASSWORD" =~ ^[A-Za-z0-9._-]+$ ]] || die "kafka-secure: the admin password may hold only letters, digits, '.', '_' and '-'"
# admin's SCRAM credential goes into the metadata log at format time: the broker needs it to
# authenticate to itself before any client could create it.
KAFKA_FORMAT_ARGS=(--add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]")
ADMIN_CONFIG="$KAFKA_DIR/admin.properties"
KAFKA_PROBE_ARGS=(--command-config "$ADMIN_CONFIG")
SECURE_ENV="$KAFKA_DIR/env"
GRACE="${STACK_STOP_GRACE:-30}"
KAFKA_TLS_PORT="${STACK_KAFKA_SECURE_TLS_PORT:-19094}"
KAFKA_TLS_DIR="$KAFKA_DIR/tls"

# The TLS listener's lines of the template are kept only when its certificate is there; read at
# each (re)start, as the template is rendered then.
if [[ -s "$KAFKA_TLS_DIR/broker.pem" && -s "$KAFKA_TLS_DIR/ca.pem" ]]; then
  KAFKA_RENDER_ARGS=(-e "s|@KAFKA_TLS_LISTENER@|,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT|g" -e "s|@KAFKA_TLS_DIR@|$KAFKA_TLS_DIR|g" -e 's|^@TLS@||')
else
  KAFKA_RENDER_ARGS=(-e "s|@KAFKA_TLS_LISTENER@||g" -e "s|@KAFKA_TLS_DIR@|$KAFKA_TLS_DIR|g" -e '/^@TLS@/d')
fi

# shellcheck source=scripts/stack/kafka-lib.sh
source "$STACK_SCRIPTS/kafka-lib.sh"

# Whether the running broker has the TLS listener: its rendered config says (the certificate
# may have been written after it started).
tls_listener() { grep -q '^listeners=.*SASL_SSL://' "$KAFKA_DIR/server.properties" 2>/dev/null; }

secure_env() {
  printf 'FEEDBACKLOOP_SECURE_KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
  printf 'FEEDBACKLOOP_SECURE_KAFKA_ADMIN_USERNAME=admin\n'
  printf 'FEEDBACKLOOP_SECURE_KAFKA_ADMIN_PASSWORD=%s\n' "$KAFKA_ADMIN_PASSWORD"
  if tls_listener; then
    printf 'FEEDBACKLOOP_SECURE_KAFKA_TLS_BROKERS=127.0.0.1:%s\n' "$KAFKA_TLS_PORT"
    printf 'FEEDBACKLOOP_SECURE_KAFKA_TLS_CA_FILE=%s\n' "$KAFKA_TLS_DIR/ca.pem"
  fi
}

# The Kafka tools' client settings for admin (the readiness probe, kafka-acls by hand).
write_admin_config() {
  mkdir -p "$KAFKA_DIR"
  {
    printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n'
    printf 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' "$KAFKA_ADMIN_PASSWORD"
  } >"$ADMIN_CONFIG"
}

secure_pids() {
  local pids
  pids="$(pid_from_file "$KAFKA_PID_FILE" "$KAFKA_MARKER" || true)"
  printf '%s\n%s\n' "$pids" "$(pids_by_marker "$KAFKA_MARKER")" | grep -E '^[0-9]+$' | sort -u || true
}

secure_start() {
  [[ -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka-secure: no jars in $KAFKA_LIB; start the stack with scripts/stack/start.sh first"
  local t=$SECONDS
  write_admin_config
  kafka_launch
  kafka_wait
  local tls=''
  if tls_listener; then
    # All listeners open together; the probe went through the plaintext one.
    port_open "$KAFKA_TLS_PORT" || kafka_fail "the SASL_SSL listener on 127.0.0.1:$KAFKA_TLS_PORT is not open"
    tls=", SASL_SSL on 127.0.0.1:$KAFKA_TLS_PORT (CA $KAFKA_TLS_DIR/ca.pem)"
  fi
  secure_env >"$SECURE_ENV.tmp"
  mv "$SECURE_ENV.tmp" "$SECURE_ENV"
  say "kafka-secure: SASL_PLAINTEXT/SCRAM-SHA-512 with ACLs on 127.0.0.1:$KAFKA_PORT$tls, super user admin ($(elapsed "$t")); settings in $SECURE_ENV"
}

secure_stop() {
  local t=$SECONDS pids pid i
  pids="$(secure_pids)"
  if [[ -z "$pids" ]]; then
    say "kafka-secure: not running"
  else
    for pid in $pids; do
      say "kafka-secure: stopping pid $pid"
      stop_pid kafka-secure "$pid" "$GRACE"
    done
  fi
  rm -f "$KAFKA_PID_FILE"
  for ((i = 0; i < 100; i++)); do
    port_open "$KAFKA_PORT" || break
    sleep 0.1
  done
  say "kafka-secure: stopped ($(elapsed "$t"))"
}

# kafkajs has no AlterUserScramCredentials: the Kafka tool does it.
secure_user() {
  local name="$1" password="$2"
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ && "$password" =~ ^[A-Za-z0-9._-]+$ ]] ||
    die "kafka-secure: user name and password may hold only letters, digits, '.', '_' and '-'"
  kafka_tool timeout 60 kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$ADMIN_CONFIG" \
    --alter --entity-type users --entity-name "$name" --add-config "SCRAM-SHA-512=[password=$password]" >/dev/null ||
    die "kafka-secure: could not create user $name"
  say "kafka-secure: user $name (SCRAM-SHA-512)"
}

case "${1:-}" in
  start) secure_start ;;
  user) [[ $# == 3 ]] || die "usage: kafka-secure.sh user NAME PASSWORD"; secure_user "$2" "$3" ;;
  stop) secure_stop ;;
  status) [[ -n "$(secure_pids)" ]] && port_open "$KAFKA_PORT" ;;
  env) secure_env ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" ;;
  *) die "usage: kafka-secure.sh start|stop|status|env|user NAME PASSWORD (try --help)" ;;
esac
