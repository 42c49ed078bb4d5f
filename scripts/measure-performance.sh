#!/usr/bin/env bash
# Issue 15's measurement, unattended, every figure against the grpc-go baseline
# (bench/baseline/go/kmsbaseline) measured in the same run, servers taking turns round by round:
#   load       kms-loadgen at 1, 4, 16, 64 callers, Encrypt 32 B and Decrypt 32 B, for KMS v1 with
#              the socket-path :authority raw and percent-encoded, and v2 with localhost, against
#              `serve --dev` and the baseline; v1 and v2 once more against a plugin whose root key
#              is in SoftHSM (PKCS#11)
#   goclient   kube-apiserver's own client stack (grpc-go) at GO_LEVELS callers against both servers
#              (Encrypt+Decrypt round trips): the same client for both, and the one clusters run
#   coldstart  N distinct v1 ciphertexts (COUNTS) and V2_SEEDS distinct v2 ones encrypted, the
#              plugin restarted, then all decrypted with 16 callers; software keystore and PKCS#11
#              (one plugin DEK for all, the normal case), plus --dek-max-uses 1 (one root-key unwrap
#              per ciphertext, the worst case) at the smallest v1 count. The baseline keeps its key
#              only in memory, so it cannot be restarted: it decrypts right after encrypting.
#   startup    launch to the first served v2 Encrypt (Go client), RSS after IDLE_SECONDS idle and
#              after LOAD_SECONDS of 16 callers (scripts/measure-startup.sh's method)
#   soak       SOAK_MINUTES (default 0 = off) of 16 Go-client callers, RSS every minute
#   bench      BenchmarkDotNet: envelope Encrypt and cached Decrypt against raw AES-GCM (BENCH=0: off)
# then writes Markdown tables (medians over the rounds, ratios to the baseline, issue 15's targets
# met or missed) to RESULTS/report.md and stdout, and renders the chart the README shows.
#
# Environment (defaults in brackets):
#   PLUGIN=aot|jit [aot]  the NativeAOT binary .build/aot/kms-plugin (scripts/publish-aot.sh), or
#                         the framework-dependent publish .build/publish run by dotnet
#   REUSE_BUILD=1         keep binaries already built (plugin, load generator) instead of rebuilding
#   QUICK=1               smoke run: 1 round, 1 s windows, 1,000 v1 and 200 v2 ciphertexts, chart
#                         into RESULTS instead of docs/
#   CASES ["v1:socket-path v1:percent-encoded v2:localhost"; add v1:localhost for the authority-cost table]
#   ROUNDS [3]  DURATION [10s]  WARMUP [2s]  LEVELS [1,4,16,64]  MIXES ["1:0 0:1" = Encrypt, Decrypt]
#   COUNTS [10000,100000]  V2_SEEDS [1000]  PKCS11 [1]  STARTUP_RUNS [5]  IDLE_SECONDS [3]
#   GO_LEVELS [1,16,64]  GO_DURATION [5s]  BENCH [1]  BENCH_JOB [default; QUICK: short]
#   GO_ROUNDS, COLD_ROUNDS [ROUNDS]  rounds for the Go client and the cold starts: their windows are
#                         short (5 s, and 0.1–1.5 s for most cold starts), so more rounds buy a
#                         steadier median for little time
#   LOAD_SECONDS [10]  SOAK_MINUTES [0]  SOAK_INTERVAL [60 s]  RESULTS [.build/perf/<UTC time>]
#   CHART [docs/performance.png]  NOTE [text put at the top of the report, e.g. "loaded machine"]
# The old flags still work: --duration --warmup --levels --count --rounds --results --chart --no-pkcs11.
# Smoke run: QUICK=1 REUSE_BUILD=1 scripts/measure-performance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# shellcheck source=lib/measure-common.sh
. scripts/lib/measure-common.sh

if [ -n "${QUICK:-}" ]; then
  : "${BENCH_JOB:=short}" "${GO_DURATION:=1s}"
  : "${ROUNDS:=1}" "${DURATION:=1s}" "${WARMUP:=0.5s}" "${COUNTS:=1000}" "${V2_SEEDS:=200}" "${STARTUP_RUNS:=3}" "${LOAD_SECONDS:=2}"
  : "${NOTE:=QUICK=1 smoke run: short windows, one round; not release figures}"
