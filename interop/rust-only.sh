#!/usr/bin/env bash
# Interim `make interop` until the runner lands: the Rust client against the
# Rust server in every protocol x transport x server model, ping (128K..1M),
# output (UTF-8) and put, each on its own ephemeral port.
# Logs go to target/interop/rust-only/; exit status 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
OUT=target/interop/rust-only
mkdir -p "$OUT"
fail=0
pass=0

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Starts a server with the given flags; sets $server_pid and $port once the
# server has printed its LISTENING line (no sleeps: we read its stdout).
start_server() {
  local log=$1; shift
  coproc SRV { exec "$BIN/ping-server" --port 0 "$@" 2>"$log"; }
  server_pid=$SRV_PID
  local line
  if ! read -r -t 10 line <&"${SRV[0]}" || [[ $line != LISTENING* ]]; then
    echo "server did not start: $(tail -1 "$log")"; return 1
  fi
  port=${line#LISTENING }
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "server exited with $?"; return 1; }
  server_pid=""
}

for protocol in binary compact; do
  for transport in buffered framed; do
    for model in simple threaded pool; do
      for service in ping student; do
        cell="$protocol-$transport-$model-$service"
        start_server "$OUT/$cell.server.log" --protocol "$protocol" --transport "$transport" \
          --server "$model" --service "$service"
        flags=(--port "$port" --protocol "$protocol" --transport "$transport" --service "$service" --json)
        ok=1
        if [ "$service" = ping ]; then
          "$BIN/ping-client" "${flags[@]}" --rounds 3 >"$OUT/$cell.client.jsonl" 2>>"$OUT/$cell.client.log" || ok=0
          "$BIN/ping-client" "${flags[@]}" --call output --payload utf8 --sizes 0,1,1K,1M \
            >>"$OUT/$cell.client.jsonl" 2>>"$OUT/$cell.client.log" || ok=0
        else
          "$BIN/ping-client" "${flags[@]}" --rounds 100 >"$OUT/$cell.client.jsonl" 2>>"$OUT/$cell.client.log" || ok=0
        fi
        stop_server || ok=0
        if [ $ok = 1 ]; then pass=$((pass + 1)); echo "pass  $cell"; else fail=$((fail + 1)); echo "FAIL  $cell (logs: $OUT/$cell.*)"; fi
      done
    done
  done
done

echo "rust-only interop: $pass passed, $fail failed (logs in $OUT)"
[ $fail = 0 ]
