#!/usr/bin/env bash
# Fuzzes the page decoder, the error-body parser and the next-link handling for a
# bounded time: scripts/fuzz.sh [seconds] (default 60). Works on the stable
# toolchain (no sanitizer: the crate has no unsafe code; panics are the findings).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

mkdir -p corpus/page_and_next_link
cp -n seeds/* corpus/page_and_next_link/ 2>/dev/null || true
cargo fuzz run --sanitizer none page_and_next_link corpus/page_and_next_link -- \
  -max_total_time="$seconds" -max_len=65536 -print_final_stats=1
