#!/usr/bin/env bash
# The lint gate behind `make lint` (CI runs it before `make test`), over the whole module, excluding nothing:
#   gofmt -l .        must print nothing
#   go vet ./...
#   staticcheck ./... staticcheck's default checks; a justified exception is a //lint:ignore at its line
#   govulncheck ./... symbol-level reachability in non-test code (govulncheck's default; -test is off)
# Every check runs even when an earlier one fails, so one run shows everything to fix; exits 1 if any failed.
#
# The Makefile passes the tools it installed: STATICCHECK, GOVULNCHECK (paths) and VULNDB_VERSION.
#
# The vulnerability database: govulncheck normally fetches https://vuln.go.dev, which CI's network does not
# reach. The Go module proxy does serve golang.org/x/vulndb, the repository that database is published from;
# its data/osv holds every entry as one OSV file (GO-YYYY-NNNN.json), and govulncheck -db file://DIR reads
# such a folder of OSV files as a database. Those files carry no modified/published dates (the publishing
# pipeline adds them), which govulncheck does not need. VULNDB_VERSION pins the snapshot so that a run is
# reproducible; `make lint VULNDB_VERSION=latest` checks against the newest one the proxy has.
#
# The standard library counts like any module: the Makefile builds with a Go release (GOTOOLCHAIN) whose
# standard library has no known reachable vulnerability, and a finding there fails the gate, saying which Go
# release fixes it. VULN_STDLIB=warn prints such findings without failing, for a run on an older local Go
# (`make lint GOTOOLCHAIN=local VULN_STDLIB=warn`). Findings in any other module (fixed by
# go get MODULE@FIXED) always fail it.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
: "${STATICCHECK:?path to staticcheck}" "${GOVULNCHECK:?path to govulncheck}" "${VULNDB_VERSION:?}"
VULN_STDLIB=${VULN_STDLIB:-fail}
OUT=build/lint
mkdir -p "$OUT"

failed=()
step() { # step NAME: prints a header and remembers the start time
  echo "== $1"
  started=$SECONDS
}
done_step() { # done_step NAME RC
  if [ "$2" -ne 0 ]; then failed+=("$1"); echo "-- $1: FAILED ($((SECONDS - started))s)"; else echo "-- $1: ok ($((SECONDS - started))s)"; fi
}

step "gofmt -l ."
# gofmt of the same Go that builds the code, not whichever gofmt PATH finds first.
unformatted=$("$("$GO" env GOROOT)/bin/gofmt" -l .)
rc=$?
if [ -n "$unformatted" ]; then
  echo "these files need gofmt -w:"
  echo "$unformatted"
  rc=1
fi
done_step gofmt $rc

step "go vet ./..."
"$GO" vet ./...
done_step "go vet" $?

step "staticcheck ./... ($("$STATICCHECK" -version))"
"$STATICCHECK" ./...
done_step staticcheck $?

step "govulncheck ./... ($("$GOVULNCHECK" -version | sed -n 's/^Scanner: //p'))"
# Fetched from outside the module so that go.mod and go.sum stay as they are.
dbjson=$(cd / && "$GO" mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" 2>&1)
dbdir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$dbjson")
dbversion=$(sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p' <<<"$dbjson")
if [ -z "$dbdir" ] || [ ! -d "$dbdir/data/osv" ]; then
  why=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$dbjson")
  echo "govulncheck skipped: no vulnerability database reachable (vuln.go.dev is out of reach here, and" \
    "go mod download golang.org/x/vulndb@$VULNDB_VERSION through $("$GO" env GOPROXY) failed: ${why:-$dbjson})"
  echo "-- govulncheck: SKIPPED"
else
  echo "database: golang.org/x/vulndb@$dbversion, $(find "$dbdir/data/osv" -name '*.json' | wc -l) OSV entries"
  "$GOVULNCHECK" -db "file://$dbdir/data/osv" ./... 2>&1 | tee "$OUT/govulncheck.txt"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 3 ]; then
    # Exit 3: vulnerable code is reachable. Classify the findings of the symbol-level section.
    read -r nmod nstd < <(awk '/^=== /{sym = ($0 == "=== Symbol Results ===")}
      sym && /^  Module: /{m++} sym && /^  Standard library$/{s++} END{print m+0, s+0}' "$OUT/govulncheck.txt")
    if [ "$nmod" -gt 0 ]; then
      echo "govulncheck: $nmod finding(s) in modules this repository requires: go get MODULE@FIXED (see above)"
    elif [ "$nstd" -gt 0 ]; then
      echo "WARNING: govulncheck: $nstd vulnerabilit(y/ies) in the Go standard library of $("$GO" env GOVERSION)" \
        "are reachable (listed above); they are fixed by building with the Go release named under 'Fixed in'."
      if [ "$VULN_STDLIB" = fail ]; then
        echo "Failing on them: raise GOTOOLCHAIN in the Makefile to that release (or VULN_STDLIB=warn to only print them)."
      else
        echo "Not failing the gate on these (VULN_STDLIB=$VULN_STDLIB)."
        rc=0
      fi
    else
      echo "govulncheck exited 3 but no finding could be classified; failing rather than guessing"
    fi
  fi
  done_step govulncheck "$rc"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: FAILED: ${failed[*]}"
  exit 1
fi
echo "lint: ok"
