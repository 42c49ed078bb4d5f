#!/usr/bin/env bash
# kind end-to-end test of kms-plugin with root keys in a SoftHSM token, for machines with Docker,
# kind and kubectl. It does what an operator does:
#   1. builds the plugin image (plus SoftHSM) and creates a one-node kind cluster;
#   2. runs the plugin as a static pod on the control plane, its token initialised on first start;
#   3. enables encryption in kube-apiserver (KMS v2 by default, KMS_API=v1 for `name: ibm`);
#   4. creates a Secret and checks its etcd value prefix with etcdctl inside the etcd pod;
#   5. rotates the root key (pkcs11 keygen + promote, static pod restarted on the new primary);
#   6. rewrites every Secret and verifies again (etcdctl, then `kms-plugin etcd verify --decrypt-check`).
# The project's CI machines have no container engine, so this never runs there; the test suite
# checks its syntax, that every file it names exists, and the manifests' flags (HelmChartTests,
# KindEndToEndTests).
#
# Usage: tests/e2e/kind/run.sh        environment: KMS_API=v2|v1, CLUSTER=kms-e2e, KEEP_CLUSTER=1
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
KMS_API="${KMS_API:-v2}"
CLUSTER="${CLUSTER:-kms-e2e}"
NODE="$CLUSTER-control-plane"
POD="kms-plugin-$NODE"
SECRET="kms-e2e-$RANDOM"
SOCKET=/var/run/kmsplugin/kms.sock
P11=(--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token kms-e2e --pkcs11-pin-file /etc/kms-plugin/pin)

case "$KMS_API" in
  v2) CONFIG="$REPO/charts/examples/encryption-config-v2.yaml"; PREFIX="k8s:enc:kms:v2:kms-plugin:" ;;
  v1) CONFIG="$REPO/charts/examples/encryption-config-v1.yaml"; PREFIX="k8s:enc:kms:v1:ibm:" ;;
  *) echo "KMS_API must be v1 or v2" >&2; exit 2 ;;
esac

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "run.sh needs $tool" >&2; exit 2; }
done

