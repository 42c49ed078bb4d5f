# The kms-plugin image plus SoftHSM 2, standing in for an HSM vendor's PKCS#11 module in the kind
# end-to-end test only. Production images never carry a PKCS#11 module (it is mounted from the host).
ARG BASE=kms-plugin:e2e
FROM ${BASE}
USER 0:0
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2 \
 && rm -rf /var/lib/apt/lists/*
USER 1654:1654
