# thrift-frame: every entry point a newcomer or CI needs.
#   make interop   the main job (builds what it needs first)
#   make test      every test, plus format, lint and generated-code checks
# Each target installs its own prerequisites, idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Each IDL file and the folder its committed Rust bindings live in: the demo,
# Apache Thrift's cross-test service, the README's own-service example.
GENERATED := idl/ping.thrift:crates/thrift-frame-idl/src/generated \
             idl/student.thrift:crates/thrift-frame-idl/src/generated \
             idl/ThriftTest.thrift:crates/thrift-frame-thrifttest/src/generated \
             examples/kv/kv.thrift:examples/kv/src

.PHONY: all deps deps-apt generate check-generated build test test-rust lint fmt \
        peers peers-check interop interop-ci fault-test deps-faults deps-bench bench bench-quick bench-sweep bench-smoke docker-test \
        docker-lint fuzz fuzz-smoke clean

all: build

# --- prerequisites ---------------------------------------------------------
# Installs the Debian packages of $(1) that are missing, with one apt-get.
define install_missing
@missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  echo "installing apt packages:$$missing"; \
  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
fi
endef

# Debian's packages: the Thrift 0.17 compiler (code generation and its check),
# libthrift for the C++ peer. Installed only when missing.
APT_PACKAGES := thrift-compiler libthrift-dev libevent-dev pkg-config cmake g++ python3-venv
deps-apt:
	$(call install_missing,$(APT_PACKAGES))

deps: deps-apt
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

