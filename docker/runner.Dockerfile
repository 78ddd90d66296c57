# The interop runner with every peer's client (and server): interop-runner
# from the Rust image, the C++, Go and Python peers from theirs, plus
# container-ctl to kill and start server containers through the Docker
# socket. Build the four peer images first (docker/docker-test.sh does, and
# `docker compose build` builds in depends_on order); context: the repository root.
#   docker build -f docker/runner.Dockerfile -t thrift-frame/runner .
ARG RS_IMAGE=thrift-frame/rs
ARG CPP_IMAGE=thrift-frame/cpp
ARG GO_IMAGE=thrift-frame/go
ARG PY_IMAGE=thrift-frame/py
FROM ${RS_IMAGE} AS rs
FROM ${CPP_IMAGE} AS cpp
FROM ${GO_IMAGE} AS go
FROM ${PY_IMAGE} AS py

FROM debian:bookworm-slim
# python3 for the Python peer, the C++ peer's libraries, curl for container-ctl.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      curl python3 libevent-2.1-7 libssl3 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
# The repository's layout under /opt/thrift-frame, so interop/matrix.toml
# finds every peer where it lists it.
COPY --from=rs /opt/thrift-frame/target/release/ /opt/thrift-frame/target/release/
COPY --from=cpp /usr/local/lib/ /usr/local/lib/
COPY --from=cpp /opt/thrift-frame/interop/cpp/ /opt/thrift-frame/interop/cpp/
COPY --from=go /opt/thrift-frame/interop/go/ /opt/thrift-frame/interop/go/
COPY --from=py /opt/thrift-frame/interop/python/ /opt/thrift-frame/interop/python/
COPY interop/matrix.toml interop/known-failures.toml /opt/thrift-frame/interop/
COPY docker/container-ctl.sh /usr/local/bin/container-ctl
RUN ldconfig \
 && ln -s /opt/thrift-frame/target/release/interop-runner /usr/local/bin/interop-runner \
 && groupadd --system --gid 10001 thrift \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin thrift \
 && mkdir -p /opt/thrift-frame/target/interop \
 && chown thrift:thrift /opt/thrift-frame/target/interop
USER 10001:10001
WORKDIR /opt/thrift-frame
# Without arguments: the whole local matrix inside this one container.
# docker-compose.yml runs it with --remote against the server containers.
ENTRYPOINT ["interop-runner"]
