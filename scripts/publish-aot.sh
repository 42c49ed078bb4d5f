#!/usr/bin/env bash
# NativeAOT build of kms-plugin for linux-x64: one native executable, no .NET runtime needed on
# the node. Installs what the AOT compiler links with (Debian: clang, zlib1g-dev) when missing.
# Takes several minutes on two cores; the JIT build stays the default.
# Usage: scripts/publish-aot.sh [OUTPUT_DIR]   (default: .build/aot)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/aot}

scripts/install-debian-packages.sh clang zlib1g-dev

# Its own bin/obj folders, so the AOT build never mixes with the JIT build's.
dotnet publish src/KmsPlugin.Server -c Release -r linux-x64 -p:PublishAot=true \
  --artifacts-path .build/aot-artifacts -o "$out" -nologo
echo "==> $out/kms-plugin ($(du -h "$out/kms-plugin" | cut -f1))"

# Smoke check of what was built: it serves a real call (its own `status`, which is also a gRPC
# client), and it refuses PKCS#11 with a clear error instead of failing inside Pkcs11Interop.
check=$(mktemp -d /tmp/kms-aot-check.XXXXXX)
"$out/kms-plugin" serve --dev --socket "$check/kms.sock" --health-address off --log-level Warning >"$check/log" 2>&1 &
plugin=$!
trap 'kill -TERM $plugin 2>/dev/null; wait $plugin 2>/dev/null; rm -rf "$check"' EXIT
for _ in $(seq 100); do [ -S "$check/kms.sock" ] && break; sleep 0.1; done
"$out/kms-plugin" status --socket "$check/kms.sock" >/dev/null
set +e
refusal=$("$out/kms-plugin" serve --provider pkcs11 --socket "$check/p11.sock" 2>&1)
status=$?
set -e
if [ "$status" -ne 2 ] || ! grep -q "NativeAOT build" <<<"$refusal"; then
  echo "error: the AOT build did not refuse --provider pkcs11 clearly (exit $status): $refusal" >&2
  exit 1
fi
echo "==> smoke check passed: serves v1/v2 (status), refuses --provider pkcs11"
