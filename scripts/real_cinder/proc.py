#!/usr/bin/env python3
"""Process-group and readiness helpers for scripts/real-cinder.sh (standard library only).

    proc.py port-free PORT                     exit 0 if 127.0.0.1:PORT can be bound
    proc.py spawn PIDFILE LOG -- CMD...        start CMD in a new session (its own
                                               process group), write the pgid to PIDFILE
    proc.py alive PIDFILE MARK                 exit 0 if that group still has a member
                                               whose command line contains MARK
    proc.py wait-ready PIDFILE MARK URL TOKEN SECONDS [STATUS]
                                               poll URL until it answers STATUS
                                               (default 200; 401 for a server
                                               that validates tokens elsewhere)
    proc.py stop PIDFILE MARK SECONDS          TERM the group, KILL what is left after
                                               SECONDS, remove PIDFILE

MARK (the config file's path) guards against a recycled pid: a group is ours only if
one of its processes runs with that path on its command line.
"""

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def read_pgid(pidfile):
    try:
        with open(pidfile) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def members(pgid):
    """Pids in process group pgid, with their command lines."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            # Field 5 (pgrp) comes after the parenthesised command name.
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z" or int(fields[2]) != pgid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, ValueError, IndexError):
            continue
        found.append((int(entry), cmdline))
    return found


def ours(pidfile, mark):
    pgid = read_pgid(pidfile)
    if pgid is None or pgid <= 1:
        return None
    group = members(pgid)
    if any(mark in cmdline for _, cmdline in group):
        return pgid
    return None


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As cinder-api binds: TIME_WAIT connections of a previous run don't count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError:
            return False
    return True


def spawn(pidfile, log, cmd):
    with open(log, "ab") as out, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(
            cmd, stdin=devnull, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    # start_new_session makes the child a session and group leader: pid == pgid.
    with open(pidfile, "w") as f:
        f.write(f"{child.pid}\n")


def wait_ready(pidfile, mark, url, token, seconds, status="200"):
    wanted = int(status)
    deadline = time.monotonic() + float(seconds)
    last = "no answer yet"
    while time.monotonic() < deadline:
        if ours(pidfile, mark) is None:
            print(f"the server exited before answering ({last})", file=sys.stderr)
            return 1
        request = urllib.request.Request(url, headers={"X-Auth-Token": token})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == wanted:
                    return 0
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as e:
            if e.code == wanted:
                return 0
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, "reason", e))
        time.sleep(0.25)
    print(f"the server did not answer {wanted} within {seconds} s ({last})", file=sys.stderr)
    return 1


def stop(pidfile, mark, seconds):
    pgid = ours(pidfile, mark)
    if pgid is not None:
        for sig, wait in ((signal.SIGTERM, float(seconds)), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(pgid, sig)
            except OSError as e:
                if e.errno != errno.ESRCH:
                    raise
            deadline = time.monotonic() + wait
            while members(pgid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not members(pgid):
                break
        if members(pgid):
            print(f"process group {pgid} survived SIGKILL", file=sys.stderr)
            return 1
    try:
        os.remove(pidfile)
    except FileNotFoundError:
        pass
    return 0


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "port-free":
        return 0 if port_free(args[0]) else 1
    if command == "spawn":
        pidfile, log, sep, *cmd = args
        assert sep == "--" and cmd, "usage: spawn PIDFILE LOG -- CMD..."
        spawn(pidfile, log, cmd)
        return 0
    if command == "alive":
        return 0 if ours(args[0], args[1]) is not None else 1
    if command == "wait-ready":
        return wait_ready(*args)
    if command == "stop":
        return stop(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
