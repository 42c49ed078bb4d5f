#!/usr/bin/env bash
# Builds tests/interop/go/kmsclient: a Go gRPC client that talks KMS v1 and KMS v2 to the
# plugin the way kube-apiserver's v1 and v2 clients do (offline, from Debian packages; see
# build-go-program.sh).
# Usage: scripts/build-go-client.sh [OUT_BINARY]   (default: .build/bin/kms-goclient)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$REPO/scripts/build-go-program.sh" tests/interop/go/kmsclient "${1:-$REPO/.build/bin/kms-goclient}"
