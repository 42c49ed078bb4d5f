# kms-plugin image: the NativeAOT executable on a minimal base, with no SDK, no .NET runtime and no
# shell. The HSM vendor's PKCS#11 module is mounted at run time, never baked in.
#   docker build --build-arg VERSION=0.1.0 --build-arg COMMIT=$(git rev-parse --short HEAD) -t kms-plugin .
# The bases are build arguments; the defaults are the upstream images. scripts/build-image.sh
# (podman, no registry) passes local stand-ins and BINARY=prebuilt (see docs/container-image.md).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
# source: compile the binary in the build stage (the default). prebuilt: take the one
# scripts/publish-aot.sh built and smoke-checked, copied to .build/image/kms-plugin in the context.
ARG BINARY=source

FROM ${SDK_IMAGE} AS source
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props dotnet-tools.json ./
COPY protos/ protos/
COPY src/ src/
COPY scripts/publish-aot.sh scripts/install-debian-packages.sh scripts/
ARG VERSION=0.1.0
ARG COMMIT=unknown
# publish-aot.sh installs the linker (clang, zlib1g-dev) and SoftHSM, compiles, then proves the
# binary: PKCS#11 keygen/list and serve on a throw-away SoftHSM token.
RUN VERSION=${VERSION} COMMIT=${COMMIT} DOTNET_CLI_TELEMETRY_OPTOUT=1 scripts/publish-aot.sh /out \
 && rm -rf /var/lib/apt/lists/*

FROM scratch AS prebuilt
COPY .build/image/kms-plugin .build/image/kms-plugin.cdx.json /out/

FROM ${BINARY} AS binary

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="kms-plugin" \
      org.opencontainers.image.description="Kubernetes KMS v1/v2 encryption provider (keystore or PKCS#11 root keys), NativeAOT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
# The executable and its CycloneDX SBOM (scripts/publish-aot.sh writes both).
COPY --from=binary /out/kms-plugin /out/kms-plugin.cdx.json /app/
# The upstream base's non-root user ("app"); the socket directory must be writable by it (see
# the static pod). Numeric, so no /etc/passwd entry is needed in a stand-in base.
USER 1654:1654
ENV KMS_PLUGIN_SOCKET=/var/run/kmsplugin/kms.sock \
    KMS_PLUGIN_HEALTH_ADDRESS=127.0.0.1:8787
EXPOSE 8787
ENTRYPOINT ["/app/kms-plugin"]
CMD ["serve"]
