#!/usr/bin/env bash
# Starts VictoriaMetrics on 127.0.0.1:8428 as the InfluxDB line-protocol peer for the Influx
# adapter's write tests. Usage: .ci/start-victoriametrics.sh DATA_DIR  (prints the PID).
set -euo pipefail
DATA_DIR="${1:?usage: $0 DATA_DIR}"
ADDR="${VM_LISTEN_ADDR:-127.0.0.1:8428}"

if ! command -v victoria-metrics >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends victoria-metrics >/dev/null
fi

if curl -fsS "http://${ADDR}/health" >/dev/null 2>&1; then
  echo "victoria-metrics already answers on ${ADDR}" >&2
  exit 0
fi

mkdir -p "$DATA_DIR"
# -search.latencyOffset=0: points written a moment ago are readable at once (tests read back).
nohup victoria-metrics -storageDataPath "$DATA_DIR" -httpListenAddr "$ADDR" -search.latencyOffset=0 \
  >"$DATA_DIR/victoria-metrics.log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do
  if curl -fsS "http://${ADDR}/health" >/dev/null 2>&1; then echo "$PID"; exit 0; fi
  sleep 0.2
done
echo "victoria-metrics did not become healthy; see $DATA_DIR/victoria-metrics.log" >&2
kill "$PID" 2>/dev/null || true
exit 1
