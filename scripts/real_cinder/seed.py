#!/usr/bin/env python3
"""Seed data, ground truth and mutations for the real-Cinder harness.

Writes rows straight into the `backups` and `backup_metadata` tables of the SQLite
database that `cinder-manage db sync` created, the way Cinder itself stores them
(SQLAlchemy's `YYYY-MM-DD HH:MM:SS.ffffff` datetimes, `deleted` as 0/1), so that
`cinder-api` serves them as if they had been created through the API.

    seed.py reseed  --db DB --truth-dir DIR   replace every backup with the seeded set
    seed.py truth   --db DB --truth-dir DIR   rewrite the truth files from the database
    seed.py delete  --db DB --truth-dir DIR [--hard] ID
                                              soft-delete as Cinder's backup_destroy does
                                              (or remove the row), then rewrite truth
    seed.py restore --db DB --truth-dir DIR ID
                                              put a seeded backup back as it was seeded

The truth file of a project (`truth-<project>.json`) is
`{"project_id": ..., "backups": [...]}` with the project's non-deleted backups in
Cinder's default order (created_at desc, id desc), read back from the database by SQL.
Each entry carries exactly the fields of a microversion 3.0 detail entry except
`links`, formatted as cinder-api formats them, plus `user_id`, `project_id`,
`metadata` and `encryption_key_id` for tests at later microversions.

Only the standard library is used; the data are deterministic (fixed ids, fixed
pseudo-random choices), so every reseed produces the same rows.
"""

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import random
import sqlite3
import sys
import tempfile
import uuid

# REAL_CINDER_PROJECT_ID renames it (a Keystone-validated Cinder must serve the project
# Keystone made, whose id Keystone chooses); backup ids do not depend on it.
PROJECT = os.environ.get("REAL_CINDER_PROJECT_ID") or "b23b579f08c84228b9b4673c46f0c442"
OTHER_PROJECT = "ffffffffffffffffffffffffffffffff"
# A small project of its own for tests that delete or restore backups, so that
# mutating it never changes what a full walk of PROJECT returns.
SCRATCH_PROJECT = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c"
# Another for the cleanup-job tests, which delete everything they list and put it back.
CLEANUP_PROJECT = "c1ea0c1ea0c1ea0c1ea0c1ea0c1ea0c1"

LIVE_COUNT = 2500
DELETED_COUNT = 24
OTHER_COUNT = 40
SCRATCH_COUNT = 30
CLEANUP_COUNT = 60

BASE_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)
ID_NAMESPACE = uuid.UUID("3f0c7b9e-2f4d-5b8a-9c61-7d2e4a5b6c70")

STATUSES = ["available", "error", "creating", "deleting", "restoring", "error_deleting"]
VOLUME_IDS = [
    "6ba4a1a0-3c1e-4c33-9f57-0d5d3b8e2a10",
    "20353b7e-9b1d-4f0e-8a6c-5e2f7d9c4b21",
    "9e1f2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "c0ffee00-1234-4abc-9def-0123456789ab",
]
USERS = ["0f3a1c5e7b9d4e2f8a6c4b2d0e1f3a5c", "7d9b3e1f5a2c4d6e8f0a1b3c5d7e9f2a"]
# name -> weight per 10,000 backups; what is left over gets `backup-NNNNN`.
NAMES = [
    (None, 1050),
    ("weekly", 1070),
    ("nightly-0", 290),
    ("nightly-1", 265),
    ("nightly-2", 255),
    ("nightly-3", 180),
    ("sp\u00e9cial & name=0", 530),
    ("sp\u00e9cial & name=1", 210),
    ("sp\u00e9cial & name=2", 250),
]
FAIL_REASONS = {
    "error": [
        "Volume 6ba4a1a0 could not be found.",
        "Connection to the object store timed out after 600 seconds",
        "Backup driver reported an error: quota exceeded",
    ],
    "error_deleting": [
        "Delete failed: container volumebackups is busy",
        "Object store returned 503 while deleting chunk 17",
    ],
}
CHUNKS_PER_GB = 21  # the Swift driver's default 50 MiB chunks, rounded up

DB_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite
API_TIME = "%Y-%m-%dT%H:%M:%S.%f"  # how cinder-api renders it (no zone designator)

