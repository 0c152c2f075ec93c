#!/usr/bin/env bash
# Runs tests/real_cinder.rs against real OpenStack Cinder 29 on loopback: starts the
# seeded Cinder and a second one (same venv) whose public_endpoint names a host
# nobody can reach, runs the suite, and stops both whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

pinned_home="$PWD/target/real-cinder-pinned"
pinned_port="${REAL_CINDER_PINNED_PORT:-18777}"
unreachable="https://unreachable.invalid:8776"

stop_all() {
  bash scripts/real-cinder.sh stop || true
  REAL_CINDER_HOME="$pinned_home" bash scripts/real-cinder.sh stop || true
}
trap stop_all EXIT

bash scripts/real-cinder.sh start
REAL_CINDER_HOME="$pinned_home" REAL_CINDER_VENV="$PWD/target/real-cinder/venv" \
  REAL_CINDER_PORT="$pinned_port" REAL_CINDER_PUBLIC_ENDPOINT="$unreachable" \
  bash scripts/real-cinder.sh start

eval "$(bash scripts/real-cinder.sh env)"
export REAL_CINDER_PINNED_ENDPOINT="http://127.0.0.1:$pinned_port"
export REAL_CINDER_PINNED_PUBLIC="$unreachable"
# The cleanup test runs the README's shell pipeline through the built command.
cargo build --quiet -p vbs-backups-cli
export REAL_CINDER_VBS="${CARGO_TARGET_DIR:-$PWD/target}/debug/vbs-backups"

# --- Coverage audit (issue 18): the volumes seed.py adds beside the backups, walked and
# audited, checked against the database (tests/real_cinder_coverage.rs).
coverage_tests() {
  cargo test --all-features --test real_cinder_coverage -- --ignored "$@"
}
# --- end of the coverage block

cargo test --all-features --test real_cinder -- --ignored "$@"
coverage_tests "$@"
