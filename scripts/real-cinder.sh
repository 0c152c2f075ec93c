#!/usr/bin/env bash
# A real OpenStack Cinder 29.0.0 `cinder-api` on 127.0.0.1 with seeded backups, for
# tests that check the client against the upstream server rather than a fake.
#
#   scripts/real-cinder.sh start     install (once), reseed, start; no-op if already up
#   scripts/real-cinder.sh stop      end the server's process group; ok if not running
#   scripts/real-cinder.sh status    say whether it runs (exit 0 if it does, 3 if not)
#   scripts/real-cinder.sh env       print `export REAL_CINDER_…=…` lines for the tests
#   scripts/real-cinder.sh delete [--hard] ID...  soft-delete backups as Cinder does
#   scripts/real-cinder.sh restore ID...         put seeded backups back
#   scripts/real-cinder.sh reseed                reset every backup to the seeded set
#   scripts/real-cinder.sh check                 self-check the running server (~5 s)
#
# Typical use:  scripts/real-cinder.sh start && eval "$(scripts/real-cinder.sh env)"
#
# Settings (environment):
#   REAL_CINDER_HOME             state dir (default $PWD/target/real-cinder): venv,
#                                cinder.conf, SQLite DB, truth files, logs under log/
#   REAL_CINDER_VENV             venv dir (default $REAL_CINDER_HOME/venv); point two
#                                homes at one venv to run two servers
#   REAL_CINDER_PORT             listen port on 127.0.0.1 (default 18776)
#   REAL_CINDER_PUBLIC_ENDPOINT  if set, Cinder's public_endpoint (next links then
#                                point there, e.g. https://unreachable.invalid:8776)
#   REAL_CINDER_MAX_LIMIT        if set, osapi_max_limit (Cinder's default is 1000)
#   REAL_CINDER_PYTHON           interpreter for the venv (default python3)
#   REAL_CINDER_START_TIMEOUT    seconds to wait for the first 200 (default 120)
#   REAL_CINDER_PROJECT_ID       id of the seeded main project (default b23b579f…); a
#                                Cinder behind Keystone serves the project Keystone made
#   REAL_CINDER_AUTH             noauth (default) or keystone: auth_strategy = keystone,
#                                keystonemiddleware validating every token (no cache) at
#   REAL_CINDER_KEYSTONE_URL     Keystone's root URL, as the service user
#   REAL_CINDER_KEYSTONE_USER    (Default domain, project `service`) with
#   REAL_CINDER_KEYSTONE_PASSWORD  this password (scripts/real-keystone.sh sets all three)
#
# Only standard output of `env` and `status` is meant to be read; everything else goes
# to log files and is printed only when a step fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helpers="$here/real_cinder"

CINDER_VERSION=29.0.0
PROJECT="${REAL_CINDER_PROJECT_ID:-b23b579f08c84228b9b4673c46f0c442}"
export REAL_CINDER_PROJECT_ID="$PROJECT" # seed.py seeds this project
SCRATCH_PROJECT=5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c
OTHER_PROJECT=ffffffffffffffffffffffffffffffff
CLEANUP_PROJECT=c1ea0c1ea0c1ea0c1ea0c1ea0c1ea0c1

home="${REAL_CINDER_HOME:-$PWD/target/real-cinder}"
mkdir -p "$home"
home="$(cd "$home" && pwd)"
venv="${REAL_CINDER_VENV:-$home/venv}"
port="${REAL_CINDER_PORT:-18776}"
python="${REAL_CINDER_PYTHON:-python3}"
start_timeout="${REAL_CINDER_START_TIMEOUT:-120}"
auth="${REAL_CINDER_AUTH:-noauth}"
[[ "$auth" == noauth || "$auth" == keystone ]] || { echo "real-cinder: REAL_CINDER_AUTH must be noauth or keystone" >&2; exit 1; }

conf="$home/cinder.conf"
db="$home/cinder.sqlite"
logs="$home/log"
pidfile="$home/cinder-api.pid"
envfile="$home/env.sh"
constraints="$helpers/requirements.txt"

die() {
  echo "real-cinder: $*" >&2
  exit 1
}

# Prints the last lines of each log named, for a failure report.
show_logs() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 40 "$f" >&2
  done
}

proc() { "$python" "$helpers/proc.py" "$@"; }

running() { proc alive "$pidfile" "$conf"; }

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

venv_has_cinder() {
  [[ -x "$venv/bin/python" ]] &&
    [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("cinder"))' 2>/dev/null)" == "$CINDER_VERSION" ]] &&
    cmp -s "$constraints" "$venv/.real-cinder-constraints"
}

