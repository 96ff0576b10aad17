#!/usr/bin/env bash
# Bring up a 3-unit etcd cluster on the local model, relate the example requirer charm to it over
# etcd_client, and show how to talk to the cluster.
source "$(dirname "$0")/demo-preamble.sh"
$LJ deploy ./build/etcd_amd64.charm etcd -n 3
# The example requirer asks for the prefix /demo/ with its own client certificate.
$LJ deploy ./build/etcd-requirer_amd64.charm app --config prefix=/demo/
$LJ integrate etcd:etcd-client app:etcd-client
$LJ wait-for-idle --status active --timeout 10m
$LJ status
$LJ run etcd/leader health
$LJ run app/0 put key=/demo/greeting value=hello
$LJ run app/0 get key=/demo/greeting
$LJ run etcd/leader package-client-credentials --format=json > build/credentials.json
creds=$(sed -n 's/.*"path": *"\([^"]*\)".*/\1/p' build/credentials.json | head -1)
rm -rf build/etcd_credentials && tar -xzmf "$creds" -C build
endpoints=$(sed -n 's/^  export ETCDCTL_ENDPOINTS=//p' build/etcd_credentials/README.txt)

cat <<MSG

A 3-member etcd cluster is running (TLS and authentication on), and the example requirer "app" has read/write
on /demo/ only, with its own certificate (files under the unit's var/lib/etcd-requirer/etcd-client/).
Talk to the cluster as its administrator with:

  export ETCDCTL_ENDPOINTS=$endpoints
  export ETCDCTL_CACERT=$PWD/build/etcd_credentials/ca.crt
  export ETCDCTL_CERT=$PWD/build/etcd_credentials/client.crt
  export ETCDCTL_KEY=$PWD/build/etcd_credentials/client.key
  ./build/dispatch etcdctl put hello world && ./build/dispatch etcdctl get hello

More:   $LJ status | $LJ add-unit etcd | $LJ remove-unit etcd/1 | $LJ debug-log
Stop:   $LJ destroy       (model directory: $LOCALJUJU_MODEL_DIR)
MSG
