# The kms-plugin executable plus SoftHSM 2, standing in for an HSM vendor's PKCS#11 module in the
# kind end-to-end test only. Production images never carry a PKCS#11 module (it is mounted from
# the host). The plugin image has no shell or package manager, so this one starts from Debian and
# takes the executable from it; the test's init containers use the shell.
ARG BASE=kms-plugin:e2e
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${BASE} AS plugin

FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=plugin /app/ /app/
USER 1654:1654
ENV KMS_PLUGIN_SOCKET=/var/run/kmsplugin/kms.sock \
    KMS_PLUGIN_HEALTH_ADDRESS=127.0.0.1:8787
ENTRYPOINT ["/app/kms-plugin"]
CMD ["serve"]
