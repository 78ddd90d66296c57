# Go peer: ping-server and ping-client on github.com/apache/thrift v0.17.0.
# Build context: the repository root.
#   docker build -f docker/go.Dockerfile -t thrift-frame/go .

# --- build: Debian's Go 1.19 (go.mod says go 1.19) and the Thrift 0.17
# compiler, which must match the v0.17.0 library pinned in go.mod/go.sum.
FROM debian:bookworm AS build
ARG GO_VERSION=2:1.19~1
ARG THRIFT_VERSION=0.17.0-2+b2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates make \
      golang-go="${GO_VERSION}" \
      thrift-compiler="${THRIFT_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
# Static binaries, so the run stage needs no libc of a particular version.
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly GOPATH=/go
WORKDIR /src/interop/go
# Modules first: this layer is redone only when go.mod or go.sum change.
COPY interop/go/go.mod interop/go/go.sum ./
RUN go mod download
COPY idl /src/idl
COPY interop/go ./
RUN make \
 && mkdir -p /out/interop/go/bin \
 && cp bin/ping-server bin/ping-client /out/interop/go/bin/

# --- run: two static binaries.
FROM debian:bookworm-slim
COPY --from=build /out/interop/ /opt/thrift-frame/interop/
RUN ln -s /opt/thrift-frame/interop/go/bin/ping-server /usr/local/bin/ping-server \
 && ln -s /opt/thrift-frame/interop/go/bin/ping-client /usr/local/bin/ping-client \
 && groupadd --system --gid 10001 thrift \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin thrift
USER 10001:10001
EXPOSE 9092
ENTRYPOINT ["ping-server"]
CMD ["--host", "0.0.0.0", "--port", "9092", "--multiplexed"]