fi
rounds=${ROUNDS:-3} go_rounds=${GO_ROUNDS:-$rounds} cold_rounds=${COLD_ROUNDS:-$rounds} duration=${DURATION:-10s} warmup=${WARMUP:-2s} levels=${LEVELS:-1,4,16,64}
mixes=${MIXES:-1:0 0:1} cases=${CASES:-v1:socket-path v1:percent-encoded v2:localhost} counts=${COUNTS:-10000,100000} v2_seeds=${V2_SEEDS:-1000} pkcs11=${PKCS11:-1}
startup_runs=${STARTUP_RUNS:-5} idle_seconds=${IDLE_SECONDS:-3} load_seconds=${LOAD_SECONDS:-10}
soak_minutes=${SOAK_MINUTES:-0} soak_interval=${SOAK_INTERVAL:-60}
go_levels=${GO_LEVELS:-1,16,64} go_duration=${GO_DURATION:-5s} bench=${BENCH:-1} bench_job=${BENCH_JOB:-default}
results=${RESULTS:-$REPO/.build/perf/$(date -u +%Y%m%dT%H%M%SZ)}
chart=${CHART:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --count) counts=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --chart) chart=$2; shift 2 ;;
    --no-pkcs11) pkcs11=0; shift ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
mkdir -p "$results"
results=$(cd "$results" && pwd)
[ -n "$chart" ] || { if [ -n "${QUICK:-}" ]; then chart="$results/performance.png"; else chart="$REPO/docs/performance.png"; fi; }
mkdir -p "$(dirname "$chart")"
began=$(date +%s) began_cpu=$(cpu_times)

# Debian packages: Go + grpc-go for the baseline and the Go client, SoftHSM, and the native
# libraries and a font ScottPlot's SkiaSharp renders with.
packages=(golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc
          protobuf-compiler softhsm2 libfontconfig1 libfreetype6 fonts-dejavu-core)
scripts/install-debian-packages.sh "${packages[@]}"
need go "install golang-go"
need dotnet "install the .NET SDK 10"
[ "$pkcs11" -eq 0 ] || need softhsm2-util "install softhsm2, or run with PKCS11=0"

echo "==> building"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
scripts/build-go-client.sh .build/bin/kms-goclient >/dev/null
scripts/build-go-baseline.sh .build/bin/kms-baseline >/dev/null
client="$REPO/.build/bin/kms-goclient" baseline_bin="$REPO/.build/bin/kms-baseline"
[ -x "$client" ] && [ -x "$baseline_bin" ] || { echo "error: the Go client or the grpc-go baseline was not built" >&2; exit 1; }
select_plugin
select_loadgen
start_scratch /tmp/kms-perf.XXXXXX

started_pid=
start_server() { # socket plugin|baseline [serve flags...]
  local socket=$1 kind=$2; shift 2
  rm -f "$socket"
  if [ "$kind" = baseline ]; then
    "$baseline_bin" -socket "$socket" >"$socket.log" 2>&1 &
  else
    "${plugin[@]}" serve --socket "$socket" --health-address off --log-level Warning "$@" >"$socket.log" 2>&1 &
  fi
  started_pid=$!
  pids+=("$started_pid")
  wait_for_socket "$socket" "$started_pid" "$socket.log"
}

stop() { # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# Servers take turns within a round, and the first one changes from round to round.
turns() { # round name...
  local round=$1; shift
  if [ $((round % 2)) -eq 1 ]; then echo "$@"; else echo "$@" | tr ' ' '\n' | tac | tr '\n' ' '; fi
}

load() { # socket target api authority mix round
  local tag=${5/:/to}
  echo "--- round $6: $2 $3 $4 mix $5"
  "${loadgen[@]}" run --socket "$1" --target "$2" --api "$3" --authority "$4" --mix "$5" --size 32 --concurrency "$levels" \
    --duration "$duration" --warmup "$warmup" --output json >"$results/load-$2-$3-$4-$tag-r$6.json"
}

# PKCS#11: a private SoftHSM configuration and token for this run, the PIN in a 0600 file.
export SOFTHSM2_CONF="$work/softhsm2.conf"
p11=()
if [ "$pkcs11" -eq 1 ]; then
  mkdir -p "$work/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$work/tokens" >"$SOFTHSM2_CONF"
  pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077; printf '%s\n' "$pin" >"$work/pin")
  softhsm2-util --init-token --free --label kms --pin "$pin" --so-pin "so-$pin" >/dev/null
  "${plugin[@]}" pkcs11 keygen --label root --primary --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token kms --pkcs11-pin-file "$work/pin" >/dev/null
  p11=(--provider pkcs11 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token kms --pkcs11-pin-file "$work/pin" --pkcs11-key root)
