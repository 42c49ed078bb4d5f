#!/usr/bin/env bash
# Start-up to the first served call, and resident memory idle and after a load, of the Release
# plugin: medians of N runs per flavour, all flavours in one run so their ratios are comparable.
#
# A run: start `serve` (in-memory --dev key, or a software keystore, which pays the Argon2id
# unlock), wait for the socket, then one real v2 Encrypt through the Go client that dials like
# kube-apiserver (retried until it succeeds); start-up = launch to that Encrypt's answer. Then
# VmRSS after 3 s idle, a 16-caller Encrypt+Decrypt load for LOAD_SECONDS, VmRSS and VmHWM (peak).
# The Argon2id unlock alone is reported separately: `keystore list` minus `version`, same binary.
#
# Usage: scripts/measure-startup.sh [runs] [flavour...]
#   flavours: base   framework-dependent publish of BASE_REF (default main), the baseline
#             jit    framework-dependent publish of the working tree, as shipped
#             r2r    the same with ReadyToRun (linux-x64): precompiled, less JIT at start-up
#             aot    NativeAOT of the working tree, built by scripts/publish-aot.sh
#   default: base jit aot. LOAD_SECONDS (default 10) sets the load length; REUSE_BUILD=1 skips
#   rebuilding flavours already under .build/startup.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(base jit aot)
load_seconds=${LOAD_SECONDS:-10}

scripts/build-go-client.sh .build/bin/kms-goclient >/dev/null
client=.build/bin/kms-goclient

binary_of() {
  case "$1" in
    base|jit|r2r|aot) echo ".build/startup/$1/kms-plugin" ;;
    *) echo "unknown flavour $1" >&2; exit 2 ;;
  esac
}

for flavour in "${flavours[@]}"; do
  [ -n "${REUSE_BUILD:-}" ] && [ -x "$(binary_of "$flavour")" ] && continue
  case "$flavour" in
    base)
      rm -rf .build/startup/base-src && mkdir -p .build/startup/base-src
      git archive "${BASE_REF:-main}" | tar -x -C .build/startup/base-src
      dotnet publish .build/startup/base-src/src/KmsPlugin.Server -c Release -o .build/startup/base -v quiet -nologo >/dev/null ;;
    jit) dotnet publish src/KmsPlugin.Server -c Release -o .build/startup/jit -v quiet -nologo >/dev/null ;;
    r2r) dotnet publish src/KmsPlugin.Server -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
           --artifacts-path .build/startup/r2r-artifacts -o .build/startup/r2r -v quiet -nologo >/dev/null ;;
    aot) scripts/publish-aot.sh .build/startup/aot >/dev/null ;;
  esac
done

dir=$(mktemp -d /tmp/kms-startup.XXXXXX)
plugin=
cleanup() { [ -n "$plugin" ] && kill -TERM "$plugin" 2>/dev/null && wait "$plugin" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
head -c 32 /dev/urandom | base64 >"$dir/passphrase"
chmod 600 "$dir/passphrase"
"$(binary_of "${flavours[0]}")" keystore init --keystore "$dir/keystore.json" --passphrase-file "$dir/passphrase" >/dev/null

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
kib() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One start: prints "startup_ms idle_kib load_kib peak_kib".
measure() {
  local binary=$1 source=$2 sock="$dir/run/kms.sock"
  local args=(serve --socket "$sock" --health-address off --log-level Warning)
  if [ "$source" = dev ]; then args+=(--dev); else args+=(--keystore "$dir/keystore.json" --passphrase-file "$dir/passphrase"); fi
  local start
  start=$(now_ms)
  "$binary" "${args[@]}" >"$dir/plugin.log" 2>&1 &
  plugin=$!
  until [ -S "$sock" ] && "$client" -api v2 -socket "$sock" -mode encrypt >/dev/null 2>&1; do
    kill -0 "$plugin" 2>/dev/null || { cat "$dir/plugin.log" >&2; exit 1; }
    sleep 0.002
  done
  local served
  served=$(now_ms)
  sleep 3
  local idle
  idle=$(kib "$plugin" VmRSS)
  "$client" -api v2 -socket "$sock" -mode load -concurrency 16 -duration "${load_seconds}s" >/dev/null
  echo "$((served - start)) $idle $(kib "$plugin" VmRSS) $(kib "$plugin" VmHWM)"
  kill -TERM "$plugin"
  wait "$plugin" || true
  plugin=
}

echo "machine: $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg); ${runs} runs per row, medians; load ${load_seconds}s x 16 callers"
printf '%-11s %-9s %12s %13s %14s %14s\n' flavour root-keys startup-ms idle-RSS-MiB load-RSS-MiB peak-RSS-MiB
for source in dev keystore; do
  for flavour in "${flavours[@]}"; do
    binary=$(binary_of "$flavour")
    : >"$dir/rows"
    for _ in $(seq "$runs"); do measure "$binary" "$source" >>"$dir/rows"; done
    printf '%-11s %-9s %12s %13.1f %14.1f %14.1f\n' "$flavour" "$source" \
      "$(cut -d' ' -f1 "$dir/rows" | median)" \
      "$(cut -d' ' -f2 "$dir/rows" | median | awk '{ print $1 / 1024 }')" \
      "$(cut -d' ' -f3 "$dir/rows" | median | awk '{ print $1 / 1024 }')" \
      "$(cut -d' ' -f4 "$dir/rows" | median | awk '{ print $1 / 1024 }')"
  done
done

echo "Argon2id keystore unlock (keystore list minus version, medians):"
for flavour in "${flavours[@]}"; do
  binary=$(binary_of "$flavour")
  : >"$dir/unlock"
  for _ in $(seq "$runs"); do
    a=$(now_ms); "$binary" version >/dev/null; b=$(now_ms)
    "$binary" keystore list --keystore "$dir/keystore.json" --passphrase-file "$dir/passphrase" >/dev/null; c=$(now_ms)
    echo "$(( (c - b) - (b - a) ))" >>"$dir/unlock"
  done
  printf '  %-11s %6s ms\n' "$flavour" "$(median <"$dir/unlock")"
done
