# Build, pack, try and test the etcd charm. `make demo` is the one-command tour; `make test` runs everything.
GO ?= go
# Everything is built and tested with this Go release, which the go command fetches from the Go module proxy
# the first time (about 76 MB): the machine's own Go 1.26.8 links a standard library with vulnerabilities
# that are reachable from the charm (crypto/tls, net/http among them; `make lint GOTOOLCHAIN=local` lists
# them) and fixed in this release. go.mod keeps asking only for Go 1.26, so a plain `go build` still works.
export GOTOOLCHAIN := go1.27.3
BUILD := build
CHARM := $(BUILD)/etcd_amd64.charm
LOCALJUJU := $(BUILD)/localjuju
export CGO_ENABLED := 0

.PHONY: all charm requirer-charm localjuju demo demo-bundle go-version lint test test-short bench reliability downgrade-scenario versitygw clean

all: charm requirer-charm localjuju

$(BUILD)/dispatch: $(shell find cmd/etcd-charm internal interfaces -name '*.go' 2>/dev/null) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -ldflags='-s -w' -o $@ ./cmd/etcd-charm

$(LOCALJUJU): $(shell find cmd/localjuju localmodel -name '*.go' 2>/dev/null) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -o $@ ./cmd/localjuju

localjuju: $(LOCALJUJU)

$(CHARM): $(BUILD)/dispatch $(LOCALJUJU) charmcraft.yaml
	$(LOCALJUJU) pack --charmcraft charmcraft.yaml --dispatch $(BUILD)/dispatch -o $@

charm: $(CHARM)

# The example consumer charm (examples/etcd-requirer), built on the interface libraries.
REQUIRER_CHARM := $(BUILD)/etcd-requirer_amd64.charm

$(BUILD)/etcd-requirer-dispatch: $(shell find examples/etcd-requirer interfaces -name '*.go' 2>/dev/null) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -ldflags='-s -w' -o $@ ./examples/etcd-requirer

$(REQUIRER_CHARM): $(BUILD)/etcd-requirer-dispatch $(LOCALJUJU) examples/etcd-requirer/charmcraft.yaml
	$(LOCALJUJU) pack --charmcraft examples/etcd-requirer/charmcraft.yaml --dispatch $(BUILD)/etcd-requirer-dispatch -o $@

requirer-charm: $(REQUIRER_CHARM)

# The easyrsa-, vault- and self-signed-shaped test CA (tests/charms/ca-provider), for the bundle demo.
CA_PROVIDER_CHARM := $(BUILD)/ca-provider_amd64.charm

$(BUILD)/ca-provider-dispatch: $(shell find tests/charms/ca-provider interfaces internal/pki -name '*.go' 2>/dev/null) go.mod go.sum
	@mkdir -p $(BUILD)
	$(GO) build -trimpath -ldflags='-s -w' -o $@ ./tests/charms/ca-provider

$(CA_PROVIDER_CHARM): $(BUILD)/ca-provider-dispatch $(LOCALJUJU) tests/charms/ca-provider/charmcraft.yaml
	$(LOCALJUJU) pack --charmcraft tests/charms/ca-provider/charmcraft.yaml --dispatch $(BUILD)/ca-provider-dispatch -o $@

# Charmed Kubernetes' etcd part (examples/bundles/charmed-kubernetes-etcd.yaml) on the local model, in one
# command: etcd x3 with easyrsa's certificates, and a db consumer that compacts as kube-apiserver does.
# OVERLAY=examples/bundles/vault-pki-overlay.yaml puts the vault-shaped CA in easyrsa's place. Needs Debian's
# etcdctl (etcd-client) and jq.
OVERLAY ?=
demo-bundle: $(CHARM) $(REQUIRER_CHARM) $(CA_PROVIDER_CHARM) $(LOCALJUJU)
	./scripts/demo-bundle.sh $(OVERLAY)

# A real 3-unit etcd cluster on the local model, then how to talk to it.
demo: $(CHARM) $(REQUIRER_CHARM) $(LOCALJUJU)
	./scripts/demo.sh

# The lint gate, which CI runs before the tests: gofmt, go vet, staticcheck and govulncheck over the whole
# module (scripts/lint.sh says what each checks and what it does not). The tools are built with `go install`
# at pinned versions into build/tools/NAME@VERSION/, so a later run finds them there and skips the install,
# and nothing depends on PATH.
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
# The vulnerability database, read from the golang.org/x/vulndb module (see scripts/lint.sh).
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
# One folder per Go release: a tool built by an older Go cannot load a newer standard library.
TOOLS := $(CURDIR)/$(BUILD)/tools/$(GOTOOLCHAIN)
STATICCHECK := $(TOOLS)/staticcheck@$(STATICCHECK_VERSION)/staticcheck
GOVULNCHECK := $(TOOLS)/govulncheck@$(GOVULNCHECK_VERSION)/govulncheck

$(STATICCHECK):
	GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOVULNCHECK):
	GOBIN=$(@D) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# The real S3 server of the backup tests (Versity S3 Gateway, Apache-2.0), built the same way; the tests find
# it through VERSITYGW.
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/versitygw@$(VERSITYGW_VERSION)/versitygw

$(VERSITYGW):
	GOBIN=$(@D) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

versitygw: $(VERSITYGW)

# The Go release that builds and tests (CI prints it).
go-version:
	@$(GO) version

lint: $(STATICCHECK) $(GOVULNCHECK)
	GO=$(GO) STATICCHECK=$(STATICCHECK) GOVULNCHECK=$(GOVULNCHECK) VULNDB_VERSION=$(VULNDB_VERSION) bash scripts/lint.sh

test: $(VERSITYGW)
	VERSITYGW=$(VERSITYGW) $(GO) test -timeout 60m ./...

# The charm against hand-run etcd, and the charm's own costs (~15 minutes; see docs/benchmarks.md).
bench: $(VERSITYGW)
	VERSITYGW=$(VERSITYGW) $(GO) run ./cmd/etcd-bench -out docs/benchmarks.md -chart docs/benchmarks.png

# Every fault scenario of docs/reliability.md, RELIABILITY_RUNS times in a row each, checked for
# linearizability; rewrites the results table in docs/reliability.md.
RELIABILITY_RUNS ?= 5
reliability:
	RELIABILITY=full RELIABILITY_RUNS=$(RELIABILITY_RUNS) RELIABILITY_REPORT=$(CURDIR)/docs/reliability.md \
		$(GO) test -count=1 -timeout 0 -v -run '^TestReliability' ./tests/charm

# The 3.7 -> 3.6 downgrade under recorded traffic (~2-10 minutes). Out of `make test` while a failure seen
# once in CI (a member that did not serve on 3.6.16 after its restart) is not understood; see issue 17.
downgrade-scenario:
	RELIABILITY=full $(GO) test -count=1 -timeout 0 -v -run '^TestGivenAnEtcd37ClusterUnderTrafficWhenTheDowngradeAction' ./tests/charm

clean:
	-$(LOCALJUJU) destroy 2>/dev/null
	rm -rf $(BUILD)
