#!/usr/bin/env bash
# Runs tests/real_keystone.rs against real OpenStack Keystone 30 and a real Cinder 29 that
# validates every token with it (scripts/real-keystone.sh), and stops all of it whatever
# happens. The tests count requests in the servers' logs, so they run one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

trap 'bash scripts/real-keystone.sh stop || true' EXIT

bash scripts/real-keystone.sh start
eval "$(bash scripts/real-keystone.sh env)"
cargo test --all-features --test real_keystone -- --ignored --test-threads=1 "$@"
