# Rust peer: ping-server, ping-client and interop-runner (the runner image
# takes the last two from here). Build context: the repository root.
#   docker build -f docker/rust.Dockerfile -t thrift-frame/rs .

# --- toolchain: Debian's Rust (rustc-web/cargo-web 1.96 from bookworm-security)
# and the Thrift 0.17 compiler, which checks the committed bindings below.
FROM debian:bookworm AS toolchain
ARG RUST_VERSION=1.96.0+dfsg1-1~deb12u2
ARG THRIFT_VERSION=0.17.0-2+b2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      rustc-web="${RUST_VERSION}" cargo-web="${RUST_VERSION}" \
      thrift-compiler="${THRIFT_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
# No debug info in the image's binaries (the workspace keeps line tables for perf).
ENV CARGO_HOME=/usr/local/cargo CARGO_TERM_COLOR=never CARGO_PROFILE_RELEASE_DEBUG=0
WORKDIR /src

# --- skeleton: the workspace with every .rs file emptied (binaries and build
# scripts get an empty main). Its content changes only when a manifest,
# Cargo.lock or the set of source files does, so the dependency layer below
# survives edits to the code.
FROM toolchain AS skeleton
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY examples examples
RUN find crates examples -name '*.rs' -type f -exec sh -c \
      'for f; do case "$f" in */src/bin/*|*/main.rs|*/build.rs) printf "fn main() {\n}\n" > "$f";; *) : > "$f";; esac; done' sh {} +

# --- dependencies: downloaded and compiled once per Cargo.lock.
FROM toolchain AS deps
COPY --from=skeleton /src /src
RUN cargo build --release --locked -p thrift-frame-cli -p thrift-frame-interop

# --- build: the real sources on top of the compiled dependencies.
FROM deps AS build
COPY idl idl
COPY crates crates
COPY examples examples
# The generated Rust bindings of the demo services this image serves are
# committed; refuse to build stale ones (make check-generated checks them all).
RUN set -e; tmp=$(mktemp -d); \
    for f in idl/ping.thrift idl/student.thrift; do thrift -out "$tmp" --gen rs "$f"; done; \
    diff -ru "$tmp" crates/thrift-frame-idl/src/generated; rm -rf "$tmp"
# COPY keeps the files' old mtimes; cargo must see them as newer than the skeleton.
RUN find crates examples -name '*.rs' -type f -exec touch {} + \
 && cargo build --release --locked -p thrift-frame-cli -p thrift-frame-interop \
 && mkdir -p /out/target/release \
 && cp target/release/ping-server target/release/ping-client target/release/interop-runner \
       /out/target/release/

# --- run: the binaries on a slim Debian, as an unprivileged user.
FROM debian:bookworm-slim
COPY --from=build /out/ /opt/thrift-frame/
RUN ln -s /opt/thrift-frame/target/release/ping-server /usr/local/bin/ping-server \
 && ln -s /opt/thrift-frame/target/release/ping-client /usr/local/bin/ping-client \
 && ln -s /opt/thrift-frame/target/release/interop-runner /usr/local/bin/interop-runner \
 && groupadd --system --gid 10001 thrift \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin thrift
USER 10001:10001
EXPOSE 9091
ENTRYPOINT ["ping-server"]
CMD ["--host", "0.0.0.0", "--port", "9091", "--multiplexed"]
