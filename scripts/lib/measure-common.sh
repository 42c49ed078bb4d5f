# Helpers the measurement scripts share (sourced, not run): the plugin under test, waiting for a
# socket, /proc figures, medians. Callers set `set -euo pipefail` and cd to the repository root.

# Fails loudly when a tool a measurement needs is not there: never a run with made-up numbers.
need() { # command hint
  command -v "$1" >/dev/null 2>&1 || { echo "error: $1 not found; $2" >&2; exit 1; }
}

# The plugin to measure, in the array `plugin`: PLUGIN=aot (default) is the NativeAOT binary
# scripts/publish-aot.sh builds into .build/aot/kms-plugin, PLUGIN=jit the framework-dependent
# publish in .build/publish run by `dotnet`. REUSE_BUILD=1 keeps a binary already built.
select_plugin() {
  case "${PLUGIN:-aot}" in
    aot)
      if [ -z "${REUSE_BUILD:-}" ] || [ ! -x .build/aot/kms-plugin ]; then
        echo "==> building the NativeAOT binary (scripts/publish-aot.sh, several minutes)" >&2
        scripts/publish-aot.sh .build/aot >&2
      fi
      [ -x .build/aot/kms-plugin ] || { echo "error: .build/aot/kms-plugin was not built" >&2; exit 1; }
      plugin=("$PWD/.build/aot/kms-plugin") ;;
    jit)
      if [ -z "${REUSE_BUILD:-}" ] || [ ! -f .build/publish/kms-plugin.dll ]; then
        dotnet publish src/KmsPlugin.Server -c Release -o .build/publish -v quiet -nologo >/dev/null
      fi
      [ -f .build/publish/kms-plugin.dll ] || { echo "error: .build/publish/kms-plugin.dll was not built" >&2; exit 1; }
      plugin=(dotnet "$PWD/.build/publish/kms-plugin.dll") ;;
    *) echo "error: PLUGIN must be aot or jit, not ${PLUGIN}" >&2; exit 2 ;;
  esac
}

# The load generator, in the array `loadgen`; REUSE_BUILD=1 keeps one already built.
select_loadgen() {
  if [ -z "${REUSE_BUILD:-}" ] || [ ! -f .build/loadgen/kms-loadgen.dll ]; then
    dotnet publish bench/KmsPlugin.LoadGen -c Release -o .build/loadgen -v quiet -nologo >/dev/null
  fi
  [ -f .build/loadgen/kms-loadgen.dll ] || { echo "error: .build/loadgen/kms-loadgen.dll was not built" >&2; exit 1; }
  loadgen=(dotnet "$PWD/.build/loadgen/kms-loadgen.dll")
}

# A scratch directory in `work` and the array `pids` of servers and drivers; on exit every one
# still listed gets SIGTERM and is waited for, then the directory goes.
start_scratch() { # mktemp-template
  work=$(mktemp -d "$1")
  pids=()
  trap cleanup_scratch EXIT
}

cleanup_scratch() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

wait_for_socket() { # socket pid log
  for _ in $(seq 3000); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "error: server for $1 exited; log:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.01
  done
  echo "error: timed out waiting for $1" >&2; exit 1
}

# Drops a process that has ended from the caller's `pids` array, so clean-up never signals a reused pid.
forget() { # pid
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# A /proc/PID/status field in KiB (VmRSS, VmHWM).
kib() { awk -v f="$2" '$1 == f":" { print $2 }' "/proc/$1/status"; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal (jiffies).
cpu_times() {
  awk '$1 == "cpu" { print $2, $3, $4, $5, $6, $7, $8, $9; exit }' /proc/stat
}

# Steal since cpu_times printed $1, in percent: the share of CPU time the hypervisor gave to other
# guests. Zero on a quiet machine; "nothing else running" does not show it.
steal_percent_since() { # "cpu_times output"
  awk -v before="$1" -v after="$(cpu_times)" 'BEGIN {
    n = split(before, b, " "); split(after, a, " ")
    for (i = 1; i <= n; i++) total += a[i] - b[i]
    printf "%.1f", (total > 0 ? 100 * (a[8] - b[8]) / total : 0) }'
}

machine_line() {
  echo "machine: $(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')"
}
