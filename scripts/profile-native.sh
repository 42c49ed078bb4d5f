#!/usr/bin/env bash
# Profiles the NativeAOT binary (.build/aot/kms-plugin, which keeps its symbols) with `perf record`
# under the two loads issue 15 names, and writes where the time goes (docs/perf-profile.md):
#   load   16 callers of kms-loadgen, KMS v1, percent-encoded socket-path :authority, Encrypt 32 B,
#          against `serve --dev`; perf samples the plugin for DURATION after a warm-up
#   storm  COUNT distinct v1 ciphertexts encrypted, the plugin (software keystore) restarted, then
#          all decrypted with 16 callers; perf samples the plugin from its socket's appearing (after the
#          keystore unlock) to the last call
# Per scenario: RESULTS/<scenario>.perf.data, the `perf report` top frames, and a table of shares
# by component (scripts/lib/perf-where.py). The plugin runs as perf's child with sampling enabled
# only for the window above. Kernel frames appear when the container may sample them (root here);
# with perf_event_paranoid 2 and no privilege, kernel time shows as the libc syscall entry instead.
#
# Usage: scripts/profile-native.sh [load] [storm]   (default: both)
#   REUSE_BUILD=1 keeps a built .build/aot/kms-plugin and .build/loadgen; DURATION [20s]; COUNT [10000];
#   FREQ [499 Hz]; RESULTS [.build/perf/profile-<UTC time>]
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# shellcheck source=lib/measure-common.sh
. scripts/lib/measure-common.sh
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(load storm)
duration=${DURATION:-20s} count=${COUNT:-10000} freq=${FREQ:-499}
results=${RESULTS:-$REPO/.build/perf/profile-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"

need perf "install linux-perf (Debian)"
need python3 "install python3"
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
[ "$paranoid" -le 2 ] || { echo "error: perf_event_paranoid is $paranoid: perf cannot sample even its own processes here" >&2; exit 1; }
PLUGIN=aot select_plugin
select_loadgen
start_scratch /tmp/kms-profile.XXXXXX

serve() { # socket flags...
  local socket=$1; shift
  rm -f "$socket"
  "${plugin[@]}" serve --socket "$socket" --health-address off --log-level Warning "$@" >"$socket.log" 2>&1 &
  server=$!
  pids+=("$server")
  wait_for_socket "$socket" "$server" "$socket.log"
}

halt() { kill "-${2:-TERM}" "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }

# The plugin started under perf record, with sampling off until `enable`: `perf record -p` on a
# running process misses the thread-pool threads .NET starts later, so perf must be the parent.
# Frame-pointer call graphs (.NET code keeps frame pointers).
serve_recorded() { # socket name flags...
  local socket=$1 name=$2; shift 2
  rm -f "$socket" "$work/ctl" "$work/ack"
  mkfifo "$work/ctl" "$work/ack"
  perf record -F "$freq" -g -D -1 --control "fifo:$work/ctl,$work/ack" -o "$results/$name.perf.data" -- \
    "${plugin[@]}" serve --socket "$socket" --health-address off --log-level Warning "$@" >"$socket.log" 2>"$results/$name.perf.log" &
  recorder=$!
  pids+=("$recorder")
  for _ in $(seq 500); do server=$(pgrep -P "$recorder" || true); [ -n "$server" ] && break; sleep 0.01; done
  [ -n "$server" ] || { echo "error: perf record did not start the plugin:" >&2; cat "$results/$name.perf.log" >&2; exit 1; }
  wait_for_socket "$socket" "$server" "$socket.log"
}

sampling() { # enable|disable
  echo "$1" >"$work/ctl"
  read -r _ <"$work/ack"
}

summarize() { # name title: stops the plugin, then perf
  sampling disable
  kill -TERM "$server" 2>/dev/null || true
  wait "$recorder" 2>/dev/null || true
  forget "$recorder"
  perf report -i "$results/$1.perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.5 2>/dev/null \
    | grep -v "^$" | awk "NR <= 120" >"$results/$1.top-self.txt"
  perf report -i "$results/$1.perf.data" --stdio --children --sort symbol --percent-limit 2 -g none 2>/dev/null \
    | grep -v "^$" | awk "NR <= 80" >"$results/$1.top-children.txt"
  perf script -i "$results/$1.perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | python3 scripts/lib/perf-where.py "$2" >"$results/$1.where.md"
  cat "$results/$1.where.md"
}

machine_line | tee "$results/machine.txt"
for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    load)
      echo "==> load: 16 callers, v1, percent-encoded :authority, Encrypt 32 B; perf for $duration after a 3 s warm-up"
      serve_recorded "$work/load.sock" load --dev
      "${loadgen[@]}" run --socket "$work/load.sock" --api v1 --authority percent-encoded --mix 1:0 --concurrency 16 \
        --warmup 2s --duration "$duration" --target plugin >"$results/load.loadgen.txt" &
      driver=$!
      pids+=("$driver")
      sleep 3
      sampling enable
      wait "$driver" || { echo "error: the load generator failed" >&2; cat "$results/load.loadgen.txt" >&2; exit 1; }
      forget "$driver"
      summarize load "(a) 16 callers, v1 percent-encoded, Encrypt 32 B"
      cat "$results/load.loadgen.txt" ;;
    storm)
      echo "==> storm: $count v1 ciphertexts decrypted by 16 callers right after a restart (software keystore)"
      (umask 077; head -c 24 /dev/urandom | base64 >"$work/passphrase")
      "${plugin[@]}" keystore init --keystore "$work/keystore.json" --passphrase-file "$work/passphrase" >/dev/null
      keystore=(--keystore "$work/keystore.json" --passphrase-file "$work/passphrase")
      serve "$work/storm.sock" "${keystore[@]}"
      "${loadgen[@]}" coldstart encrypt --socket "$work/storm.sock" --api v1 --authority socket-path --count "$count" \
        --file "$work/storm.bin" --target plugin >/dev/null
      halt "$server"
      serve_recorded "$work/storm.sock" storm "${keystore[@]}"
      sampling enable
      "${loadgen[@]}" coldstart decrypt --socket "$work/storm.sock" --authority socket-path --concurrency 16 \
        --file "$work/storm.bin" --target plugin | tee "$results/storm.loadgen.txt"
      summarize storm "(b) $count v1 ciphertexts after a restart, 16 callers" ;;
    *) echo "unknown scenario $scenario (load, storm)" >&2; exit 2 ;;
  esac
done
echo "results in $results"
