# Shared by scripts/run and scripts/test: dependency install, build, certificates.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${ACLKD_BUILD_DIR:-$ROOT/build}"

# Debian 12 packages the build, the scripts and the tests need.
PACKAGES=(
  cmake ninja-build g++ pkg-config python3 openssl ca-certificates curl procps
  libpaho-mqttpp-dev libpaho-mqtt-dev libwebsockets-dev libssl-dev
  protobuf-compiler libprotobuf-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libcurl4-openssl-dev libspdlog-dev libcli11-dev libbenchmark-dev liblz4-dev libasio-dev
  libsystemd-dev libboost1.81-dev libsqlite3-dev libzstd-dev libbrotli-dev zlib1g-dev
  microsocks
  mosquitto mosquitto-clients tinyproxy
  netdata clang libclang-rt-14-dev chromium libjs-chart.js
  # the zstd tool: tests read the state store's context sets as an operator would (test_15)
  zstd
  # the shared Netdata v2.10.4 agent (tests/integration/test_12_query_proxy.py)
  libjson-c5 libyaml-0-2 libzstd1 libbrotli1 libuv1 libcurl4 liblz4-1 libuuid1 libsystemd0 libssl3
)

log() { printf '==> %s\n' "$*" >&2; }

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  # mosquitto, tinyproxy and netdata must not run as system services: the project starts its own
  # instances on its own ports (a system netdata would also hold 127.0.0.1:19999, the bridge's).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in mosquitto tinyproxy netdata; do
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
    $sudo service "$svc" stop >/dev/null 2>&1 || true  # hosts without systemd
  done
}

# build [CMAKE_ARGS...]: configures BUILD_DIR once (with these arguments and ACLKD_CMAKE_ARGS) and
# builds it. The compiler's warnings are shown (ninja --quiet drops only the progress lines);
# ACLKD_WERROR=1 (CI) makes a warning a build error.
build() {
  local type="${ACLKD_BUILD_TYPE:-RelWithDebInfo}"
  local args=("$@")
  [ "${ACLKD_WERROR:-0}" = 1 ] && args+=(-DACLKD_WERROR=ON)
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    log "configuring $BUILD_DIR ($type)"
    # shellcheck disable=SC2086  # ACLKD_CMAKE_ARGS is a list of words
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${args[@]}" \
      ${ACLKD_CMAKE_ARGS:-} >/dev/null
  fi
  log "building $BUILD_DIR"
  ninja -C "$BUILD_DIR" --quiet -j "$(nproc)" ${ACLKD_BUILD_TARGETS:-}
}

# make_certs DIR: a test CA and a server certificate for localhost / 127.0.0.1, made once.
make_certs() {
  local dir="$1"
  [ -f "$dir/server.crt" ] && [ -f "$dir/ca.crt" ] && return 0
  mkdir -p "$dir"
  log "generating a test CA and server certificate in $dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=aclkd test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
      -days 825 -extfile server.ext 2>/dev/null
    rm -f server.csr server.ext
    chmod 600 ca.key server.key
  )
}

# write_mosquitto_conf FILE CERTDIR MQTT_PORT WSS_PORT: the broker as docs/dependencies.md §2a, wss
# with TLS.
write_mosquitto_conf() {
  local file="$1" certs="$2" mqtt_port="$3" wss_port="$4"
  # mosquitto started as root drops to user 'mosquitto', which must read its key.
  cp "$certs/server.key" "$certs/mosquitto.key"
  if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then
    chown mosquitto "$certs/mosquitto.key"
  fi
  chmod 600 "$certs/mosquitto.key"
  cat > "$file" <<CONF
per_listener_settings false
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
connection_messages true
# Packets go out as written (mosquitto leaves Nagle's algorithm on unless told).
set_tcp_nodelay true
listener $mqtt_port 127.0.0.1
protocol mqtt
listener $wss_port 127.0.0.1
protocol websockets
max_topic_alias 65535
certfile $certs/server.crt
keyfile $certs/mosquitto.key
CONF
}

# wait_for_line FILE TEXT SECONDS
wait_for_line() {
  local file="$1" text="$2" seconds="$3"
  for _ in $(seq $((seconds * 10))); do
    grep -q "$text" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