step() { echo "==> $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
on_node() { docker exec "$NODE" "$@"; }
# kms-plugin inside the running static pod (PINs from files, never from arguments).
plugin() { kubectl -n kube-system exec "$POD" -c kms-plugin -- /app/kms-plugin "$@"; }

cleanup() {
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    echo "cluster $CLUSTER kept (kind delete cluster --name $CLUSTER)"
  else
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

step "building kms-plugin:e2e and kms-plugin-softhsm:e2e"
docker build -q -t kms-plugin:e2e --build-arg COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$REPO"
docker build -q -t kms-plugin-softhsm:e2e -f "$REPO/tests/e2e/kind/softhsm.Dockerfile" "$REPO/tests/e2e/kind"

step "creating kind cluster $CLUSTER"
config="$(mktemp)"
sed "s|@REPO@|$REPO|g" "$REPO/tests/e2e/kind/kind-config.yaml" > "$config"
kind create cluster --name "$CLUSTER" --config "$config" --wait 180s
rm -f "$config"
kind load docker-image --name "$CLUSTER" kms-plugin-softhsm:e2e

step "starting the plugin as a static pod (SoftHSM token, PINs in /etc/kms-plugin)"
on_node sh -c 'set -eu
  mkdir -p /etc/kms-plugin /var/lib/kms-plugin/softhsm
  umask 077
  head -c 18 /dev/urandom | base64 > /etc/kms-plugin/pin
  head -c 18 /dev/urandom | base64 > /etc/kms-plugin/so-pin
  chown -R 1654:1654 /etc/kms-plugin && chmod 0700 /etc/kms-plugin && chmod 0600 /etc/kms-plugin/pin /etc/kms-plugin/so-pin
  cp /kms-e2e/kms-plugin-softhsm-static-pod.yaml /etc/kubernetes/manifests/kms-plugin.yaml'
for _ in $(seq 1 90); do   # the mirror pod appears once the kubelet has started the static pod
  kubectl -n kube-system get "pod/$POD" >/dev/null 2>&1 && break
  sleep 2
done
kubectl -n kube-system wait "pod/$POD" --for=condition=Ready --timeout=300s
plugin status --socket "$SOCKET"

step "enabling encryption in kube-apiserver (KMS $KMS_API)"
on_node cp "/kms-e2e-examples/$(basename "$CONFIG")" /etc/kubernetes/encryption/config.yaml
flags='    - --encryption-provider-config=/etc/kubernetes/encryption/config.yaml'
[ "$KMS_API" = v1 ] && flags="$flags\n    - --feature-gates=KMSv1=true"
on_node sed -i "s|^    - kube-apiserver\$|&\n$flags|" /etc/kubernetes/manifests/kube-apiserver.yaml
sleep 10   # the kubelet notices the changed manifest and restarts kube-apiserver
wait_for_apiserver() {
  for _ in $(seq 1 90); do
    kubectl get --raw /readyz >/dev/null 2>&1 && return 0
    sleep 2
  done
  fail "kube-apiserver did not become ready"
}
wait_for_apiserver
on_node grep -q -- --encryption-provider-config /etc/kubernetes/manifests/kube-apiserver.yaml

etcd_value() {
  kubectl -n kube-system exec "etcd-$NODE" -- etcdctl --endpoints https://127.0.0.1:2379 \
    --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/server.crt \
    --key /etc/kubernetes/pki/etcd/server.key get "/registry/secrets/default/$SECRET" --print-value-only
}
check_etcd() { # ROOT_KEY_ID
  local value
  value="$(etcd_value | tr -d '\0')"
  case "$value" in "$PREFIX"*) ;; *) fail "etcd value of $SECRET does not start with $PREFIX" ;; esac
  case "$value" in *e2e-plaintext-value*) fail "etcd holds the Secret in plaintext" ;; esac
  case "$value" in *"$1"*) ;; *) fail "etcd value of $SECRET does not name root key $1" ;; esac
  echo "etcd: /registry/secrets/default/$SECRET starts with $PREFIX, under root key $1"
}
etcd_verify() {
  kubectl -n kube-system delete pod kms-plugin-etcd-verify --ignore-not-found >/dev/null
  kubectl apply -f "$REPO/tests/e2e/kind/etcd-verify-pod.yaml" >/dev/null
  kubectl -n kube-system wait pod/kms-plugin-etcd-verify --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s \
    || { kubectl -n kube-system logs kms-plugin-etcd-verify; fail "kms-plugin etcd verify failed"; }
  kubectl -n kube-system logs kms-plugin-etcd-verify
}

step "creating Secret default/$SECRET and checking etcd"
kubectl -n default create secret generic "$SECRET" --from-literal=data=e2e-plaintext-value
check_etcd p11-root-1
etcd_verify

step "rotating the root key: keygen root-2, promote, restart the static pod on it"
plugin pkcs11 keygen --label root-2 "${P11[@]}"
plugin pkcs11 promote --label root-2 "${P11[@]}"
on_node sed -i 's|^        - --pkcs11-key=root-1$|        - --pkcs11-key=root-2\n        - --pkcs11-decrypt-key=root-1|' /etc/kubernetes/manifests/kms-plugin.yaml
for _ in $(seq 1 90); do
  plugin status --socket "$SOCKET" --json 2>/dev/null | grep -q '"id":"p11-root-2","role":"primary"' && break
  sleep 2
done
plugin status --socket "$SOCKET" --json | grep -q '"id":"p11-root-2","role":"primary"' || fail "the plugin did not come back on root-2"
plugin status --socket "$SOCKET"

step "rewriting every Secret under the new root key"
kubectl get secrets --all-namespaces -o json | kubectl replace -f - >/dev/null
check_etcd p11-root-2
etcd_verify
[ "$(kubectl -n default get secret "$SECRET" -o jsonpath='{.data.data}' | base64 -d)" = e2e-plaintext-value ] \
  || fail "the Secret does not read back"

echo "PASS: KMS $KMS_API with a SoftHSM root key, rotated, every Secret rewritten and verified"
