#!/usr/bin/env bash
# A real OpenStack Keystone 30.0.0 (the release of the pinned Cinder 29.0.0's series) on
# 127.0.0.1, and a real Cinder behind it that validates every token with
# keystonemiddleware, for tests that check the `keystone` feature against upstream code.
#
#   scripts/real-keystone.sh start    install (once), make a fresh Keystone (SQLite, fernet
#                                     tokens, bootstrap, then users, projects, regions,
#                                     services and endpoints through its API), start it, a
#                                     second one with short-lived tokens on the same
#                                     database and keys, and a Cinder (auth_strategy =
#                                     keystone) seeded like scripts/real-cinder.sh's
#   scripts/real-keystone.sh stop     stop all three; ok if not running
#   scripts/real-keystone.sh status   say what runs (exit 0 if all three do, 3 if not)
#   scripts/real-keystone.sh env      print `export REAL_KEYSTONE_…=…` lines for the tests
#
# Typical use:  scripts/real-keystone.sh start && eval "$(scripts/real-keystone.sh env)"
#
# Each server runs in a process group of its own (scripts/real_cinder/proc.py); stop ends
# exactly those groups, and a start that fails stops what it had started.
#
# Settings (environment):
#   REAL_KEYSTONE_HOME               state dir (default $PWD/target/real-keystone): configs,
#                                    SQLite DB, key repositories, logs under log/
#   REAL_KEYSTONE_VENV               venv (default $PWD/target/real-cinder/venv: the one
#                                    scripts/real-cinder.sh installs Cinder into; Keystone's
#                                    constraints extend Cinder's, so one venv serves both)
#   REAL_KEYSTONE_PORT               Keystone's port on 127.0.0.1 (default 15000)
#   REAL_KEYSTONE_SHORT_PORT         the short-lived-token Keystone's port (default 15001)
#   REAL_KEYSTONE_SHORT_EXPIRATION   its [token] expiration in seconds (default 4)
#   REAL_KEYSTONE_CINDER_PORT        the Keystone-validated Cinder's port (default 18786)
#   REAL_KEYSTONE_UNREACHABLE_PORT   a port nothing listens on, for RegionTwo (default 18787)
#   REAL_KEYSTONE_PYTHON             interpreter for a new venv (default python3)
#   REAL_KEYSTONE_START_TIMEOUT      seconds to wait for each server (default 120)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helpers="$here/real_keystone"
cinder_helpers="$here/real_cinder"

KEYSTONE_VERSION=30.0.0
GUNICORN_VERSION=27.0.1
ADMIN_PASSWORD=admin-Pa55word

home="${REAL_KEYSTONE_HOME:-$PWD/target/real-keystone}"
mkdir -p "$home"
home="$(cd "$home" && pwd)"
venv="${REAL_KEYSTONE_VENV:-$PWD/target/real-cinder/venv}"
port="${REAL_KEYSTONE_PORT:-15000}"
short_port="${REAL_KEYSTONE_SHORT_PORT:-15001}"
short_expiration="${REAL_KEYSTONE_SHORT_EXPIRATION:-4}"
cinder_port="${REAL_KEYSTONE_CINDER_PORT:-18786}"
unreachable_port="${REAL_KEYSTONE_UNREACHABLE_PORT:-18787}"
python="${REAL_KEYSTONE_PYTHON:-python3}"
start_timeout="${REAL_KEYSTONE_START_TIMEOUT:-120}"

logs="$home/log"
db="$home/keystone.sqlite"
conf="$home/keystone.conf"
short_conf="$home/keystone-short.conf"
pidfile="$home/keystone.pid"
short_pidfile="$home/keystone-short.pid"
envfile="$home/env.sh"
setup_env="$home/setup-env.sh"
cinder_home="$home/cinder"
constraints=("$cinder_helpers/requirements.txt" "$helpers/requirements.txt")

die() {
  echo "real-keystone: $*" >&2
  exit 1
}

show_logs() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 40 "$f" >&2
  done
}

proc() { "$python" "$cinder_helpers/proc.py" "$@"; }

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# The Keystone-validated Cinder is scripts/real-cinder.sh with settings of its own.
cinder_ctl() {
  local project_id=""
  [[ -f "$setup_env" ]] && project_id="$(sed -n "s/^export REAL_KEYSTONE_PROJECT_ID=//p" "$setup_env" | tr -d "'")"
  REAL_CINDER_HOME="$cinder_home" REAL_CINDER_VENV="$venv" REAL_CINDER_PORT="$cinder_port" \
    REAL_CINDER_AUTH=keystone REAL_CINDER_KEYSTONE_URL="http://127.0.0.1:$port" \
    REAL_CINDER_KEYSTONE_USER=cinder REAL_CINDER_KEYSTONE_PASSWORD=cinder-service-Pa55word \
    REAL_CINDER_PROJECT_ID="${project_id:-00000000000000000000000000000000}" \
    REAL_CINDER_PYTHON="$python" bash "$here/real-cinder.sh" "$@"
}

