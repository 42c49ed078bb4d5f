#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that sees outside bytes, with SharpFuzz and AFL++.
#   fuzz/run.sh TARGET [SECONDS]   fuzz one target (until Ctrl-C without SECONDS)
#   fuzz/run.sh all SECONDS        each target in turn for SECONDS
#   fuzz/run.sh replay TARGET PATH...  run saved inputs (e.g. findings) once through a target
# Targets: envelope kube-value hpack normalizer keystore config. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/fuzz/.build
targets=(envelope kube-value hpack normalizer keystore config)

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "==> installing AFL++ (Debian package afl++)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi

if [ ! -x fuzz/.tools/sharpfuzz ]; then
  echo "==> installing the SharpFuzz instrumenter (NuGet tool SharpFuzz.CommandLine)"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path fuzz/.tools >/dev/null
fi

echo "==> building and instrumenting the parsers"
# plain/ runs outside afl-fuzz (seeds, replay): instrumented code needs afl-fuzz's shared memory.
dotnet build fuzz/KmsPlugin.Fuzz -c Release -o "$build/plain" --nologo -v quiet
rm -rf "$build/bin" && cp -r "$build/plain" "$build/bin"
for dll in KmsPlugin.Core.dll KmsPlugin.EtcdValues.dll KmsPlugin.RootKeys.Keystore.dll kms-plugin.dll; do
  fuzz/.tools/sharpfuzz "$build/bin/$dll"
done

work=$build/work
dotnet "$build/plain/KmsPlugin.Fuzz.dll" seeds "$work"

if [ "${1:-}" = replay ]; then
  shift
  exec dotnet "$build/plain/KmsPlugin.Fuzz.dll" replay "$1" "$work" "${@:2}"
fi

fuzz_one() {
  local target=$1 seconds=${2:-}
  local out=$root/fuzz/findings/$target
  mkdir -p "$out"
  # A campaign resumes where it stopped when its output directory already has a queue.
  local input=$work/seeds/$target
  [ -d "$out/default/queue" ] && input=-
  echo "==> fuzzing $target${seconds:+ for ${seconds}s}; findings in fuzz/findings/$target"
  AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
    AFL_NO_UI=1 AFL_AUTORESUME=1 \
    afl-fuzz -i "$input" -o "$out" -t 10000 -m none ${seconds:+-V "$seconds"} \
      -- dotnet "$build/bin/KmsPlugin.Fuzz.dll" run "$target" "$work" || true
  local crashes
  crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  local execs
  execs=$(awk -F': *' '/^execs_done/ { print $2 }' "$out/default/fuzzer_stats" 2>/dev/null || echo "?")
  echo "==> $target: $execs execs, $crashes crashes (replay: fuzz/run.sh replay $target fuzz/findings/$target/default/crashes)"
}

case "${1:-}" in
  all)
    for t in "${targets[@]}"; do fuzz_one "$t" "${2:?all needs SECONDS}"; done ;;
  envelope|kube-value|hpack|normalizer|keystore|config)
    fuzz_one "$1" "${2:-}" ;;
  *)
    echo "usage: fuzz/run.sh TARGET [SECONDS] | all SECONDS | replay TARGET PATH...; targets: ${targets[*]}" >&2
    exit 2 ;;
esac