fi
pass="$work/passphrase"
(umask 077; head -c 24 /dev/urandom | base64 >"$pass")
"${plugin[@]}" keystore init --keystore "$work/keystore.json" --passphrase-file "$pass" >/dev/null
software=(--keystore "$work/keystore.json" --passphrase-file "$pass")

echo "==> plugin under test: ${PLUGIN:-aot} (${plugin[*]}); results in $results"
machine_line | tee "$results/machine.txt"
. scripts/lib/measure-performance-phases.sh
bench_phase
echo "==> load: $rounds round(s), levels $levels, ${warmup} warm-up + ${duration} measured per level, mixes $mixes"
start_server "$work/baseline.sock" baseline
baseline_pid=$started_pid
start_server "$work/plugin.sock" plugin --dev
plugin_pid=$started_pid
for round in $(seq "$rounds"); do
  for case in $cases; do
    IFS=: read -r api authority <<<"$case"
    for mix in $mixes; do
      for target in $(turns "$round" plugin baseline); do
        load "$work/$target.sock" "$target" "$api" "$authority" "$mix" "$round"
      done
    done
  done
done

echo "==> kube-apiserver's client stack (grpc-go) at $go_levels callers, Encrypt+Decrypt round trips; $go_rounds round(s)"
for round in $(seq "$go_rounds"); do
  for case in "v1 raw" "v1 percent" "v2 localhost"; do
    read -r api authority <<<"$case"
    for target in $(turns "$round" plugin baseline); do
      for callers in ${go_levels//,/ }; do
        window_cpu=$(cpu_times)
        "$client" -api "$api" -socket "$work/$target.sock" -authority "$authority" -mode load -concurrency "$callers" \
          -duration "$go_duration" -json >"$work/window.json"
        steal=$(steal_percent_since "$window_cpu")
        sed "s/^{/{\"target\":\"$target\",\"steal_pct\":$steal,/" "$work/window.json" >>"$results/goclient.jsonl"
      done
    done
  done
done
stop "$plugin_pid"
stop "$baseline_pid"
goclient_table

if [ "$pkcs11" -eq 1 ]; then
  echo "==> load against a plugin whose root key is in SoftHSM (Encrypt 32 B)"
  start_server "$work/pkcs11.sock" plugin "${p11[@]}"
  for round in $(seq "$rounds"); do
    load "$work/pkcs11.sock" plugin-pkcs11 v1 socket-path 1:0 "$round"
    load "$work/pkcs11.sock" plugin-pkcs11 v2 localhost 1:0 "$round"
  done
  stop "$started_pid"
fi

coldstart_phase
startup_phase
soak_phase

echo "==> report"
{
  echo "# kms-plugin against grpc-go, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  [ -z "${NOTE:-}" ] || { echo "**${NOTE}**"; echo; }
  echo "$(cat "$results/machine.txt"); plugin: ${PLUGIN:-aot}; $rounds round(s), ${duration} windows after ${warmup} warm-up; the Go client $go_rounds round(s), the cold starts $cold_rounds."
  echo "CPU steal over the run (time the hypervisor gave to other guests; a quiet machine has none): $(steal_percent_since "$began_cpu") %."
  echo "Cold start: the plugin is restarted between encrypting and decrypting; the baseline keeps its key only in memory, so it cannot be restarted and decrypts right after encrypting (the easier case for it)."
  echo
  "${loadgen[@]}" report --results "$results" --chart "$chart" --chart-mix 1:0 --title "kms-plugin (${PLUGIN:-aot}) vs grpc-go baseline over a unix socket"
  cat "$results/goclient.md" "$results/startup.md"
  [ ! -f "$results/bench.md" ] || cat "$results/bench.md"
  [ ! -f "$results/soak.md" ] || cat "$results/soak.md"
} >"$results/report.md"
cat "$results/report.md"
echo "finished in $(( $(date +%s) - began )) s; results in $results"
