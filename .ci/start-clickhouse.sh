#!/usr/bin/env bash
# Installs (if needed) and starts Debian's clickhouse-server in DIR; prints its HTTP URL.
# Usage: .ci/start-clickhouse.sh DIR [HTTP_PORT]   (stop with: kill "$(cat DIR/clickhouse.pid)")
set -euo pipefail
dir="$(mkdir -p "${1:?usage: start-clickhouse.sh DIR [HTTP_PORT]}" && cd "$1" && pwd)"
http_port="${2:-8123}"
tcp_port="$((http_port + 777))"

if ! command -v /usr/sbin/clickhouse-server >/dev/null 2>&1 && ! command -v clickhouse-server >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clickhouse-server >&2
fi
bin="$(command -v /usr/sbin/clickhouse-server || command -v clickhouse-server)"

mkdir -p "$dir/data" "$dir/log" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
cp /etc/clickhouse-server/users.xml "$dir/users.xml"
sed -e "s#/var/lib/clickhouse/tmp/#$dir/tmp/#g" \
    -e "s#/var/lib/clickhouse/user_files/#$dir/user_files/#g" \
    -e "s#/var/lib/clickhouse/format_schemas/#$dir/format_schemas/#g" \
    -e "s#/var/lib/clickhouse/#$dir/data/#g" \
    -e "s#/var/log/clickhouse-server/#$dir/log/#g" \
    -e "s#<users_config>users.xml</users_config>#<users_config>$dir/users.xml</users_config>#" \
    -e "s#<http_port>8123</http_port>#<http_port>$http_port</http_port>#" \
    -e "s#<tcp_port>9000</tcp_port>#<tcp_port>$tcp_port</tcp_port>#" \
    -e "s#<interserver_http_port>9009</interserver_http_port>#<interserver_http_port>$((tcp_port + 9))</interserver_http_port>#" \
    /etc/clickhouse-server/config.xml > "$dir/config.xml"

url="http://127.0.0.1:$http_port"
if curl -fsS "$url/ping" >/dev/null 2>&1; then echo "$url"; exit 0; fi
nohup "$bin" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
echo $! > "$dir/clickhouse.pid"
for _ in $(seq 1 60); do
  if curl -fsS "$url/ping" >/dev/null 2>&1; then echo "$url"; exit 0; fi
  sleep 0.5
done
echo "clickhouse-server did not answer on $url; see $dir/log" >&2
exit 1
