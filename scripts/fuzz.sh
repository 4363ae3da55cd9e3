#!/usr/bin/env bash
# Runs each fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for a bounded time: FUZZ_SECONDS each
# (default 60). Starts from the corpus kept in fuzz/corpus/<target>/, on a copy, so that a run leaves
# the repository as it was; FUZZ_KEEP=1 merges what the run found back into the kept corpus
# (minimised). A crash fails the run and leaves its input in fuzz/artifacts/<target>/: add it to the
# corpus once fixed, so that the ordinary tests replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "Installing cargo-fuzz (crates.io)…"
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# cargo-fuzz passes compiler flags that a stable toolchain accepts only with RUSTC_BOOTSTRAP (this
# machine has no nightly). No sanitizer: the platform's crates forbid unsafe code; what is looked
# for is a panic, an endless loop or runaway memory.
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none -O
total=0
for target in query_string event_body eligibility_request; do
  work="target/fuzz-corpus/$target"
  rm -rf "$work" && mkdir -p "$work" && cp fuzz/corpus/"$target"/* "$work"/
  log=$(mktemp)
  cargo fuzz run --sanitizer none -O "$target" "$work" -- -dict="fuzz/dict/$target.dict" \
    -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || {
    tail -n 40 "$log"
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/"
    exit 1
  }
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  echo "fuzz: $target: ${runs:-?} executions in ${SECONDS_EACH} s, no failure"
  total=$((total + ${runs:-0}))
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    # libFuzzer's set-cover merge: the fewest small inputs that keep the coverage join the kept corpus.
    cargo fuzz run --sanitizer none -O "$target" fuzz/corpus/"$target" "$work" -- -set_cover_merge=1 -max_len=2048 >/dev/null 2>&1
  fi
  rm -f "$log"
done
echo "fuzz: $total executions in all"
