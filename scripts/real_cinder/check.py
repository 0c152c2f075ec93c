#!/usr/bin/env python3
"""Self-check of a running real-Cinder harness: `scripts/real-cinder.sh check`.

Compares the server with the truth files and with the behaviour recorded in the
shared cinder-facts.md (limits, next links, offset double skip, marker errors, HTML
404s, with_count, detail fields per microversion, filters, a marker deleted mid-walk).
Reads the REAL_CINDER_* variables that `real-cinder.sh env` prints. Standard library only.
Prints one line per check; exits non-zero if any failed.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

ENDPOINT = os.environ["REAL_CINDER_ENDPOINT"]
PROJECT = os.environ["REAL_CINDER_PROJECT"]
TOKEN = os.environ["REAL_CINDER_TOKEN"]
SCRATCH = os.environ["REAL_CINDER_SCRATCH_PROJECT"]
CTL = os.environ["REAL_CINDER_CTL"]
PUBLIC = os.environ.get("REAL_CINDER_PUBLIC_ENDPOINT") or ENDPOINT

DETAIL_30 = {
    "id", "status", "size", "object_count", "availability_zone", "container", "created_at",
    "updated_at", "name", "description", "fail_reason", "volume_id", "is_incremental",
    "has_dependent_backups", "snapshot_id", "data_timestamp",
}
failures = []


def get(path, project=PROJECT, token=None, version=None, accept=None):
    url = path if path.startswith("http") else f"{ENDPOINT}/v3/{project}{path}"
    headers = {"X-Auth-Token": token or project}
    if accept is not None:
        headers["Accept"] = accept
    if version:
        headers["OpenStack-API-Version"] = f"volume {version}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def get_json(path, **kw):
    status, _, body = get(path, **kw)
    return status, json.loads(body) if body else None


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else '  ' + detail}")
    if not ok:
        failures.append(name)


def truth(project):
    path = os.environ["REAL_CINDER_TRUTH" if project == PROJECT else "REAL_CINDER_SCRATCH_TRUTH"]
    with open(path, encoding="utf-8") as f:
        return json.load(f)["backups"]


def next_href(page):
    links = page.get("backups_links")
    return links[0]["href"] if links else None


def same_origin_query(href):
    """The link's path and query, applied to our own endpoint (links may name PUBLIC)."""
    parts = urllib.parse.urlsplit(href)
    return f"{ENDPOINT}{parts.path[len(urllib.parse.urlsplit(PUBLIC).path):]}?{parts.query}"


def walk(path, project=PROJECT, version=None):
    pages, items, url = 0, [], path
    while url:
        status, page = get_json(url, project=project, version=version)
        if status != 200:
            raise AssertionError(f"{url} -> {status} {page}")
        pages += 1
        items.extend(page["backups"])
        href = next_href(page)
        url = same_origin_query(href) if href else None
    return pages, items