constraints_stamp() { cat "${constraints[@]}"; }

venv_has_keystone() {
  [[ -x "$venv/bin/python" ]] &&
    [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("keystone"), m.version("gunicorn"))' 2>/dev/null)" == "$KEYSTONE_VERSION $GUNICORN_VERSION" ]] &&
    cmp -s <(constraints_stamp) "$venv/.real-keystone-constraints"
}

install() {
  venv_has_keystone && return 0
  local log="$logs/install.log"
  : >"$log"
  if [[ ! -x "$venv/bin/python" ]]; then
    if ! "$python" -m venv "$venv" >>"$log" 2>&1; then
      rm -rf "$venv"
      if ! { "$python" -m pip install --disable-pip-version-check --target "$home/bootstrap" \
        -c "$cinder_helpers/requirements.txt" virtualenv &&
        PYTHONPATH="$home/bootstrap" "$python" -m virtualenv "$venv"; } >>"$log" 2>&1; then
        show_logs "$log"
        die "cannot create a venv at $venv with $python"
      fi
    fi
  fi
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
    -c "${constraints[0]}" -c "${constraints[1]}" \
    "keystone==$KEYSTONE_VERSION" "gunicorn==$GUNICORN_VERSION" >>"$log" 2>&1; then
    show_logs "$log"
    die "pip could not install keystone==$KEYSTONE_VERSION (log: $log)"
  fi
  constraints_stamp >"$venv/.real-keystone-constraints"
}

# $1: file, $2: log name, $3: token expiration in seconds (empty: Keystone's default)
write_conf() {
  {
    echo "[DEFAULT]"
    echo "log_file = $logs/$2.log"
    echo "use_stderr = false"
    echo
    echo "[database]"
    echo "connection = sqlite:///$db"
    echo
    echo "[token]"
    echo "provider = fernet"
    [[ -z "$3" ]] || echo "expiration = $3"
    echo
    echo "[fernet_tokens]"
    echo "key_repository = $home/fernet-keys"
    echo
    echo "[fernet_receipts]"
    echo "key_repository = $home/fernet-keys"
    echo
    echo "[credential]"
    echo "key_repository = $home/credential-keys"
    echo
    echo "[identity]"
    # The fewest bcrypt rounds Keystone accepts: each password check then takes
    # milliseconds instead of a quarter second; nothing else changes.
    echo "password_hash_rounds = 4"
  } >"$1"
}

manage() { "$venv/bin/keystone-manage" --config-file "$conf" "$@"; }

# $1 pidfile, $2 conf, $3 port, $4 log name
spawn_keystone() {
  : >"$logs/$4-access.log"
  # --name puts the config path into the process title (gunicorn sets one), which is
  # how proc.py tells our process group from a stranger that got the same pgid.
  # No control socket: gunicorn's default one is a single path in $HOME for every
  # instance.
  proc spawn "$1" "$logs/$4.out" -- "$venv/bin/gunicorn" \
    --name "real-keystone $2" --bind "127.0.0.1:$3" --workers 2 --timeout 120 \
    --no-control-socket --pythonpath "$helpers" \
    --env "OS_KEYSTONE_CONFIG_FILES=$2" --access-logfile "$logs/$4-access.log" \
    keystone_app:application
}

wait_keystone() {
  if ! proc wait-ready "$1" "$2" "http://127.0.0.1:$3/v3/" none "$start_timeout"; then
    show_logs "$logs/$4.out" "$logs/$4.log"
    die "Keystone ($4) did not come up on 127.0.0.1:$3"
  fi
}

running_main() { proc alive "$pidfile" "$conf"; }
running_short() { proc alive "$short_pidfile" "$short_conf"; }

write_env() {
  {
    cat "$setup_env"
    echo "export REAL_KEYSTONE_AUTH_URL=$(shell_quote "http://127.0.0.1:$port")"
    echo "export REAL_KEYSTONE_SHORT_AUTH_URL=$(shell_quote "http://127.0.0.1:$short_port")"
    echo "export REAL_KEYSTONE_SHORT_LIFETIME=$short_expiration"
    echo "export REAL_KEYSTONE_ADMIN_PASSWORD=$(shell_quote "$ADMIN_PASSWORD")"
    echo "export REAL_KEYSTONE_CINDER_ENDPOINT=$(shell_quote "http://127.0.0.1:$cinder_port")"
    echo "export REAL_KEYSTONE_UNREACHABLE_ENDPOINT=$(shell_quote "http://127.0.0.1:$unreachable_port")"
    echo "export REAL_KEYSTONE_ACCESS_LOG=$(shell_quote "$logs/keystone-access.log")"
    echo "export REAL_KEYSTONE_SHORT_ACCESS_LOG=$(shell_quote "$logs/keystone-short-access.log")"
    echo "export REAL_KEYSTONE_CINDER_LOG=$(shell_quote "$cinder_home/log/cinder-api.log")"
    echo "export REAL_KEYSTONE_HOME=$(shell_quote "$home")"
  } >"$envfile"
  # The Cinder harness's own variables (its truth file, for one), prefixed.
  cinder_ctl env | sed 's/^export REAL_CINDER_/export REAL_KEYSTONE_CINDER_/' >>"$envfile"
}