COLUMNS = [
    "created_at", "updated_at", "deleted_at", "deleted", "id", "volume_id", "user_id",
    "project_id", "host", "availability_zone", "display_name", "display_description",
    "container", "status", "fail_reason", "service_metadata", "service", "size",
    "object_count", "parent_id", "temp_volume_id", "temp_snapshot_id",
    "num_dependent_backups", "snapshot_id", "data_timestamp", "restore_volume_id",
    "encryption_key_id",
]


def seeded_id(kind, index):
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}-{index}"))


def db_time(value):
    return value.strftime(DB_TIME) if value is not None else None


def pick_name(rng, index):
    roll = rng.randrange(10000)
    for name, weight in NAMES:
        if roll < weight:
            return name
        roll -= weight
    return f"backup-{index:05d}"


def backup_row(rng, *, backup_id, project, index, created, name, status, volume_id):
    """One fully populated row; the caller adjusts deletion and parent links."""
    size = rng.randint(1, 500)
    in_store = status not in ("creating", "error")
    az = rng.choice(["nova", "nova", "az-1", "az-2"])
    container = None if status == "creating" and rng.random() < 0.5 else (
        "volumebackups" if rng.random() < 0.8 else f"vbs-container-{rng.randint(0, 9)}"
    )
    snapshot_id = seeded_id("snapshot", f"{project}-{index}") if rng.random() < 0.15 else None
    updated = created + dt.timedelta(
        seconds=rng.randint(1, 3600), microseconds=rng.randint(0, 999999)
    )
    return {
        "created_at": db_time(created),
        "updated_at": db_time(updated),
        "deleted_at": None,
        "deleted": 0,
        "id": backup_id,
        "volume_id": volume_id,
        "user_id": USERS[index % len(USERS)] if project == PROJECT else USERS[1],
        "project_id": project,
        "host": "vbs-backup-1@swift" if status != "creating" else None,
        "availability_zone": az,
        "display_name": name,
        "display_description": None if index % 17 == 0 else f"seeded backup #{index}",
        "container": container,
        "status": status,
        "fail_reason": rng.choice(FAIL_REASONS[status]) if status in FAIL_REASONS else None,
        "service_metadata": (
            f"volume_{volume_id}/{created.strftime('%Y%m%d%H%M%S')}/az_{az}_backup_{backup_id}"
            if in_store else None
        ),
        "service": "cinder.backup.drivers.swift.SwiftBackupDriver",
        "size": size,
        "object_count": size * CHUNKS_PER_GB if in_store else 0,
        "parent_id": None,
        "temp_volume_id": None,
        "temp_snapshot_id": None,
        "num_dependent_backups": 0,
        "snapshot_id": snapshot_id,
        "data_timestamp": db_time(created - dt.timedelta(minutes=30) if snapshot_id else created),
        "restore_volume_id": (
            seeded_id("restore-volume", f"{project}-{index}") if status == "restoring" else None
        ),
        "encryption_key_id": seeded_id("key", f"{project}-{index}") if rng.random() < 0.05 else None,
    }


def link_incrementals(rng, rows):
    """Make some backups incremental children of the previous backup of their volume."""
    last_on_volume = {}
    for row in sorted(rows, key=lambda r: (r["created_at"], r["id"])):
        parent = last_on_volume.get(row["volume_id"])
        if parent is not None and row["status"] != "creating" and rng.random() < 0.25:
            row["parent_id"] = parent["id"]
            parent["num_dependent_backups"] += 1
        if row["status"] == "available":
            last_on_volume[row["volume_id"]] = row


