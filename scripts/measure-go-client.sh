#!/usr/bin/env bash
# Measures the Go client that dials like kube-apiserver against a Release build of the plugin
# (serve --dev): Encrypt(32 B)+Decrypt round trips per second, 1 and 16 callers, for each
# API and :authority form. The localhost rows are the same-run baseline: no header rewriting needed.
# Usage: scripts/measure-go-client.sh [seconds-per-run] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
runs=${2:-3}

scripts/build-go-client.sh .build/bin/kms-goclient >/dev/null
dotnet publish src/KmsPlugin.Server -c Release -o .build/publish -v quiet -nologo >/dev/null

dir=$(mktemp -d /tmp/kms-measure.XXXXXX)
sock="$dir/kms.sock"
dotnet .build/publish/kms-plugin.dll serve --dev --socket "$sock" --log-level Warning >"$dir/plugin.log" 2>&1 &
plugin=$!
trap 'kill -TERM $plugin 2>/dev/null; wait $plugin 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done

# warm-up: JIT and connection set-up are not what kube-apiserver sees in steady state
.build/bin/kms-goclient -socket "$sock" -authority raw -mode load -concurrency 16 -duration 5s >/dev/null

echo "machine: $(nproc) cores, $(uname -m), $(dotnet --version) SDK; ${runs} runs of ${seconds}s, medians"
printf '%-4s %-10s %8s %14s %12s %9s %9s\n' api authority callers round-trips/s gRPC-calls/s p50-ms p99-ms
for case in "v1 raw" "v1 percent" "v1 localhost" "v2 raw" "v2 localhost"; do
  read -r api authority <<<"$case"
  for callers in 1 16; do
    for _ in $(seq "$runs"); do
      .build/bin/kms-goclient -api "$api" -socket "$sock" -authority "$authority" -mode load \
        -concurrency "$callers" -duration "${seconds}s" -json
    done | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert all(r["errors"] == 0 for r in rows), rows
med = lambda k: statistics.median(r[k] for r in rows)
print("%-4s %-10s %8d %14.0f %12.0f %9.2f %9.2f" % (rows[0]["api"], rows[0]["authority"], rows[0]["concurrency"],
      med("calls_per_second"), 2 * med("calls_per_second"), med("p50_ms"), med("p99_ms")))'
  done
done
echo "plugin RSS after the runs: $(ps -o rss= -p $plugin | awk '{printf "%.0f MiB", $1/1024}')"
