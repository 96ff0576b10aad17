#!/usr/bin/env bash
# Deploy the etcd part of Charmed Kubernetes' bundle on the local model (examples/bundles), with the overlay
# named by the first argument or OVERLAY if any (e.g. examples/bundles/vault-pki-overlay.yaml), and wait
# until every unit is active. Then show, with Debian's etcdctl (an etcd client sharing no code with the
# charm), that every member's client listener verifies with the external CA alone, the CA provider's ca.crt,
# while etcdctl presents the control plane stand-in's db credentials; and run one compaction round as
# kube-apiserver does.
OVERLAY="${1:-${OVERLAY:-}}"
ETCDCTL=/usr/bin/etcdctl
for need in "$ETCDCTL:etcd-client" "$(command -v jq || echo jq):jq"; do
  if [ ! -x "${need%%:*}" ]; then
    echo "${need%%:*} is missing: apt-get install ${need##*:}" >&2
    exit 1
  fi
done
if [ -n "$OVERLAY" ] && [ ! -f "$OVERLAY" ]; then
  echo "no overlay file $OVERLAY" >&2
  exit 1
fi
OVERLAY="${OVERLAY:+$(realpath "$OVERLAY")}" # the preamble moves to the repository root
source "$(dirname "$0")/demo-preamble.sh"

$LJ deploy examples/bundles/charmed-kubernetes-etcd.yaml ${OVERLAY:+--overlay "$OVERLAY"}
$LJ wait-for-idle --status active --timeout 10m
$LJ status
$LJ run kubernetes-control-plane/0 put key=/registry/demo value=hello endpoint=db
$LJ run kubernetes-control-plane/0 get key=/registry/demo endpoint=db

# Where things are, from Juju's status JSON: the CA is whatever etcd's certificates endpoint is related to
# (easyrsa, or vault with the overlay), and each etcd unit's client URL is its address on the client port.
status=$($LJ status --format json)
ca_app=$(jq -r '.applications.etcd.relations.certificates[0]."related-application"' <<<"$status")
ca_unit=$(jq -r --arg app "$ca_app" '.applications[$app].units | keys[0]' <<<"$status")
port=$($LJ config etcd port)
endpoints=$(jq -r --arg port "$port" '[.applications.etcd.units[]."public-address" | "https://\(.):\($port)"] | join(",")' <<<"$status")
# Each unit's filesystem root on the local model: units/<app>-<n>/root under the model directory.
unit_root() { echo "$LOCALJUJU_MODEL_DIR/units/${1/\//-}/root"; }
ca_file="$(unit_root "$ca_unit")/var/lib/ca-provider/ca.crt"
db="$(unit_root kubernetes-control-plane/0)/var/lib/etcd-requirer/db"
ctl() {
  ETCDCTL_API=3 "$ETCDCTL" --cacert "$ca_file" --cert "$db/client.crt" --key "$db/client.key" \
    --endpoints "$endpoints" "$@"
}

echo
echo "etcdctl with $ca_app's CA only ($ca_file) and the control plane's db credentials, on $endpoints:"
# Every unit is active and idle by now; still, allow a member a short while to swap its served certificate.
for try in $(seq 30); do
  if out=$(ctl endpoint health 2>&1); then break; fi
  if [ "$try" = 30 ]; then
    echo "$out" >&2
    exit 1
  fi
  sleep 5
done
echo "$out"
if [ "$try" != 1 ]; then echo "(on try $try; the earlier ones failed)"; fi
ctl put /registry/demo-etcdctl "hello from etcdctl"
got=$(ctl get /registry/demo-etcdctl --print-value-only)
if [ "$got" != "hello from etcdctl" ]; then
  echo "etcdctl read back \"$got\"" >&2
  exit 1
fi
ctl get /registry/demo-etcdctl

echo
echo "One compaction round now, as kube-apiserver runs one every 5 minutes (compaction-interval):"
$LJ run kubernetes-control-plane/0 compact

cat <<MSG

etcd x3 serves its client port with certificates from $ca_app (the repository's test CA in its place), which
etcdctl verified with that CA alone; the peer port stays on the charm's own CA. The control plane stand-in
got its credentials over db, under $db/,
and compacts etcd as kube-apiserver does. Stop with: $LJ destroy
MSG
