#!/usr/bin/env bash
# NativeAOT build of kms-plugin for linux-x64: one native executable with every root-key provider
# (keystore, PKCS#11, --dev) and no .NET runtime needed on the node. Installs what the AOT compiler
# links with (Debian: clang, zlib1g-dev) and SoftHSM for the smoke check when missing.
# Takes several minutes on two cores.
# Usage: scripts/publish-aot.sh [OUTPUT_DIR]   (default: .build/aot)
#   VERSION / COMMIT (environment) stamp the binary; SKIP_SMOKE_CHECK=1 skips the check below.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/aot}
version=${VERSION:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)}
commit=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}

packages=(clang zlib1g-dev)
[ "${SKIP_SMOKE_CHECK:-}" = 1 ] || packages+=(softhsm2)
scripts/install-debian-packages.sh "${packages[@]}"

# Its own bin/obj folders, so the AOT build never mixes with the JIT build's.
dotnet publish src/KmsPlugin.Server -c Release -r linux-x64 -p:PublishAot=true \
  -p:Version="$version" -p:SourceRevisionId="$commit" \
  --artifacts-path .build/aot-artifacts -o "$out" -nologo
echo "==> $out/kms-plugin ($(du -h "$out/kms-plugin" | cut -f1))"

# The release's bill of materials: every NuGet package compiled into the binary (CycloneDX, with
# hashes), from the CycloneDX dotnet tool pinned in dotnet-tools.json.
dotnet tool restore >/dev/null
dotnet tool run dotnet-CycloneDX src/KmsPlugin.Server/KmsPlugin.Server.csproj --recursive --include-project-references \
  --exclude-dev --framework net10.0 --set-name kms-plugin --set-version "$version" \
  --output-format Json --output "$out" --filename kms-plugin.cdx.json >/dev/null
echo "==> $out/kms-plugin.cdx.json (CycloneDX SBOM)"
[ "${SKIP_SMOKE_CHECK:-}" = 1 ] && exit 0

# Smoke check of what was built, on a throw-away SoftHSM token: PKCS#11 key generation and
# listing, then `serve --provider pkcs11` answering its own `status` (a gRPC client, v1 and v2).
# The tests (scripts/test.sh) go through every PKCS#11 call; this catches a binary that cannot.
check=$(mktemp -d /tmp/kms-aot-check.XXXXXX)
plugin=""
cleanup() {
  [ -z "$plugin" ] || { kill -TERM "$plugin" 2>/dev/null; wait "$plugin" 2>/dev/null || true; }
  rm -rf "$check"
}
trap cleanup EXIT
mkdir "$check/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$check/tokens" >"$check/softhsm2.conf"
export SOFTHSM2_CONF="$check/softhsm2.conf"
# A throw-away random PIN; the plugin reads it from a file, never from its command line.
install -m 0600 /dev/null "$check/pin"  # the plugin refuses a PIN file others may read
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$check/pin"
module=/usr/lib/softhsm/libsofthsm2.so
pin=$(cat "$check/pin")
softhsm2-util --init-token --free --label aot-check --so-pin "so-$pin" --pin "$pin" >/dev/null
p11=(--pkcs11-module "$module" --pkcs11-token aot-check --pkcs11-pin-file "$check/pin")
"$out/kms-plugin" pkcs11 keygen "${p11[@]}" --label root --primary >"$check/keygen" 2>&1 || { cat "$check/keygen" >&2; exit 1; }
"$out/kms-plugin" pkcs11 list "${p11[@]}" >"$check/list" 2>&1 || { cat "$check/list" >&2; exit 1; }
grep -q root "$check/list" || { echo "error: pkcs11 list does not show the new key:" >&2; cat "$check/list" >&2; exit 1; }
"$out/kms-plugin" serve --provider pkcs11 --pkcs11-module "$module" --pkcs11-token aot-check --pkcs11-key root \
  --pkcs11-pin-file "$check/pin" --socket "$check/kms.sock" --health-address off --log-level Warning >"$check/log" 2>&1 &
plugin=$!
for _ in $(seq 100); do [ -S "$check/kms.sock" ] && break; sleep 0.1; done
if ! status=$("$out/kms-plugin" status --socket "$check/kms.sock" 2>&1) || ! grep -q "p11-root@1" <<<"$status"; then
  echo "error: the native binary did not serve with its PKCS#11 key: $status" >&2
  cat "$check/log" >&2
  exit 1
fi
echo "==> smoke check passed: pkcs11 keygen/list and serve --provider pkcs11 on SoftHSM (status: v1 and v2)"
