# shellcheck shell=bash
# The Kafka broker of the test stack: fetch the jars, render the config, format, launch, wait.
# Sourced (after lib.sh) by start.sh, which brings the whole stack up, and by kafka.sh, which
# stops and starts the broker alone on the same data (the broker-restart test). Not executed.

# Seconds to wait for the broker to answer; start.sh sets it from STACK_TIMEOUT first.
KAFKA_TIMEOUT="${KAFKA_TIMEOUT:-${STACK_KAFKA_TIMEOUT:-${STACK_TIMEOUT:-120}}}"

KAFKA_MARKER="$(kafka_marker)"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"

# What kafka-secure.sh (the SASL/ACL broker) sets before sourcing this file; the stack's broker
# keeps the defaults: the config template, the admin password it renders in, extra `format`
# arguments (SCRAM credentials), the client arguments of the readiness probe and extra sed
# expressions for the template (its optional TLS listener).
KAFKA_TEMPLATE="${KAFKA_TEMPLATE:-$STACK_SCRIPTS/kafka-server.properties.in}"
KAFKA_ADMIN_PASSWORD="${KAFKA_ADMIN_PASSWORD:-}"
declare -p KAFKA_FORMAT_ARGS >/dev/null 2>&1 || KAFKA_FORMAT_ARGS=()
declare -p KAFKA_RENDER_ARGS >/dev/null 2>&1 || KAFKA_RENDER_ARGS=()
declare -p KAFKA_PROBE_ARGS >/dev/null 2>&1 || KAFKA_PROBE_ARGS=()

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
      -e "s|@KAFKA_ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" \
      "${KAFKA_RENDER_ARGS[@]}" "$KAFKA_TEMPLATE" >"$KAFKA_DIR/server.properties.tmp"
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
  if ! kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" "${KAFKA_FORMAT_ARGS[@]}" \
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
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PID_FILE"
  # The subshell becomes java at its exec; until then its command line lacks the marker that
  # kafka_wait checks, and a wait started at once took the broker for one that had exited.
  local i
  for ((i = 0; i < 200; i++)); do
    pid_alive "$pid" "$KAFKA_MARKER" && break
    [[ -d "/proc/$pid" ]] || break
    sleep 0.05
  done
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
      kafka_tool timeout 30 org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" "${KAFKA_PROBE_ARGS[@]}" --list \
        >"$probe_log" 2>&1; then
      say "kafka: ready on 127.0.0.1:$KAFKA_PORT (pid $pid, $(elapsed "$t"))"
      return 0
    fi
    ((SECONDS < deadline)) || kafka_fail "not ready after ${KAFKA_TIMEOUT}s (last probe output: $probe_log)"
    sleep 1
  done
}
