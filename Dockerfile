# kms-plugin image. The HSM vendor's PKCS#11 module is mounted at run time, never baked in.
#   docker build --build-arg VERSION=0.1.0 --build-arg COMMIT=$(git rev-parse --short HEAD) -t kms-plugin .
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
# Restore first, from the project files alone, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/KmsPlugin.Core/KmsPlugin.Core.csproj src/KmsPlugin.Core/
COPY src/KmsPlugin.Kubernetes/KmsPlugin.Kubernetes.csproj src/KmsPlugin.Kubernetes/
COPY src/KmsPlugin.Pkcs11/KmsPlugin.Pkcs11.csproj src/KmsPlugin.Pkcs11/
COPY src/KmsPlugin.Server/KmsPlugin.Server.csproj src/KmsPlugin.Server/
RUN dotnet restore src/KmsPlugin.Server/KmsPlugin.Server.csproj
COPY protos/ protos/
COPY src/ src/
ARG VERSION=0.1.0
ARG COMMIT=unknown
RUN dotnet publish src/KmsPlugin.Server/KmsPlugin.Server.csproj -c Release --no-restore -o /out \
      -p:Version=${VERSION} -p:SourceRevisionId=${COMMIT}

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# The aspnet image's non-root user; the socket directory must be writable by it (see the static pod).
USER 1654:1654
WORKDIR /app
COPY --from=build --chown=0:0 /out/ /app/
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_gcServer=0 \
    KMS_PLUGIN_SOCKET=/var/run/kmsplugin/kms.sock \
    KMS_PLUGIN_HEALTH_ADDRESS=127.0.0.1:8787
EXPOSE 8787
ENTRYPOINT ["dotnet", "/app/kms-plugin.dll"]
CMD ["serve"]
