#!/usr/bin/env bash
# Deploy the etcd part of Charmed Kubernetes' bundle on the local model (examples/bundles), wait until every
# unit is active, and show that the members' client listeners present easyrsa's certificates.
set -euo pipefail
cd "$(dirname "$0")/.."
LJ=./build/localjuju
export LOCALJUJU_MODEL_DIR="${LOCALJUJU_MODEL_DIR:-$PWD/.localjuju}"

if $LJ status >/dev/null 2>&1; then
  echo "A local model is already running in $LOCALJUJU_MODEL_DIR; destroying it first."
  $LJ destroy
fi
$LJ bootstrap
$LJ deploy examples/bundles/charmed-kubernetes-etcd.yaml
$LJ wait-for-idle --status active --timeout 10m
$LJ status
$LJ run kubernetes-control-plane/0 put key=/registry/demo value=hello endpoint=db
$LJ run kubernetes-control-plane/0 get key=/registry/demo endpoint=db

cat <<MSG

etcd x3 serves its client port with certificates from easyrsa (the repository's easyrsa-shaped test CA);
the peer port stays on the charm's own CA. The control plane stand-in got both CAs over db, under its unit's
var/lib/etcd-requirer/db/. Stop with: $LJ destroy
MSG