def seeded_rows():
    """Every seeded backup row and metadata row, deterministically."""
    rng = random.Random(20240101)
    rows, metadata = [], []

    live = []
    for index in range(1, LIVE_COUNT + 1):
        # Pairs (2k, 2k+1) share a created_at, so ties straddle page boundaries.
        created = BASE_TIME + dt.timedelta(minutes=index // 2)
        live.append(backup_row(
            rng, backup_id=seeded_id("backup", index), project=PROJECT, index=index,
            created=created, name=pick_name(rng, index), status=rng.choice(STATUSES),
            volume_id=rng.choice(VOLUME_IDS),
        ))
        if index % 10 == 0:
            tier = "gold" if index % 20 == 0 else "silver"
            metadata.append((live[-1]["id"], "seed_index", str(index)))
            metadata.append((live[-1]["id"], "tier", tier))
    link_incrementals(rng, live)
    rows.extend(live)

    for index in range(1, DELETED_COUNT + 1):
        # Same timestamps as live rows, so a deleted row sits amid them in sort order.
        created = BASE_TIME + dt.timedelta(minutes=index * 50)
        row = backup_row(
            rng, backup_id=seeded_id("deleted-backup", index), project=PROJECT,
            index=index, created=created,
            name=["weekly", f"deleted-{index}", None][index % 3], status="available",
            volume_id=VOLUME_IDS[index % len(VOLUME_IDS)],
        )
        row.update(deleted=1, status="deleted",
                   deleted_at=db_time(created + dt.timedelta(days=1)))
        rows.append(row)
        metadata.append((row["id"], "seed_index", f"deleted-{index}"))

    for index in range(1, OTHER_COUNT + 1):
        created = BASE_TIME + dt.timedelta(minutes=index * 31)
        rows.append(backup_row(
            rng, backup_id=seeded_id("other-backup", index), project=OTHER_PROJECT,
            index=index, created=created,
            name="weekly" if index % 8 == 0 else f"other-{index}",
            status=rng.choice(STATUSES), volume_id=seeded_id("other-volume", index % 3),
        ))

    scratch = []
    for index in range(1, SCRATCH_COUNT + 1):
        created = BASE_TIME + dt.timedelta(minutes=index // 2)
        scratch.append(backup_row(
            rng, backup_id=seeded_id("scratch-backup", index), project=SCRATCH_PROJECT,
            index=index, created=created, name=f"scratch-{index:02d}",
            status=rng.choice(STATUSES), volume_id=VOLUME_IDS[index % 2],
        ))
    rows.extend(scratch)

    for index in range(1, CLEANUP_COUNT + 1):
        # Pairs share a created_at, as the main project's do: ties cross page boundaries.
        created = BASE_TIME + dt.timedelta(days=index // 2)
        rows.append(backup_row(
            rng, backup_id=seeded_id("cleanup-backup", index), project=CLEANUP_PROJECT,
            index=index, created=created, name=f"cleanup-{index:02d}",
            status=rng.choice(STATUSES), volume_id=VOLUME_IDS[index % 2],
        ))

    return rows, metadata


def metadata_rows(pairs, rows_by_id):
    out = []
    for backup_id, key, value in pairs:
        row = rows_by_id[backup_id]
        out.append({
            "created_at": row["created_at"], "updated_at": None,
            "deleted_at": row["deleted_at"], "deleted": row["deleted"],
            "backup_id": backup_id, "key": key, "value": value,
        })
    return out


def insert(conn, rows, metadata):
    placeholders = ", ".join("?" for _ in COLUMNS)
    conn.executemany(
        f"INSERT INTO backups ({', '.join(COLUMNS)}) VALUES ({placeholders})",
        [tuple(row[c] for c in COLUMNS) for row in rows],
    )
    conn.executemany(
        "INSERT INTO backup_metadata (created_at, updated_at, deleted_at, deleted, "
        'backup_id, "key", value) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [(m["created_at"], m["updated_at"], m["deleted_at"], m["deleted"], m["backup_id"],
          m["key"], m["value"]) for m in metadata],
    )


@contextlib.contextmanager
def locked(db_path):
    """Serialises harness writers (parallel tests calling delete/restore)."""
    with open(db_path + ".harness-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = sqlite3.connect(db_path, timeout=60)
        try:
            yield conn
        finally:
            conn.close()


def api_time(value):
    if value is None:
        return None
    return dt.datetime.strptime(value, DB_TIME).strftime(API_TIME)


def project_truth(conn, project):
    conn.row_factory = sqlite3.Row
    backups = conn.execute(
        "SELECT * FROM backups WHERE project_id = ? AND deleted = 0 "
        "ORDER BY created_at DESC, id DESC",
        (project,),
    ).fetchall()
    metadata = {}
    for m in conn.execute(
        'SELECT m.backup_id, m."key", m.value FROM backup_metadata m '
        "JOIN backups b ON b.id = m.backup_id "
        "WHERE b.project_id = ? AND m.deleted = 0 ORDER BY m.id",
        (project,),
    ):
        metadata.setdefault(m["backup_id"], {})[m["key"]] = m["value"]
    conn.row_factory = None
    return {
        "project_id": project,
        "backups": [
            {
                "id": b["id"],
                "status": b["status"],
                # cinder.objects.Backup turns NULL integers into 0.
                "size": b["size"] or 0,
                "object_count": b["object_count"] or 0,
                "availability_zone": b["availability_zone"],
                "container": b["container"],
                "created_at": api_time(b["created_at"]),
                "updated_at": api_time(b["updated_at"]),
                "name": b["display_name"],
                "description": b["display_description"],
                "fail_reason": b["fail_reason"],
                "volume_id": b["volume_id"],
                "is_incremental": bool(b["parent_id"]),
                "has_dependent_backups": bool(b["num_dependent_backups"]),
                "snapshot_id": b["snapshot_id"],
                "data_timestamp": api_time(b["data_timestamp"]),
                "user_id": b["user_id"],
                "project_id": b["project_id"],
                "metadata": metadata.get(b["id"], {}),
                "encryption_key_id": b["encryption_key_id"],
            }
            for b in backups
        ],
    }


# --- Volumes beside the backups (coverage audit, issue 18) -------------------------
# The main project's volumes: the first three of VOLUME_IDS exist, the fourth was
# deleted (a soft-deleted row, as Cinder leaves it), so its backups are orphans; and a
# few volumes were never backed up. The truth file gets them as `volumes` (non-deleted,
# Cinder's order) and, read back by SQL, which backups are orphans and which volumes have
# a protecting (available / restoring) or a failed backup: the oracle of
# tests/real_cinder_coverage.rs.

SPARE_VOLUMES = 3
VOLUME_STATUSES = ["in-use", "available", "in-use", "available", "error", "creating"]


def default_volume_type(conn):
    """The id of `__DEFAULT__`, which `cinder-manage db sync` creates."""
    row = conn.execute(
        "SELECT id FROM volume_types WHERE name = '__DEFAULT__' AND deleted = 0"
    ).fetchone()
    if row is None:
        raise SystemExit("the database has no __DEFAULT__ volume type")
    return row[0]


def volume_row(*, volume_id, index, name, status, deleted, volume_type):
    created = BASE_TIME - dt.timedelta(days=30 - index)
    return {
        "created_at": db_time(created), "updated_at": db_time(created),
        "deleted_at": db_time(created + dt.timedelta(days=400)) if deleted else None,
        "deleted": 1 if deleted else 0, "id": volume_id,
        "user_id": USERS[0], "project_id": PROJECT, "host": "vbs-volume-1@lvm#lvm",
        "size": [40, 100, 10, 1, 5, 20][index % 6], "availability_zone": "nova",
        "status": "deleted" if deleted else status,
        "attach_status": "attached" if status == "in-use" and not deleted else "detached",
        "display_name": name, "display_description": None,
        "volume_type_id": volume_type, "bootable": 0, "multiattach": 0,
        "shared_targets": 1, "use_quota": 1,
    }


def seeded_volumes(conn):
    volume_type = default_volume_type(conn)
    rows = [
        volume_row(volume_id=volume_id, index=index, name=f"seeded-volume-{index}",
                   status=VOLUME_STATUSES[index], deleted=index == 3,
                   volume_type=volume_type)
        for index, volume_id in enumerate(VOLUME_IDS)
    ]
    rows += [
        volume_row(volume_id=seeded_id("spare-volume", index), index=4 + index,
                   name=None if index == 0 else f"never-backed-up-{index}",
                   status=VOLUME_STATUSES[(4 + index) % 6], deleted=False,
                   volume_type=volume_type)
        for index in range(SPARE_VOLUMES)
    ]
    return rows


def reseed_volumes(conn):
    rows = seeded_volumes(conn)
    existing = {row[1] for row in conn.execute("PRAGMA table_info(volumes)")}
    required = {
        row[1] for row in conn.execute("PRAGMA table_info(volumes)")
        if row[3] and row[4] is None and not row[5]
    }
    missing = required - set(rows[0])
    if missing:
        raise SystemExit(f"volumes needs columns the seed does not set: {sorted(missing)}")
    columns = [c for c in rows[0] if c in existing]
    conn.execute("DELETE FROM volume_metadata")
    conn.execute("DELETE FROM volumes")
    conn.executemany(
        f"INSERT INTO volumes ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [tuple(row[c] for c in columns) for row in rows],
    )
    conn.execute(
        'INSERT INTO volume_metadata (created_at, deleted, "key", value, volume_id) '
        "VALUES (?, 0, 'team', 'db', ?)",
        (rows[0]["created_at"], rows[0]["id"]),
    )


def volumes_truth(conn, project):
    """The project's volumes in Cinder's order, with what SQL says of their backups."""
    conn.row_factory = sqlite3.Row
    volumes = conn.execute(
        "SELECT v.id, v.display_name, v.status, v.size, "
        "EXISTS (SELECT 1 FROM backups b WHERE b.volume_id = v.id AND b.deleted = 0 "
        "        AND b.project_id = v.project_id AND b.status IN ('available', 'restoring')) "
        "  AS protecting, "
        "EXISTS (SELECT 1 FROM backups b WHERE b.volume_id = v.id AND b.deleted = 0 "
        "        AND b.project_id = v.project_id AND b.status = 'error') AS failed "
        "FROM volumes v WHERE v.project_id = ? AND v.deleted = 0 "
        "ORDER BY v.created_at DESC, v.id DESC",
        (project,),
    ).fetchall()
    orphans = conn.execute(
        "SELECT b.id FROM backups b WHERE b.project_id = ? AND b.deleted = 0 AND NOT EXISTS "
        "(SELECT 1 FROM volumes v WHERE v.id = b.volume_id AND v.deleted = 0 "
        " AND v.project_id = b.project_id) ORDER BY b.id",
        (project,),
    ).fetchall()
    conn.row_factory = None
    return {
        "volumes": [
            {"id": v["id"], "name": v["display_name"], "status": v["status"],
             "size": v["size"], "protecting": bool(v["protecting"]),
             "failed": bool(v["failed"])}
            for v in volumes
        ],
        "orphaned_backups": [o["id"] for o in orphans],
    }
# --- end of the volumes block --------------------------------------------------------


def truth_path(truth_dir, project):
    return os.path.join(truth_dir, f"truth-{project}.json")


def write_truth(conn, truth_dir):
    for project in (PROJECT, SCRATCH_PROJECT, CLEANUP_PROJECT):
        data = project_truth(conn, project)
        data.update(volumes_truth(conn, project))  # the volumes block
        fd, tmp = tempfile.mkstemp(dir=truth_dir, prefix=".truth-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, truth_path(truth_dir, project))


def reseed(conn):
    rows, pairs = seeded_rows()
    conn.execute("DELETE FROM backup_metadata")
    conn.execute("DELETE FROM backups")
    insert(conn, rows, metadata_rows(pairs, {r["id"]: r for r in rows}))
    reseed_volumes(conn)  # the volumes block


def delete(conn, backup_id, hard):
    if hard:
        conn.execute("DELETE FROM backup_metadata WHERE backup_id = ?", (backup_id,))
        gone = conn.execute("DELETE FROM backups WHERE id = ?", (backup_id,)).rowcount
    else:
        # What cinder.db.api.backup_destroy does: updated_at is left as it was.
        now = db_time(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        gone = conn.execute(
            "UPDATE backups SET status = 'deleted', deleted = 1, deleted_at = ? "
            "WHERE id = ? AND deleted = 0",
            (now, backup_id),
        ).rowcount
        conn.execute(
            "UPDATE backup_metadata SET deleted = 1, deleted_at = ? "
            "WHERE backup_id = ? AND deleted = 0",
            (now, backup_id),
        )
    if not gone:
        raise SystemExit(f"no live backup {backup_id}")


def restore(conn, backup_id):
    rows, pairs = seeded_rows()
    by_id = {r["id"]: r for r in rows}
    if backup_id not in by_id:
        raise SystemExit(f"{backup_id} is not a seeded backup")
    conn.execute("DELETE FROM backup_metadata WHERE backup_id = ?", (backup_id,))
    conn.execute("DELETE FROM backups WHERE id = ?", (backup_id,))
    insert(conn, [by_id[backup_id]],
           metadata_rows([p for p in pairs if p[0] == backup_id], by_id))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["reseed", "truth", "delete", "restore"])
    parser.add_argument("backup_ids", nargs="*", metavar="backup_id")
    parser.add_argument("--db", required=True)
    parser.add_argument("--truth-dir", required=True)
    parser.add_argument("--hard", action="store_true", help="delete: remove the row")
    args = parser.parse_intermixed_args(argv)
    if args.command in ("delete", "restore") and not args.backup_ids:
        parser.error(f"{args.command} needs a backup id")
    if not os.path.exists(args.db):
        raise SystemExit(f"no database at {args.db} (run `real-cinder.sh start` first)")

    with locked(args.db) as conn:
        with conn:  # one transaction, committed before the truth is rewritten
            if args.command == "reseed":
                reseed(conn)
            elif args.command == "delete":
                for backup_id in args.backup_ids:
                    delete(conn, backup_id, args.hard)
            elif args.command == "restore":
                for backup_id in args.backup_ids:
                    restore(conn, backup_id)
        write_truth(conn, args.truth_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
