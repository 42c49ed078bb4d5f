#!/usr/bin/env bash
# Builds bench/baseline/go/kmsbaseline: the minimal grpc-go KMS v1/v2 server (one in-memory
# AES-GCM key) the load generator measures the plugin against (offline, from Debian packages;
# see build-go-program.sh).
# Usage: scripts/build-go-baseline.sh [OUT_BINARY]   (default: .build/bin/kms-baseline)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$REPO/scripts/build-go-program.sh" bench/baseline/go/kmsbaseline "${1:-$REPO/.build/bin/kms-baseline}"
