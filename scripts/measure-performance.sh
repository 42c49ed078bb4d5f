#!/usr/bin/env bash
# The full over-the-socket measurement of issue 7, unattended, every figure against baselines
# measured in the same run:
#   load       kms-loadgen at each concurrency level, KMS v1 and v2, socket-path and localhost
#              :authority, against a Release `serve --dev` (software root key) and against the
#              grpc-go baseline server (bench/baseline/go/kmsbaseline); v1 and v2 once more
#              against a plugin whose root key is in SoftHSM (PKCS#11)
#   goclient   kube-apiserver's own client stack (grpc-go, raw socket path) at 16 callers against
#              both servers, as a cross-check of the .NET load generator
#   coldstart  N distinct 32-byte DEKs encrypted (KMS v1, as kube-apiserver v1 writes), the plugin
#              restarted, then all N decrypted with 16 callers; software keystore and PKCS#11,
#              each with one plugin DEK for all (the normal case: one root-key unwrap after the
#              restart) and with --dek-max-uses 1 (worst case: one unwrap per ciphertext)
# then prints Markdown tables with ratios to the baseline and renders docs/performance.png.
#
# Usage: scripts/measure-performance.sh [--duration 10s] [--warmup 2s] [--levels 1,4,16,64]
#                                       [--count 10000] [--results DIR] [--chart FILE] [--no-pkcs11]
# Smoke run: scripts/measure-performance.sh --duration 1s --warmup 0.5s --levels 1,16 --count 500 --chart /tmp/p.png
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

duration=10s warmup=2s levels=1,4,16,64 count=10000 pkcs11=1
results="$REPO/.build/performance/$(date -u +%Y%m%dT%H%M%SZ)"
chart="$REPO/docs/performance.png"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --chart) chart=$2; shift 2 ;;
    --no-pkcs11) pkcs11=0; shift ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
mkdir -p "$results" "$(dirname "$chart")"
results=$(cd "$results" && pwd)
began=$(date +%s)

# Debian packages: Go + grpc-go for the baseline and the Go client, SoftHSM, and the native
# libraries and a font ScottPlot's SkiaSharp renders with.
packages=(golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc
          protobuf-compiler softhsm2 libfontconfig1 libfreetype6 fonts-dejavu-core)
scripts/install-debian-packages.sh "${packages[@]}"

echo "==> building (Release)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
scripts/build-go-client.sh .build/bin/kms-goclient >/dev/null
scripts/build-go-baseline.sh .build/bin/kms-baseline >/dev/null
dotnet publish src/KmsPlugin.Server -c Release -o .build/publish -v quiet -nologo >/dev/null
dotnet publish bench/KmsPlugin.LoadGen -c Release -o .build/loadgen -v quiet -nologo >/dev/null
plugin=(dotnet "$REPO/.build/publish/kms-plugin.dll")
loadgen=(dotnet "$REPO/.build/loadgen/kms-loadgen.dll")

work=$(mktemp -d /tmp/kms-perf.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_socket() { # socket pid
  for _ in $(seq 600); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "server for $1 exited; log:" >&2; cat "$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2; exit 1
}

started_pid=
start_plugin() { # socket, then serve flags
  local socket=$1; shift
  "${plugin[@]}" serve --socket "$socket" --health-address off --log-level Warning "$@" >"$socket.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_for_socket "$socket" "$started_pid"
}

stop() { # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

load() { # socket target api authority
  echo "--- $2 $3 $4"
  "${loadgen[@]}" run --socket "$1" --target "$2" --api "$3" --authority "$4" --concurrency "$levels" \
    --duration "$duration" --warmup "$warmup" --output json >"$results/load-$2-$3-$4.json"
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
  "${plugin[@]}" pkcs11 keygen --label root --primary --module /usr/lib/softhsm/libsofthsm2.so --token kms --pin-file "$work/pin" >/dev/null
  p11=(--provider pkcs11 --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token kms --pkcs11-pin-file "$work/pin" --pkcs11-key root)
fi

echo "==> load: levels $levels, ${warmup} warm-up + ${duration} measured per level; results in $results"
echo "machine: $(nproc) cores, $(uname -m), .NET SDK $(dotnet --version), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
.build/bin/kms-baseline -socket "$work/baseline.sock" >"$work/baseline.sock.log" 2>&1 &
baseline_pid=$!
pids+=("$baseline_pid")
wait_for_socket "$work/baseline.sock" "$baseline_pid"
start_plugin "$work/plugin.sock" --dev
plugin_pid=$started_pid
# Plugin and baseline take turns per case, so drift on a shared machine hits both alike.
for api in v1 v2; do
  for authority in socket-path localhost; do
    load "$work/plugin.sock" plugin "$api" "$authority"
    load "$work/baseline.sock" baseline "$api" "$authority"
  done
done

echo "==> cross-check with kube-apiserver's client stack (grpc-go, raw socket path :authority), 16 callers"
for api in v1 v2; do
  for target in plugin baseline; do
    .build/bin/kms-goclient -api "$api" -socket "$work/$target.sock" -authority raw -mode load -concurrency 16 \
      -duration "$duration" -json | tee "$results/goclient-$target-$api.jsonl"
  done
done
stop "$plugin_pid"
stop "$baseline_pid"

if [ "$pkcs11" -eq 1 ]; then
  echo "==> load against a plugin whose root key is in SoftHSM"
  start_plugin "$work/pkcs11.sock" "${p11[@]}"
  load "$work/pkcs11.sock" plugin-pkcs11 v1 socket-path
  load "$work/pkcs11.sock" plugin-pkcs11 v2 localhost
  stop "$started_pid"
fi

echo "==> cold start: $count distinct DEKs, KMS v1, plugin restarted between encrypt and decrypt"
pass="$work/passphrase"
(umask 077; head -c 24 /dev/urandom | base64 >"$pass")
"${plugin[@]}" keystore init --keystore "$work/keystore.json" --passphrase-file "$pass" >/dev/null
software=(--keystore "$work/keystore.json" --passphrase-file "$pass")
coldstart() { # name dek-flags... -- provider flags...
  local name=$1; shift
  local dek=()
  while [ "$1" != "--" ]; do dek+=("$1"); shift; done
  shift
  local socket="$work/cold.sock"
  start_plugin "$socket" "$@" "${dek[@]}"
  "${loadgen[@]}" coldstart encrypt --socket "$socket" --api v1 --authority socket-path --count "$count" --concurrency 16 \
    --file "$work/cold.bin" --target "$name" --output json >"$results/coldstart-$name-encrypt.json"
  stop "$started_pid"
  start_plugin "$socket" "$@"
  "${loadgen[@]}" coldstart decrypt --socket "$socket" --authority socket-path --concurrency 16 \
    --file "$work/cold.bin" --target "$name" --output json >"$results/coldstart-$name-decrypt.json"
  stop "$started_pid"
  cat "$results/coldstart-$name-encrypt.json" "$results/coldstart-$name-decrypt.json"
}
coldstart software-shared-dek -- "${software[@]}"
coldstart software-dek-per-key --dek-max-uses 1 -- "${software[@]}"
if [ "$pkcs11" -eq 1 ]; then
  coldstart pkcs11-shared-dek -- "${p11[@]}"
  coldstart pkcs11-dek-per-key --dek-max-uses 1 -- "${p11[@]}"
fi

echo "==> report"
"${loadgen[@]}" report --results "$results" --chart "$chart" | tee "$results/report.md"
echo "finished in $(( $(date +%s) - began )) s; results in $results"