install() {
  venv_has_cinder && return 0
  local log="$logs/install.log"
  : >"$log"
  if [[ ! -x "$venv/bin/python" ]]; then
    # Debian's own python3 may lack ensurepip (package python3-venv); virtualenv from
    # PyPI, installed into a private directory, does the same job.
    if ! "$python" -m venv "$venv" >>"$log" 2>&1; then
      rm -rf "$venv"
      if ! { "$python" -m pip install --disable-pip-version-check --target "$home/bootstrap" \
        -c "$constraints" virtualenv &&
        PYTHONPATH="$home/bootstrap" "$python" -m virtualenv "$venv"; } >>"$log" 2>&1; then
        show_logs "$log"
        die "cannot create a venv at $venv with $python"
      fi
    fi
  fi
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
    -c "$constraints" "cinder==$CINDER_VERSION" >>"$log" 2>&1; then
    show_logs "$log"
    die "pip could not install cinder==$CINDER_VERSION (log: $log)"
  fi
  cp "$constraints" "$venv/.real-cinder-constraints"
}

write_conf() {
  local etc="$venv/etc/cinder"
  [[ -f "$etc/api-paste.ini" ]] || die "no api-paste.ini in $etc: is the venv complete?"
  {
    echo "[DEFAULT]"
    echo "auth_strategy = $auth"
    echo "transport_url = fake://"
    echo "osapi_volume_listen = 127.0.0.1"
    echo "osapi_volume_listen_port = $port"
    echo "osapi_volume_workers = 1"
    echo "api_paste_config = $etc/api-paste.ini"
    echo "resource_query_filters_file = $etc/resource_filters.json"
    echo "state_path = $home/state"
    echo "log_dir = $logs"
    echo "use_stderr = false"
    echo "enabled_backends ="
    [[ -z "${REAL_CINDER_PUBLIC_ENDPOINT:-}" ]] || echo "public_endpoint = $REAL_CINDER_PUBLIC_ENDPOINT"
    [[ -z "${REAL_CINDER_MAX_LIMIT:-}" ]] || echo "osapi_max_limit = $REAL_CINDER_MAX_LIMIT"
    echo
    echo "[database]"
    echo "connection = sqlite:///$db"
    echo
    echo "[oslo_concurrency]"
    echo "lock_path = $home/lock"
    if [[ "$auth" == keystone ]]; then
      # Every request's token is validated by Keystone: token_cache_time = -1 turns off
      # keystonemiddleware's cache, so a revoked token is refused at once.
      echo
      echo "[keystone_authtoken]"
      echo "www_authenticate_uri = ${REAL_CINDER_KEYSTONE_URL:?REAL_CINDER_KEYSTONE_URL is needed for keystone auth}"
      echo "auth_url = $REAL_CINDER_KEYSTONE_URL"
      echo "auth_type = password"
      echo "username = ${REAL_CINDER_KEYSTONE_USER:?REAL_CINDER_KEYSTONE_USER is needed for keystone auth}"
      echo "password = ${REAL_CINDER_KEYSTONE_PASSWORD:?REAL_CINDER_KEYSTONE_PASSWORD is needed for keystone auth}"
      echo "user_domain_id = default"
      echo "project_name = service"
      echo "project_domain_id = default"
      echo "token_cache_time = -1"
      echo "include_service_catalog = false"
      echo "http_connect_timeout = 10"
    fi
  } >"$1"
}

write_env() {
  {
    echo "export REAL_CINDER_ENDPOINT=$(shell_quote "http://127.0.0.1:$port")"
    echo "export REAL_CINDER_PROJECT=$PROJECT"
    echo "export REAL_CINDER_TOKEN=$PROJECT"
    echo "export REAL_CINDER_DB=$(shell_quote "$db")"
    echo "export REAL_CINDER_TRUTH=$(shell_quote "$home/truth-$PROJECT.json")"
    echo "export REAL_CINDER_SCRATCH_PROJECT=$SCRATCH_PROJECT"
    echo "export REAL_CINDER_SCRATCH_TRUTH=$(shell_quote "$home/truth-$SCRATCH_PROJECT.json")"
    echo "export REAL_CINDER_OTHER_PROJECT=$OTHER_PROJECT"
    echo "export REAL_CINDER_CLEANUP_PROJECT=$CLEANUP_PROJECT"
    echo "export REAL_CINDER_CLEANUP_TRUTH=$(shell_quote "$home/truth-$CLEANUP_PROJECT.json")"
    echo "export REAL_CINDER_PUBLIC_ENDPOINT=$(shell_quote "${REAL_CINDER_PUBLIC_ENDPOINT:-}")"
    echo "export REAL_CINDER_HOME=$(shell_quote "$home")"
    echo "export REAL_CINDER_CTL=$(shell_quote "$here/real-cinder.sh")"
  } >"$envfile"
}

