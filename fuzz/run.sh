#!/usr/bin/env bash
# Builds the fuzz targets, writes the seed corpus from real calls and runs
# each target for SECONDS (default 180), one after the other. Called by
# `make fuzz` (FUZZ_SECONDS) and `make fuzz-smoke` (30 s each).
#
# Installs what is missing: the nightly toolchain (cargo fuzz needs
# -Zsanitizer) and cargo-fuzz from crates.io. The working corpus
# (fuzz/corpus/<target>, git-ignored) grows from run to run; the seeds are
# rewritten every time. A crash, a leak, an allocation over the limits below
# or an input running over 10 s fails the run, and libFuzzer keeps the input
# in fuzz/artifacts/<target>/.
set -euo pipefail

seconds=${1:-180}
targets=(server_request client_reply message_boundary header_frame)
# Every input must stay within these: a bounded allocation per input, no
# input that loops. max_len: inputs of up to 4 KiB already cross every limit
# check (they are on length prefixes, at 64 KiB in the targets).
flags=(-rss_limit_mb=256 -malloc_limit_mb=256 -timeout=10 -max_len=4096 -print_final_stats=1)

cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

cargo +nightly fuzz build
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
# The generator is built by `cargo fuzz build` too (with the same flags), so
# no second, uninstrumented build of the crate is needed.
ASAN_OPTIONS=detect_odr_violation=0 "fuzz/target/$host/release/seed_corpus" fuzz/seeds

# ASan keeps freed memory in quarantine (256 MiB by default) to catch use
# after free; with every wire's buffers per input that alone passes the RSS
# limit within seconds. A smaller quarantine keeps the RSS limit meaningful
# (live heap stays a few MiB) and still catches recent use after free.
export ASAN_OPTIONS="quarantine_size_mb=32${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

logs=fuzz/target/logs
mkdir -p "$logs"
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "fuzzing $t for ${seconds} s (log: $logs/$t.log)"
  start=$(date +%s)
  if ! cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$seconds" "${flags[@]}" >"$logs/$t.log" 2>&1; then
    tail -n 60 "$logs/$t.log"
    echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/ (see the log above)"
    exit 1
  fi
  metric() { sed -n "s/^stat::$1: *//p" "$logs/$t.log" | tail -n 1; }
  # libFuzzer's own corpus (inputs that add coverage, size) and edges
  # covered, from its last status line; the directory keeps more files.
  done_line=$(grep -E '[[:space:]]DONE[[:space:]]' "$logs/$t.log" | tail -n 1 || true)
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$done_line")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  summary+=("$(printf '%-15s %4d s  %9s runs  %6s exec/s  corpus %s (%d files)  cov %s  peak rss %s MB' \
    "$t" "$(( $(date +%s) - start ))" "$(metric number_of_executed_units)" \
    "$(metric average_exec_per_sec)" "$corp" "$(find "fuzz/corpus/$t" -type f | wc -l)" "$cov" \
    "$(metric peak_rss_mb)")")
done
printf '%s\n' "${summary[@]}"