# --- generated code ----------------------------------------------------------
# The one command that regenerates the committed Rust bindings from the IDL.
generate: deps-apt
	@for pair in $(GENERATED); do idl=$${pair%%:*}; dir=$${pair#*:}; \
	  thrift -out $$dir --gen rs $$idl && echo "regenerated $$dir from $$idl"; \
	done

# Fails when a committed binding differs from what its IDL generates.
check-generated: deps-apt
	@tmp=$$(mktemp -d); stale=0; \
	for pair in $(GENERATED); do idl=$${pair%%:*}; dir=$${pair#*:}; \
	  rm -f $$tmp/*.rs; thrift -out $$tmp --gen rs $$idl; \
	  for f in $$tmp/*.rs; do diff -u $$f $$dir/$$(basename $$f) || stale=1; done; \
	done; rm -rf $$tmp; \
	if [ $$stale = 1 ]; then echo "generated code is stale: run 'make generate' and commit"; exit 1; fi; \
	echo "generated code matches the IDL"

# --- Rust ---------------------------------------------------------------------
build: deps
	$(CARGO) build --release --workspace --bins

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# make test builds the peers first, so a peer test that finds none fails
# here (plain `cargo test` skips those tests with a note instead).
test-rust: deps
	THRIFT_FRAME_REQUIRE_PEERS=1 $(CARGO) test --release --workspace

# CI runs all of it (.ci/run): the whole interop matrix (about 9 minutes
# on 2 cores) and the Docker images with `compose up` (about 4 minutes cold,
# 30 s when the private engine's cache is warm). docker-lint comes first so
# a broken Dockerfile fails in seconds, not after the Rust tests.
test: check-generated lint docker-lint peers peers-check test-rust interop-ci fault-test fuzz-smoke bench-smoke bench-quick docker-test

# --- reference peers --------------------------------------------------------
# Each peer's Makefile installs what it needs (apt packages, Go modules, a
# Python venv) and builds interop/<lang>/bin/ping-server and ping-client.
PEERS := cpp go python
peers: deps-apt
	@for p in $(PEERS); do $(MAKE) --no-print-directory -C interop/$$p || exit 1; done

# The peers' own checks, where a peer has them (Go: vet, gofmt, go test).
peers-check: peers
	@for p in $(PEERS); do \
	  if grep -q '^check:' interop/$$p/Makefile; then $(MAKE) --no-print-directory -C interop/$$p check || exit 1; fi; \
	done

# --- main job -------------------------------------------------------------
# Every client x server x protocol x transport x server model x case, as
# listed in interop/matrix.toml. Narrow it down with any of
#   make interop CLIENT=go SERVER=rs CASE=server_restart PROTOCOL=binary TRANSPORT=framed MODEL=threaded
# Results: target/interop/{results.json,summary.md,index.html,logs/}.
RUNNER_FLAGS = $(if $(CLIENT),--client $(CLIENT)) $(if $(SERVER),--server $(SERVER)) \
  $(if $(PROTOCOL),--protocol $(PROTOCOL)) $(if $(TRANSPORT),--transport $(TRANSPORT)) \
  $(if $(MODEL),--model $(MODEL)) $(if $(CASE),--case $(CASE)) $(if $(JOBS),--jobs $(JOBS))
interop: build peers
	target/release/interop-runner $(RUNNER_FLAGS)

# The same in CI, without rebuilding what `make test` already built.
interop-ci: peers
	$(CARGO) build --release --bins -q
	target/release/interop-runner

# --- fault suite ------------------------------------------------------------
# Real peers in network namespaces the suite makes (client, router, server),
# faults in the router: blackhole (iptables DROP), half-open connection,
# bandwidth limit (tc tbf). Needs root (CI runs as root). About 1.5 minutes.
# Narrow it down with CLIENT=, SERVER=, CASE=, JOBS= as for `make interop`.
# Results: target/faults/{results.json,summary.md,logs/}; interop/SPEC.md
# "Fault suite" describes the cases.
FAULT_APT_PACKAGES := iproute2 iptables
deps-faults:
	$(call install_missing,$(FAULT_APT_PACKAGES))

FAULT_FLAGS = $(if $(CLIENT),--client $(CLIENT)) $(if $(SERVER),--server $(SERVER)) \
  $(if $(CASE),--case $(CASE)) $(if $(JOBS),--jobs $(JOBS))
fault-test: deps-faults peers
	$(CARGO) build --release --bins -q
	$(SUDO) target/release/fault-suite $(FAULT_FLAGS)

# --- benchmarks -----------------------------------------------------------
# valgrind: the bench counts the Rust and C++ servers' instructions per call
# under callgrind (driven through vgdb). Installed only when missing.
BENCH_APT_PACKAGES := valgrind
deps-bench:
	$(call install_missing,$(BENCH_APT_PACKAGES))

# Latency, CPU and instructions per call, throughput, client comparison and
# reconnect cost across all peers, next to raw TCP.
# Results: target/bench/{bench.json,bench.md,*.svg}.
bench: build peers deps-bench
	target/release/bench

# A few calls per cell so the benchmark keeps working; its numbers mean little.
bench-quick: deps peers deps-bench
	$(CARGO) build --release --bins -q
	target/release/bench --quick --out target/bench-quick >/dev/null
	@echo "bench --quick ran; figures in target/bench-quick/bench.md"

# The connection sweep alone (1 to 10,000 connections, small calls, five
# server models). Results: target/bench-sweep/{bench.json,bench.md,sweep-*.svg}.
bench-sweep: build peers
	target/release/bench --sweep --out target/bench-sweep

# 1 MiB ping through ping-server vs raw TCP loopback, side by side, as a ratio.
bench-smoke: deps
	$(CARGO) build --release --bins -q
	target/release/bench --smoke

# --- fuzzing ----------------------------------------------------------------
# cargo fuzz targets in fuzz/ (its own workspace): the server's request
# reading on every protocol x transport and service, and the client's reply
# reading. Each run writes the seed corpus from real calls first, then fuzzes
# each target in turn; installs nightly and cargo-fuzz when missing. Crashing
# inputs land in fuzz/artifacts/<target>/. See fuzz/run.sh.
FUZZ_SECONDS ?= 180
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

# 30 s per target, so the targets cannot rot (part of `make test`).
fuzz-smoke:
	bash fuzz/run.sh 30

# --- Docker -----------------------------------------------------------------
# The images and `docker compose up` for real, here, without a registry: a
# private dockerd, a debootstrapped debian:bookworm, hadolint, build, run, check.
# See docker/README.md. Part of `make test`, so CI runs it.
docker-test:
	bash docker/docker-test.sh

# hadolint on the Dockerfiles and `docker-compose config`: no engine needed.
docker-lint:
	bash docker/lint.sh

clean:
	$(CARGO) clean
	@for p in $(PEERS); do $(MAKE) --no-print-directory -C interop/$$p clean; done