seed() { "$venv/bin/python" "$helpers/seed.py" "$@" --db "$db" --truth-dir "$home"; }

cmd_start() {
  mkdir -p "$logs" "$home/state" "$home/lock"
  if running; then
    # Already up: fine, unless it was started with other settings.
    local wanted
    wanted="$(mktemp)"
    write_conf "$wanted"
    if ! cmp -s "$wanted" "$conf"; then
      rm -f "$wanted"
      die "running with another configuration ($conf); run stop first"
    fi
    rm -f "$wanted"
    return 0
  fi
  rm -f "$pidfile"
  proc port-free "$port" || die "127.0.0.1:$port is in use by another program (set REAL_CINDER_PORT)"

  install
  write_conf "$conf"

  # A fresh database each start: schema by Cinder's own migrations (`db sync`, run once
  # per set of pinned packages and kept as a template: it takes seconds), rows by seed.py.
  local schema
  schema="$home/schema-$(sha256sum "$constraints" | cut -c1-16).sqlite"
  if [[ ! -f "$schema" ]]; then
    rm -f "$db" "$home"/schema-*.sqlite
    "$venv/bin/cinder-manage" --config-file "$conf" db sync >"$logs/db-sync.log" 2>&1 ||
      { show_logs "$logs/db-sync.log" "$logs/cinder-manage.log"; die "cinder-manage db sync failed"; }
    cp "$db" "$schema.tmp" && mv "$schema.tmp" "$schema"
  fi
  rm -f "$db.harness-lock"
  cp "$schema" "$db"
  seed reseed >"$logs/seed.log" 2>&1 || { show_logs "$logs/seed.log"; die "seeding failed"; }

  : >"$logs/cinder-api.log"
  proc spawn "$pidfile" "$logs/cinder-api.out" -- "$venv/bin/cinder-api" --config-file "$conf"
  # Behind Keystone, a made-up token is refused with 401 once the pipeline is up.
  local ready=200
  [[ "$auth" == noauth ]] || ready=401
  if ! proc wait-ready "$pidfile" "$conf" \
    "http://127.0.0.1:$port/v3/$PROJECT/backups?limit=1" "$PROJECT" "$start_timeout" "$ready"; then
    show_logs "$logs/cinder-api.out" "$logs/cinder-api.log"
    proc stop "$pidfile" "$conf" 10 || true
    die "cinder-api did not come up on 127.0.0.1:$port"
  fi
  write_env
}

cmd_stop() {
  proc stop "$pidfile" "$conf" 30 || die "could not stop the process group in $pidfile"
}

cmd_status() {
  if running; then
    echo "running: pgid $(cat "$pidfile"), http://127.0.0.1:$(sed -n 's/^osapi_volume_listen_port = //p' "$conf"), home $home"
  else
    echo "not running (home $home)"
    return 3
  fi
}

cmd_env() {
  if [[ -f "$envfile" ]] && running; then
    cat "$envfile"
  else
    write_env
    cat "$envfile"
  fi
}

cmd_mutate() {
  [[ -f "$db" ]] || die "no database at $db: run start first"
  seed "$@" >"$logs/seed.log" 2>&1 || { show_logs "$logs/seed.log"; die "seed.py $* failed"; }
}

# One changing command at a time per home: test binaries running in parallel may all
# call start, or delete while another starts. status and env never wait.
lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$home/.real-cinder.lock"
    flock 9
  fi
}

case "${1:-}" in
  start) lock && cmd_start ;;
  stop) lock && cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  delete)
    lock
    shift
    [[ $# -ge 1 && "$*" != --hard ]] || die "usage: $0 delete [--hard] BACKUP_ID..."
    cmd_mutate delete "$@"
    ;;
  restore)
    lock
    shift
    [[ $# -ge 1 ]] || die "usage: $0 restore BACKUP_ID..."
    cmd_mutate restore "$@"
    ;;
  reseed) lock && cmd_mutate reseed ;;
  check)
    running || die "not running: run start first"
    # shellcheck disable=SC1090
    source "$envfile"
    "$python" "$helpers/check.py"
    ;;
  *)
    echo "usage: $0 start|stop|status|env|check|delete [--hard] ID...|restore ID...|reseed" >&2
    exit 2
    ;;
esac
