# thrift-frame: every entry point a newcomer or CI needs.
#   make interop   the main job (builds what it needs first)
#   make test      every test, plus format, lint and generated-code checks
# Each target installs its own prerequisites, idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GEN_RS := crates/thrift-frame-idl/src/generated
IDL := idl/ping.thrift idl/student.thrift

.PHONY: all deps deps-apt generate check-generated build test test-rust lint fmt \
        peers interop bench-smoke clean

all: build

# --- prerequisites ---------------------------------------------------------
# Debian's packages: the Thrift 0.17 compiler (code generation and its check),
# libthrift for the C++ peer. Installed only when missing.
APT_PACKAGES := thrift-compiler libthrift-dev libevent-dev pkg-config cmake g++ python3-venv
deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

deps: deps-apt
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

# --- generated code ----------------------------------------------------------
# The one command that regenerates the committed Rust bindings from the IDL.
generate: deps-apt
	@tmp=$$(mktemp -d); \
	for f in $(IDL); do thrift -out $$tmp --gen rs $$f; done; \
	cp $$tmp/*.rs $(GEN_RS)/; rm -rf $$tmp; \
	echo "regenerated $(GEN_RS) from $(IDL)"

# Fails when the committed bindings differ from what the IDL generates.
check-generated: deps-apt
	@tmp=$$(mktemp -d); \
	for f in $(IDL); do thrift -out $$tmp --gen rs $$f; done; \
	if ! diff -ru $$tmp $(GEN_RS); then \
	  echo "generated code is stale: run 'make generate' and commit"; rm -rf $$tmp; exit 1; \
	fi; rm -rf $$tmp; echo "generated code matches the IDL"

# --- Rust ---------------------------------------------------------------------
build: deps
	$(CARGO) build --release --workspace --bins

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

test-rust: deps
	$(CARGO) test --release --workspace

test: check-generated lint peers test-rust bench-smoke

# --- reference peers --------------------------------------------------------
# Each peer's Makefile installs what it needs (apt packages, Go modules, a
# Python venv) and builds interop/<lang>/bin/ping-server and ping-client.
PEERS := cpp go python
peers: deps-apt
	@for p in $(PEERS); do $(MAKE) --no-print-directory -C interop/$$p || exit 1; done

# --- main job -------------------------------------------------------------
# Until the interop runner lands this runs the Rust client against the Rust
# server in every protocol x transport x server model, with a server kill.
interop: build peers
	bash interop/rust-only.sh

# 1 MiB ping round trip vs raw TCP loopback, side by side, printed as a ratio.
bench-smoke: deps
	$(CARGO) run --release -q -p thrift-frame-cli --example bench_smoke

clean:
	$(CARGO) clean
	@for p in $(PEERS); do $(MAKE) --no-print-directory -C interop/$$p clean; done
