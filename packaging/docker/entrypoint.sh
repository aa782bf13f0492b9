#!/bin/sh
# aclkd's container entrypoint. The identity lives in $ACLKD_STATE_DIR (a volume): the first start
# claims from the NETDATA_CLAIM_* environment (NETDATA_CLAIM_TOKEN, _ROOMS, _URL, _PROXY,
# _INSECURE), every later start reuses cloud.d and keeps the same claimed_id. The config is written
# only when $ACLKD_CONFIG_DIR has none, so a mounted config wins.
set -eu

CONFIG_DIR="${ACLKD_CONFIG_DIR:-/etc/aclkd}"
STATE_DIR="${ACLKD_STATE_DIR:-/var/lib/aclkd}"
RUN_DIR="${ACLKD_RUN_DIR:-/run/aclkd}"
BIN_DIR="${ACLKD_BIN_DIR:-/usr/bin}"
BIND_TO="${ACLKD_BIND_TO:-0.0.0.0:19999}"

mkdir -p "$CONFIG_DIR" "$STATE_DIR" "$RUN_DIR"
if [ ! -f "$CONFIG_DIR/aclkd.conf" ]; then
  cat > "$CONFIG_DIR/aclkd.conf" <<CONF
# Written by the container entrypoint; mount your own to replace it.
[global]
    state dir = $STATE_DIR
    run dir = $RUN_DIR
    log level = ${ACLKD_LOG_LEVEL:-info}

[cloud]
    ca file = ${ACLKD_CA_FILE:-}

[web]
    bind to = $BIND_TO
    allow connections from = ${ACLKD_ALLOW_CONNECTIONS_FROM:-*}
CONF
fi
# Claim inputs come from the environment (NETDATA_CLAIM_*), which aclkd reads itself; nothing
# secret is written to disk here.
"$BIN_DIR/aclkd" -c "$CONFIG_DIR" --check-config
exec "$BIN_DIR/aclkd" -c "$CONFIG_DIR" "$@"
