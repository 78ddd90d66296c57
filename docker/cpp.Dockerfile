# C++ peer: ping-server and ping-client on libthrift 0.17 (Debian's).
# Build context: the repository root.
#   docker build -f docker/cpp.Dockerfile -t thrift-frame/cpp .

# --- build: g++, the Thrift 0.17 compiler and libthrift-dev, pinned so the
# generated code and the library always match.
FROM debian:bookworm AS build
ARG THRIFT_VERSION=0.17.0-2+b2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make pkg-config libboost-dev libevent-dev zlib1g-dev \
      thrift-compiler="${THRIFT_VERSION}" \
      libthrift-dev="${THRIFT_VERSION}" libthrift-0.17.0="${THRIFT_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY idl idl
COPY interop/cpp interop/cpp
# Every package the Makefile asks for is installed above, so it only builds.
RUN make -C interop/cpp -j"$(nproc)" \
 && mkdir -p /out/interop/cpp/bin /out/lib \
 && cp interop/cpp/bin/ping-server interop/cpp/bin/ping-client /out/interop/cpp/bin/ \
 && cp /usr/lib/x86_64-linux-gnu/libthrift-0.17.0.so /usr/lib/x86_64-linux-gnu/libthriftnb-0.17.0.so \
       /usr/lib/x86_64-linux-gnu/libthriftz-0.17.0.so /out/lib/

# --- run: the two binaries and the three libthrift libraries they link. Debian's
# libthrift-0.17.0 package would bring Qt 5 along for libthriftqt5, which
# neither binary uses, so the libraries come from the (pinned) build stage.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libevent-2.1-7 libssl3 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lib/ /usr/local/lib/
COPY --from=build /out/interop/ /opt/thrift-frame/interop/
RUN ldconfig \
 && ln -s /opt/thrift-frame/interop/cpp/bin/ping-server /usr/local/bin/ping-server \
 && ln -s /opt/thrift-frame/interop/cpp/bin/ping-client /usr/local/bin/ping-client \
 && groupadd --system --gid 10001 thrift \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin thrift
USER 10001:10001
EXPOSE 9090
ENTRYPOINT ["ping-server"]
CMD ["--host", "0.0.0.0", "--port", "9090", "--multiplexed"]
