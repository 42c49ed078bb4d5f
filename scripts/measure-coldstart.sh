#!/usr/bin/env bash
# kube-apiserver's start-up read, NativeAOT vs JIT vs the grpc-go baseline in one run: N distinct
# 32-byte DEKs encrypted through KMS v1, then all N decrypted with 16 callers by the Go client
# that dials like kube-apiserver (raw socket-path :authority, no client JIT in the figure).
# The plugins are restarted between the two phases, so the decrypts meet an empty DEK cache and
# a process that has served nothing yet; the baseline keeps its key only in memory, so it cannot
# be restarted and decrypts right after encrypting (the easier case for it). The servers take
# turns per round, so drift on a shared machine hits all alike; medians of ROUNDS rounds.
#
# Usage: scripts/measure-coldstart.sh [COUNT] [ROUNDS]   (defaults 10000 and 3)
#   AOT=path (default .build/aot/kms-plugin, built by scripts/publish-aot.sh when missing),
#   JIT=path to a `dotnet publish` folder (default .build/publish, published when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
rounds=${2:-3}
aot=${AOT:-.build/aot/kms-plugin}
jit=${JIT:-.build/publish}

scripts/build-go-client.sh .build/bin/kms-goclient >/dev/null
scripts/build-go-baseline.sh .build/bin/kms-baseline >/dev/null
[ -x "$aot" ] || scripts/publish-aot.sh "$(dirname "$aot")" >/dev/null
[ -f "$jit/kms-plugin.dll" ] || dotnet publish src/KmsPlugin.Server -c Release -o "$jit" -v quiet -nologo >/dev/null
client=.build/bin/kms-goclient

work=$(mktemp -d /tmp/kms-coldstart.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
(umask 077; head -c 24 /dev/urandom | base64 >"$work/passphrase")
"$aot" keystore init --keystore "$work/keystore.json" --passphrase-file "$work/passphrase" >/dev/null

start() { # name
  local sock="$work/kms.sock"
  case "$1" in
    aot) "$aot" serve --socket "$sock" --health-address off --log-level Warning \
           --keystore "$work/keystore.json" --passphrase-file "$work/passphrase" >"$work/server.log" 2>&1 & ;;
    jit) dotnet "$jit/kms-plugin.dll" serve --socket "$sock" --health-address off --log-level Warning \
           --keystore "$work/keystore.json" --passphrase-file "$work/passphrase" >"$work/server.log" 2>&1 & ;;
    baseline) .build/bin/kms-baseline -socket "$sock" >"$work/server.log" 2>&1 & ;;
  esac
  server=$!
  until [ -S "$sock" ]; do
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.01
  done
}

stop() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; rm -f "$work/kms.sock"; }

phase() { # mode -> seconds
  "$client" -api v1 -socket "$work/kms.sock" -authority raw -mode "$1" -calls "$count" -concurrency 16 \
    -timeout 30s -file "$work/pairs.bin" -json | tee -a "$work/results.jsonl" \
    | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $count DEKs, 16 callers, $rounds rounds"
declare -A times
for round in $(seq "$rounds"); do
  for name in aot jit baseline; do
    start "$name"
    phase coldstart-encrypt >/dev/null
    if [ "$name" != baseline ]; then stop; start "$name"; fi
    seconds=$(phase coldstart-decrypt)
    stop
    times[$name]+="$seconds "
    echo "round $round: $name decrypted $count in $seconds s"
  done
done

base=$(tr ' ' '\n' <<<"${times[baseline]}" | grep . | median)
echo
echo "| server | decrypt $count, 16 callers (median s) | runs | ratio to grpc-go |"
echo "|---|---|---|---|"
for name in aot jit baseline; do
  m=$(tr ' ' '\n' <<<"${times[$name]}" | grep . | median)
  printf '| %s | %.3f | %s| %.2f× |\n' "$name" "$m" "${times[$name]}" "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')"
done
