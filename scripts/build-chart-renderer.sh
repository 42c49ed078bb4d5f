#!/usr/bin/env bash
# Builds tests/chart-render, the stand-in for `helm template` the chart tests use (no helm binary
# exists on Debian and the Go module proxy is not reachable). Offline: Go in GOPATH mode against
# Debian's sprig and sigs.k8s.io/yaml under /usr/share/gocode; nothing is downloaded.
#
# Usage: scripts/build-chart-renderer.sh [OUT_BINARY]   (default: .build/bin/chart-render)
#
# Needs (Debian 12): golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$REPO/.build/bin/chart-render}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
SYS_GOPATH=/usr/share/gocode

for dir in github.com/Masterminds/sprig sigs.k8s.io/yaml; do
  if [[ ! -d "$SYS_GOPATH/src/$dir" ]]; then
    echo "build-chart-renderer: missing $SYS_GOPATH/src/$dir" >&2
    echo "build-chart-renderer: install with: apt-get install -y --no-install-recommends golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev" >&2
    exit 2
  fi
done

GOPATH_WORK="$REPO/.build/go"
SRC_DIR="$GOPATH_WORK/src/kmsplugin/chartrender"
mkdir -p "$SRC_DIR" "$(dirname "$OUT")"
rm -f "$SRC_DIR"/*.go
cp "$REPO/tests/chart-render"/*.go "$SRC_DIR/"

export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH="$GOPATH_WORK:$SYS_GOPATH"
export GOCACHE="${GOCACHE:-$REPO/.build/go-cache}"
(cd "$SRC_DIR" && go build -trimpath -o "$OUT" .)
echo "build-chart-renderer: built $OUT"