def main():
    expected = truth(PROJECT)
    ids = [b["id"] for b in expected]

    for limit, want_pages in ((1000, 3), (333, 8), (500, 6)):
        pages, items = walk(f"/backups/detail?limit={limit}")
        got = [{k: v for k, v in b.items() if k != "links"} for b in items]
        want = [{k: v for k, v in b.items() if k in DETAIL_30} for b in expected]
        check(f"detail walk limit={limit}: {pages} pages, equals truth",
              got == want and pages == want_pages, f"pages={pages} items={len(got)}")
    pages, items = walk("/backups")
    check("summary walk (no limit) equals truth ids and names",
          [(b["id"], b["name"]) for b in items] == [(b["id"], b["name"]) for b in expected]
          and pages == 3, f"pages={pages}")
    pages, items = walk("/backups/detail?limit=1000", version="3.71")
    check("detail 3.71 walk: metadata, user_id, project attr as truth",
          [(b["id"], b["metadata"], b["user_id"], b["os-backup-project-attr:project_id"],
            b.get("encryption_key_id")) for b in items]
          == [(b["id"], b["metadata"], b["user_id"], b["project_id"], b["encryption_key_id"])
              for b in expected])

    status, page = get_json("/backups?limit=5000")
    check("limit=5000 capped to 1000, link keeps limit=5000",
          status == 200 and len(page["backups"]) == 1000
          and next_href(page).endswith(f"limit=5000&marker={ids[999]}"))
    status, page = get_json("/backups?limit=0")
    check("limit=0 -> empty, no link", status == 200 and page == {"backups": []})
    status, page = get_json("/backups?limit=-1")
    check("limit=-1 -> 400 positive",
          status == 400 and page["badRequest"]["message"] == "limit param must be positive")
    status, page = get_json("/backups?limit=abc")
    check("limit=abc -> 400 integer",
          status == 400 and page["badRequest"]["message"] == "limit param must be an integer")

    status, page = get_json("/backups/detail?limit=3&offset=2")
    first = [b["id"] for b in page["backups"]]
    status2, page2 = get_json(same_origin_query(next_href(page)))
    second = [b["id"] for b in page2["backups"]]
    check("offset=2 then next link verbatim skips two",
          first == ids[2:5] and second == ids[7:10], f"{first} {second}")

    status, page = get_json("/backups?marker=00000000-0000-0000-0000-000000000000")
    check("unknown marker -> 404 itemNotFound",
          status == 404 and page["itemNotFound"]["message"]
          == "Backup 00000000-0000-0000-0000-000000000000 could not be found.")
    status, page = get_json(f"/backups?marker={ids[-1]}")
    check("oldest id as marker -> empty page, no link", status == 200 and page == {"backups": []})

    # Routing 404s come from webob, whose body follows the Accept header: HTML for
    # */* (what curl sends), webob's own JSON for application/json, text without Accept.
    status, ctype, _ = get(f"{ENDPOINT}/v2/{PROJECT}/backups", accept="*/*")
    check("/v2 -> 404 text/html (Accept: */*)", status == 404 and ctype.startswith("text/html"), ctype)
    status, ctype, _ = get("/backups/?limit=1", accept="*/*")
    check("trailing slash -> 404 text/html (Accept: */*)",
          status == 404 and ctype.startswith("text/html"), ctype)
    status, ctype, body = get("/backups/?limit=1", accept="application/json")
    check("trailing slash, Accept: application/json -> webob JSON, not a Cinder fault",
          status == 404 and ctype.startswith("application/json")
          and json.loads(body).get("code") == "404 Not Found", f"{ctype} {body[:80]!r}")
    status, ctype, _ = get("/backups/?limit=1")
    check("trailing slash, no Accept -> 404 text/plain",
          status == 404 and ctype.startswith("text/plain"), ctype)
    status, ctype, body = get("/backups?limit=1", token="anything")
    check("token of another project -> 400 Malformed request url",
          status == 400 and b"Malformed request url" in body)

    pages, items = walk("/backups?limit=1000&with_count=true", version="3.45")
    check("with_count 3.45: partial last page still linked (4 requests)",
          pages == 4 and len(items) == len(ids))

    for name in ("weekly", "sp\u00e9cial & name=1", "nightly-3"):
        query = urllib.parse.urlencode({"name": name, "limit": 100})
        _, items = walk(f"/backups?{query}")
        want = [b["id"] for b in expected if b["name"] == name]
        check(f"name={name!r}: {len(want)} like truth", [b["id"] for b in items] == want)
    status, page = get_json("/backups?name=sp%C3%A9cial%20%26%20name%3D1&limit=2")
    check("next link re-encodes name as sp%C3%A9cial+%26+name%3D1",
          "name=sp%C3%A9cial+%26+name%3D1&limit=2&marker=" in (next_href(page) or ""))

    # A marker that vanishes mid-walk, in the scratch project.
    scratch = [b["id"] for b in truth(SCRATCH)]
    status, page = get_json("/backups?limit=10", project=SCRATCH)
    marker = page["backups"][-1]["id"]
    subprocess.run(["bash", CTL, "delete", marker], check=True)
    status, gone = get_json(same_origin_query(next_href(page)), project=SCRATCH)
    check("marker deleted mid-walk -> 404, truth updated",
          status == 404 and marker not in [b["id"] for b in truth(SCRATCH)], f"{status}")
    subprocess.run(["bash", CTL, "restore", marker], check=True)
    status, again = get_json(same_origin_query(next_href(page)), project=SCRATCH)
    check("restored marker works again",
          status == 200 and [b["id"] for b in truth(SCRATCH)] == scratch
          and [b["id"] for b in again["backups"]] == scratch[10:20])

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
