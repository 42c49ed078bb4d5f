#!/usr/bin/env bash
# Installs what the tests need (Debian packages for the kube-apiserver-like Go client and the
# grpc-go baseline server the load generator is tested against, a real etcd and etcdctl,
# hexdump (bsdextrautils) for the documented etcd checks of docs/try-it.md, SoftHSM for the
# PKCS#11 provider — each test run makes its own tokens under a temp SOFTHSM2_CONF — sprig for
# the Helm chart renderer, prometheus for promtool's rule tests and the alerting end-to-end test,
# clang for NativeAOT, podman/runc/debootstrap for the image), builds those Go programs, the
# native binary and the image, then runs every test, and the process-level suites (trait
# Binary=process) a second time against the native binary, and checks the code style
# (dotnet format --verify-no-changes). Used by developers and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
          protoc-gen-go protoc-gen-go-grpc protobuf-compiler
          etcd-server etcd-client softhsm2 bsdextrautils
          golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
          prometheus clang zlib1g-dev podman runc catatonit debootstrap opensc)
scripts/install-debian-packages.sh "${packages[@]}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK 10 is not installed (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

echo "==> building the Go client that dials like kube-apiserver, and the grpc-go baseline server"
scripts/build-go-client.sh .build/bin/kms-goclient
scripts/build-go-baseline.sh .build/bin/kms-baseline
export KMS_PLUGIN_GO_CLIENT="$PWD/.build/bin/kms-goclient" KMS_PLUGIN_GO_BASELINE="$PWD/.build/bin/kms-baseline"

echo "==> building the chart renderer (the tests' stand-in for helm template)"
scripts/build-chart-renderer.sh .build/bin/chart-render
export KMS_PLUGIN_CHART_RENDERER="$PWD/.build/bin/chart-render"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "==> the NativeAOT binary (the release artifact) and the image around it"
scripts/publish-aot.sh .build/aot
export KMS_PLUGIN_IMAGE
KMS_PLUGIN_IMAGE=$(scripts/build-image.sh .build/aot/kms-plugin | tail -n 1)

echo "==> dotnet format --verify-no-changes (the style .editorconfig sets)"
set +e
dotnet format KmsPlugin.sln --verify-no-changes
style=$?
set -e
[ "$style" -eq 0 ] || echo "error: the code is not formatted as .editorconfig says; run: dotnet format KmsPlugin.sln" >&2

echo "==> dotnet test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test KmsPlugin.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# The same process-level suites (Go-client interop, PKCS#11 on SoftHSM, keystore reload, SIGTERM,
# etcd verify) against the executable users run: PluginProcess starts KMS_PLUGIN_EXECUTABLE
# instead of `dotnet kms-plugin.dll`.
echo "==> dotnet test, process-level suites against the NativeAOT binary"
set +e
KMS_PLUGIN_EXECUTABLE="$PWD/.build/aot/kms-plugin" dotnet test tests/KmsPlugin.Server.Tests -c Release --no-build \
  --filter "Binary=process" --logger "console;verbosity=normal" 2>&1 | tee -a "$log"
native=${PIPESTATUS[0]}
set -e
[ "$native" -eq 0 ] || status=$native
[ "$style" -eq 0 ] || status=$style

# One closing line over all test assemblies, in the plain form CI reads. The console logger
# prints a "Total tests:" block per assembly with indented Passed/Failed/Skipped counts.
read -r passed failed skipped < <(awk '
  /^Total tests:/ { block = 1; next }
  block && /^ +Passed: +[0-9]+/  { p += $2; next }
  block && /^ +Failed: +[0-9]+/  { f += $2; next }
  block && /^ +Skipped: +[0-9]+/ { s += $2; next }
  { block = 0 }
  END { print p + 0, f + 0, s + 0 }' "$log")
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "error: no test ran" >&2
  exit 1
fi
exit "$status"
