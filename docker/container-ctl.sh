#!/bin/sh
# container-ctl kill|start|stop|restart CONTAINER
#
# One call to the Docker Engine API through its Unix socket ($DOCKER_SOCKET,
# default /var/run/docker.sock), for the interop runner's server_restart in
# docker-compose.yml. It uses the API's unversioned paths, so it works with
# any engine version, where a docker CLI in this image would be refused by
# engines newer than the CLI's API version. Exit 0 when done (or when the
# container was already in that state), 1 with the engine's message otherwise.
set -eu

usage() {
  echo "usage: container-ctl kill|start|stop|restart CONTAINER" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
container=$2
case $action in
  kill | start) query="" ;;
  stop | restart) query="?t=0" ;; # no grace period: the case is about a sudden death
  *) usage ;;
esac
socket=${DOCKER_SOCKET:-/var/run/docker.sock}
[ -S "$socket" ] || { echo "container-ctl: no Docker socket at $socket" >&2; exit 1; }

body=$(mktemp)
trap 'rm -f "$body"' EXIT
status=$(curl -sS --max-time 30 --unix-socket "$socket" -X POST -o "$body" -w '%{http_code}' \
  "http://docker/containers/$container/$action$query") || {
  echo "container-ctl: $action $container: the engine did not answer" >&2
  exit 1
}
case $status in
  204 | 304) exit 0 ;; # done; 304: it already was started or stopped
  *)
    echo "container-ctl: $action $container: HTTP $status: $(cat "$body")" >&2
    exit 1
    ;;
esac