cmd_stop() {
  local failed=0
  cinder_ctl stop || failed=1
  proc stop "$short_pidfile" "$short_conf" 30 || failed=1
  proc stop "$pidfile" "$conf" 30 || failed=1
  [[ $failed -eq 0 ]] || die "could not stop every process group (see $home/*.pid)"
}

start_failed() {
  local status=$?
  trap - EXIT
  if [[ $status -ne 0 ]]; then
    echo "real-keystone: start failed; stopping what it started" >&2
    cmd_stop || true
  fi
  exit "$status"
}

cmd_start() {
  mkdir -p "$logs"
  if running_main && running_short && cinder_ctl status >/dev/null; then
    return 0
  fi
  # Half up (an earlier start died): begin again from nothing.
  cmd_stop
  for p in "$port" "$short_port" "$cinder_port"; do
    proc port-free "$p" || die "127.0.0.1:$p is in use by another program"
  done
  trap start_failed EXIT

  install
  write_conf "$conf" keystone ""
  write_conf "$short_conf" keystone-short "$short_expiration"

  # A fresh identity database each start. Keystone's own tools make the first one
  # (db_sync, fernet_setup, credential_setup, bootstrap: a minute, as each keystone-manage
  # run imports all of Keystone); it is kept, with its key repositories, as a template
  # per set of pinned packages and port, and later starts copy it.
  local template
  template="$home/template-$({ constraints_stamp; echo "$port"; } | sha256sum | cut -c1-16)"
  if [[ ! -f "$template/keystone.sqlite" ]]; then
    rm -rf "$home"/template-* "$db" "$home/fernet-keys" "$home/credential-keys"
    local user group
    user="$(id -un)"
    group="$(id -gn)"
    {
      manage db_sync &&
        manage fernet_setup --keystone-user "$user" --keystone-group "$group" &&
        manage credential_setup --keystone-user "$user" --keystone-group "$group" &&
        manage bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
          --bootstrap-admin-url "http://127.0.0.1:$port/v3" \
          --bootstrap-internal-url "http://127.0.0.1:$port/v3" \
          --bootstrap-public-url "http://127.0.0.1:$port/v3" \
          --bootstrap-region-id RegionOne
    } >"$logs/bootstrap.log" 2>&1 ||
      { show_logs "$logs/bootstrap.log" "$logs/keystone.log"; die "keystone-manage db_sync / fernet_setup / credential_setup / bootstrap failed"; }
    mkdir -p "$template.tmp"
    cp -a "$db" "$home/fernet-keys" "$home/credential-keys" "$template.tmp/"
    mv "$template.tmp" "$template"
  else
    rm -rf "$db" "$home/fernet-keys" "$home/credential-keys"
    cp -a "$template/keystone.sqlite" "$template/fernet-keys" "$template/credential-keys" "$home/"
  fi

  spawn_keystone "$pidfile" "$conf" "$port" keystone
  spawn_keystone "$short_pidfile" "$short_conf" "$short_port" keystone-short
  wait_keystone "$pidfile" "$conf" "$port" keystone
  wait_keystone "$short_pidfile" "$short_conf" "$short_port" keystone-short

  "$venv/bin/python" "$helpers/setup.py" "http://127.0.0.1:$port" "$ADMIN_PASSWORD" \
    "http://127.0.0.1:$cinder_port" "http://127.0.0.1:$unreachable_port" "$setup_env" \
    >"$logs/setup.log" 2>&1 ||
    { show_logs "$logs/setup.log" "$logs/keystone.log"; die "populating Keystone through its API failed"; }

  cinder_ctl start || die "the Keystone-validated Cinder did not start (logs: $cinder_home/log)"
  write_env
  trap - EXIT
}

cmd_status() {
  local up=0
  if running_main; then echo "keystone: running, pgid $(cat "$pidfile"), http://127.0.0.1:$port"; else echo "keystone: not running"; up=3; fi
  if running_short; then echo "keystone (tokens of ${short_expiration}s): running, pgid $(cat "$short_pidfile"), http://127.0.0.1:$short_port"; else echo "keystone (short tokens): not running"; up=3; fi
  echo -n "cinder (keystone auth): "
  cinder_ctl status || up=3
  return "$up"
}

cmd_env() {
  [[ -f "$envfile" ]] || die "no environment yet: run start first"
  cat "$envfile"
}

lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$home/.real-keystone.lock"
    flock 8
  fi
}

case "${1:-}" in
  start) lock && cmd_start ;;
  stop) lock && cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
