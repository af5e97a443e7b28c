# docker kamal. `make test` is exactly what CI runs (.ci/run calls it).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version=$(VERSION)
BIN := bin
E2E_TIMEOUT ?= 40m
FUZZTIME ?= 5s

.PHONY: all build buildx install images test test-unit fuzz e2e bench bench-smoke bench-quick chaos chaos-quick demo lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/docker-kamal ./plugin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kamal-sidecar ./sidecar

install: build
	./install.sh --binary $(BIN)/docker-kamal

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every image and binary the tests use, built once per machine and reused
# (cold: about 8 minutes, most of it Traefik; warm: under a second). The
# docker buildx plugin the builds use comes first (cold: about 5 minutes).
images: buildx
	$(GO) run ./e2e/cmd/images

# The docker buildx CLI plugin (BuildKit client), from its Go module.
buildx:
	GO=$(GO) ./scripts/install-buildx.sh

# KAMAL_REQUIRE_TRAEFIK turns "no Traefik binary" into a failure, not a skip.
test-unit: images
	KAMAL_REQUIRE_TRAEFIK=1 $(GO) test -count=1 ./pkg/... ./internal/... ./plugin/... ./sidecar/... ./bench/...

# Each fuzz target runs for FUZZTIME; a crash fails the build.
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh pkg sidecar plugin

e2e: build buildx
	$(GO) test -count=1 -timeout $(E2E_TIMEOUT) ./e2e/...

test: lint images test-unit fuzz e2e bench-quick chaos-quick

# Benchmarks on harness hosts: prints a table, writes bench/results.json and
# the figures + README in docs/bench/ (see bench/ and docs/bench/README.md).
# BENCH_FLAGS e.g. "-only ship,startup -repeats 3".
BENCH_TIMEOUT ?= 90m
bench: build buildx
	$(GO) run ./e2e/cmd/bench -timeout $(BENCH_TIMEOUT) $(BENCH_FLAGS)
	$(MAKE) chaos

# The seeded chaos soak (bench/chaos): CHAOS_CYCLES cycles of deploy,
# rollback and never-healthy deploy under load on 3 harness hosts, each with
# a random fault; writes bench/chaos.json and docs/bench/chaos.md. Replay a
# run with CHAOS_SEED=<the seed it printed>.
CHAOS_CYCLES ?= 50
CHAOS_SEED ?= 0
chaos: build buildx
	$(GO) run ./e2e/cmd/chaos -cycles $(CHAOS_CYCLES) -seed $(CHAOS_SEED) -out bench/chaos.json -md docs/bench/chaos.md $(CHAOS_FLAGS)

# What `make test` runs of the soak: 4 cycles of a fixed seed (about 2
# minutes), writing nothing.
chaos-quick: build buildx
	$(GO) run ./e2e/cmd/chaos -cycles 4 -seed 120 -timeout 10m

# Every bench scenario once with tiny counts; writes nothing.
bench-smoke: build buildx
	$(GO) run ./e2e/cmd/bench -smoke -timeout 30m $(BENCH_FLAGS)

# What `make test` runs of the benchmarks: the scenarios that take a couple
# of minutes (start-up; setup of a fleet and the sidecar's footprint), so a
# broken bench is caught without the full run's 20 minutes.
bench-quick: build buildx
	$(GO) run ./e2e/cmd/bench -smoke -only startup,footprint -timeout 15m

# KEEP=1 leaves the demo hosts running until Ctrl-C.
demo: build buildx
	$(GO) run ./e2e/cmd/demo $(if $(KEEP),-keep)

clean:
	rm -rf $(BIN)
