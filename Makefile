# Build, pack, try and test the etcd charm. `make demo` is the one-command tour; `make test` runs everything.
GO ?= go
BUILD := build
CHARM := $(BUILD)/etcd_amd64.charm
LOCALJUJU := $(BUILD)/localjuju
export CGO_ENABLED := 0

.PHONY: all charm localjuju demo test test-short clean

all: charm localjuju

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

# A real 3-unit etcd cluster on the local model, then how to talk to it.
demo: $(CHARM) $(LOCALJUJU)
	./scripts/demo.sh

test:
	$(GO) test -timeout 60m ./...

clean:
	-$(LOCALJUJU) destroy 2>/dev/null
	rm -rf $(BUILD)
