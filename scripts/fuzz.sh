#!/usr/bin/env bash
# Fuzzes the page decoder for a bounded time, each target for the given seconds:
# scripts/fuzz.sh [seconds] (default 60). Works on the stable toolchain (no sanitizer:
# the crate has no unsafe code; panics are the findings).
# - page_and_next_link: the page decoder, the error-body parser and the next-link
#   handling never panic, and a next request stays on the collection;
# - decode_matches_serde_json: the page decoder gives exactly what serde_json's byte
#   parser gives on the same bytes (page or error), for summary, detail and CBR pages.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

for target in page_and_next_link decode_matches_serde_json; do
  echo "== fuzz target $target, ${seconds}s"
  mkdir -p "corpus/$target"
  cp -n seeds/* "corpus/$target/" 2>/dev/null || true
  cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1
done
