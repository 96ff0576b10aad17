# The start of every demo script (sourced, not run): from the repository root, with the local model built in
# build/, on a fresh model in LOCALJUJU_MODEL_DIR (default ./.localjuju). Leaves LJ set to the local model.
set -euo pipefail
cd "$(dirname "$0")/.."
LJ=./build/localjuju
export LOCALJUJU_MODEL_DIR="${LOCALJUJU_MODEL_DIR:-$PWD/.localjuju}"

if $LJ status >/dev/null 2>&1; then
  echo "A local model is already running in $LOCALJUJU_MODEL_DIR; destroying it first."
  $LJ destroy
fi
# destroy stops everything but leaves the units' filesystems in units/, and a new model's units would start
# on them (etcd/0 would find the old cluster's data and wait for its old peers), so start without them (and
# without the old model's debug log).
rm -rf "$LOCALJUJU_MODEL_DIR/units" "$LOCALJUJU_MODEL_DIR/debug.log"
$LJ bootstrap
