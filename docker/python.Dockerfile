# Python peer: ping-server and ping-client on thrift 0.25.0 from PyPI (with
# its fastbinary C extension). Build context: the repository root.
#   docker build -f docker/python.Dockerfile -t thrift-frame/py .

# --- build: the venv (thrift==0.25.0, requirements.txt) and gen-py from the
# Thrift 0.17 compiler. The venv is made where it will run: a venv's paths
# are absolute.
FROM debian:bookworm AS build
ARG THRIFT_VERSION=0.17.0-2+b2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates make python3 python3-venv \
      thrift-compiler="${THRIFT_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/thrift-frame/interop/python
# The venv first: this layer is redone only when requirements.txt changes.
COPY interop/python/requirements.txt interop/python/Makefile ./
RUN make .venv/.installed
COPY idl /opt/thrift-frame/idl
COPY interop/python ./
RUN make \
 && find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- run: Debian's python3 (the venv's interpreter) and the peer.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/thrift-frame/interop/python/ /opt/thrift-frame/interop/python/
RUN ln -s /opt/thrift-frame/interop/python/bin/ping-server /usr/local/bin/ping-server \
 && ln -s /opt/thrift-frame/interop/python/bin/ping-client /usr/local/bin/ping-client \
 && groupadd --system --gid 10001 thrift \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin thrift
USER 10001:10001
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
EXPOSE 9093
ENTRYPOINT ["ping-server"]
CMD ["--host", "0.0.0.0", "--port", "9093", "--multiplexed"]
