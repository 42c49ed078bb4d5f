#!/usr/bin/env bash
# Builds the kms-plugin image (Dockerfile) with podman and tags localhost/kms-plugin:<version>.
# CI has no container registry, so the bases are local stand-ins made from Debian packages:
#   runtime: `debootstrap --variant=minbase bookworm` plus libssl3 (what runtime-deps provides
#            for a NativeAOT binary: glibc, libstdc++, OpenSSL), imported as
#            localhost/kms-plugin-base:bookworm (made once, ~30 s);
#   binary:  BINARY=prebuilt, the executable scripts/publish-aot.sh built and smoke-checked on
#            this machine, instead of compiling it a second time inside an SDK image.
# The Dockerfile's defaults (upstream SDK and runtime-deps images, BINARY=source) stay the
# from-source build `docker build .` does. The last output line is the image reference.
# Usage: scripts/build-image.sh [NATIVE_BINARY]   (default: publish to .build/aot first)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-debian-packages.sh podman runc catatonit debootstrap
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/podman/containers.conf}

version=${VERSION:-$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)}
commit=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
base=localhost/kms-plugin-base:bookworm
image=localhost/kms-plugin:$version

binary=${1:-}
if [ -z "$binary" ]; then
  VERSION=$version COMMIT=$commit scripts/publish-aot.sh .build/aot >&2
  binary=.build/aot/kms-plugin
fi
[ -x "$binary" ] || { echo "error: $binary is not an executable (build it with scripts/publish-aot.sh)" >&2; exit 1; }

if ! podman image exists "$base"; then
  echo "==> making the runtime base stand-in $base (debootstrap minbase bookworm)" >&2
  root=$(mktemp -d /tmp/kms-image-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  # The Debian mirror this machine's apt already uses (the first main archive in its sources).
  mirror=$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } \
           | sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \[*[^]]*\]* *\(http[^ ]*\) .*/\1/p' \
           | grep -v -- '-security' | head -n 1 || true)
  [ -n "$mirror" ] || { echo "error: no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}" >&2; exit 1; }
  debootstrap --variant=minbase --include=libssl3 bookworm "$root" "$mirror" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import --quiet - "$base" >/dev/null
fi

sbom="$(dirname "$binary")/kms-plugin.cdx.json"
[ -f "$sbom" ] || { echo "error: no SBOM next to $binary (scripts/publish-aot.sh writes $sbom)" >&2; exit 1; }
mkdir -p .build/image
cp "$binary" .build/image/kms-plugin
cp "$sbom" .build/image/kms-plugin.cdx.json
echo "==> podman build $image (runtime base $base, prebuilt binary $binary)" >&2
podman build --quiet --network none --pull=never -f Dockerfile -t "$image" \
  --build-arg SDK_IMAGE="$base" --build-arg RUNTIME_IMAGE="$base" --build-arg BINARY=prebuilt \
  --build-arg VERSION="$version" --build-arg COMMIT="$commit" \
  --annotation org.opencontainers.image.version="$version" \
  --annotation org.opencontainers.image.revision="$commit" . >&2
echo "==> $image: $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1 / 1e6}')" >&2
echo "$image"
