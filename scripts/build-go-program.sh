#!/usr/bin/env bash
# Builds one of the repository's Go programs on the KMS protos (the kube-apiserver-like client in
# tests/interop/go/kmsclient, the grpc-go baseline server in bench/baseline/go/kmsbaseline).
# Fully offline: Go in GOPATH mode against the Debian 12 packages under /usr/share/gocode
# (grpc-go 1.33, protobuf-go 1.28); no modules, no proxy, nothing is downloaded.
#
# Usage: scripts/build-go-program.sh SOURCE_DIR OUT_BINARY   (SOURCE_DIR relative to the repository)
#
# Needs (Debian 12): golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
#                    protoc-gen-go protoc-gen-go-grpc protobuf-compiler
# Do NOT install golang-goprotobuf-dev: its older protoc-gen-go conflicts with protoc-gen-go.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_REL="${1:?usage: build-go-program.sh SOURCE_DIR OUT_BINARY}"
OUT="${2:?usage: build-go-program.sh SOURCE_DIR OUT_BINARY}"
SRC="$REPO/$SRC_REL"
NAME="$(basename "$SRC")"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

DEBIAN_PKGS="golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc protobuf-compiler"
SYS_GOPATH=/usr/share/gocode
GRPC_VERSION_FILE="$SYS_GOPATH/src/google.golang.org/grpc/version.go"

missing=()
for tool in go protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
for dir in google.golang.org/grpc google.golang.org/protobuf; do
  [[ -d "$SYS_GOPATH/src/$dir" ]] || missing+=("$SYS_GOPATH/src/$dir")
done
if ((${#missing[@]})); then
  echo "build-go-program: missing: ${missing[*]}" >&2
  echo "build-go-program: install with: apt-get install -y --no-install-recommends $DEBIAN_PKGS" >&2
  exit 2
fi

GRPC_VERSION="$(sed -n 's/^const Version = "\(.*\)"$/\1/p' "$GRPC_VERSION_FILE")"
echo "build-go-program: $(go version | cut -d' ' -f3-), grpc-go ${GRPC_VERSION:-unknown} ($GRPC_VERSION_FILE), $(protoc --version), protoc-gen-go $(protoc-gen-go --version 2>&1 | awk '{print $NF}')"

# Private GOPATH under the ignored build dir; the system GOPATH comes second for grpc/protobuf.
GOPATH_WORK="$REPO/.build/go"
PROGRAM_DIR="$GOPATH_WORK/src/kmsplugin/$NAME"
mkdir -p "$PROGRAM_DIR" "$(dirname "$OUT")"

# Each proto with the upstream go_package it is mapped to (import path;package name).
# The protos have no go_package; the M mappings supply it without editing the files.
PROTOS=(
  "kms/v1beta1/api.proto=k8s.io/kms/apis/v1beta1;v1beta1"
  "kms/v2/api.proto=k8s.io/kms/apis/v2;v2"
)

# Generate into a scratch dir and only replace files whose content changed, so a
# re-run leaves mtimes alone and `go build` is a cache hit. One protoc run for all.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
protoc_args=(-I "$REPO/protos" --go_out="$scratch" --go_opt=paths=import --go-grpc_out="$scratch" --go-grpc_opt=paths=import)
proto_files=()
for entry in "${PROTOS[@]}"; do
  rel="${entry%%=*}"
  protoc_args+=(--go_opt="M$entry" --go-grpc_opt="M$entry")
  proto_files+=("$REPO/protos/$rel")
done
protoc "${protoc_args[@]}" "${proto_files[@]}"

sync_file() { # src dst
  if ! cmp -s "$1" "$2"; then cp "$1" "$2"; fi
}
for entry in "${PROTOS[@]}"; do
  import="${entry#*=}"
  import="${import%%;*}"
  mkdir -p "$GOPATH_WORK/src/$import"
  for f in "$scratch/$import"/*.go; do sync_file "$f" "$GOPATH_WORK/src/$import/$(basename "$f")"; done
done
# The program's sources: copy changed files, drop ones that no longer exist in the repo.
for f in "$SRC"/*.go; do sync_file "$f" "$PROGRAM_DIR/$(basename "$f")"; done
for f in "$PROGRAM_DIR"/*.go; do
  [[ -e "$SRC/$(basename "$f")" ]] || rm -f "$f"
done

export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH="$GOPATH_WORK:$SYS_GOPATH"
export GOCACHE="${GOCACHE:-$REPO/.build/go-cache}"
(cd "$PROGRAM_DIR" && go build -trimpath -o "$OUT" .)
echo "build-go-program: built $OUT"
