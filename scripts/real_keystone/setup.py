#!/usr/bin/env python3
"""Populates a freshly bootstrapped Keystone through its REST API (standard library only).

    setup.py KEYSTONE_URL ADMIN_PASSWORD CINDER_URL UNREACHABLE_URL OUT_ENV_FILE

What `keystone-manage bootstrap` made (user and project `admin`, roles admin / manager /
member / reader / service, region RegionOne, the identity service and its endpoints) is
completed with:

- a second region, RegionTwo;
- projects `vbs-backups` (the backups' project) and `service` (the Cinder service user's);
- a domain `Lab` (Keystone chooses its id) to authenticate with a domain id other than
  `default`;
- users `alice` (default project `vbs-backups`, role member there), `bob` (member of
  `vbs-backups`, no default project), `carol` in domain `Lab` (member of `vbs-backups`),
  `cinder` (role service on project `service`, for keystonemiddleware), and `dave`,
  a member of `vbs-backups`, `estate-two` and `estate-three` (the estate walk);
- services `block-storage`, `volumev3` and `volumev2` with endpoints:
    block-storage public   RegionOne  CINDER_URL/v3/%(project_id)s
    block-storage internal RegionOne  CINDER_URL/v3             (service root: no project)
    block-storage public   RegionTwo  UNREACHABLE_URL/v3/%(project_id)s
    volumev3      public   RegionOne  CINDER_URL/v3/$(project_id)s
    volumev3      admin    RegionOne  CINDER_URL/v3/$(project_id)s
    volumev2      public   RegionOne  CINDER_URL/v2/%(project_id)s  (disabled)

Writes `export REAL_KEYSTONE_…=…` lines with the ids Keystone chose to OUT_ENV_FILE.
"""

import json
import shlex
import sys
import urllib.error
import urllib.request

USER_PASSWORD = "alice-Pa55word"
BOB_PASSWORD = "bob-Pa55word"
CAROL_PASSWORD = "carol-Pa55word"
DAVE_PASSWORD = "dave-Pa55word"
CINDER_PASSWORD = "cinder-service-Pa55word"


class Keystone:
    def __init__(self, url, admin_password):
        self.url = url.rstrip("/")
        self.token = None
        self.token = self.issue(
            {"password": {"user": {"name": "admin", "domain": {"id": "default"},
                                   "password": admin_password}}},
            {"project": {"name": "admin", "domain": {"id": "default"}}},
        )

    def call(self, method, path, body=None, anonymous=False, expect=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/v3{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token and not anonymous:
            request.add_header("X-Auth-Token", self.token)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            status, headers, payload = e.code, e.headers, e.read()
        if status not in expect:
            raise SystemExit(f"{method} {path} -> {status}: {payload[:500]!r}")
        return headers, json.loads(payload) if payload else None

    def issue(self, methods, scope=None):
        auth = {"identity": {"methods": list(methods), **methods}}
        if scope:
            auth["scope"] = scope
        headers, _ = self.call("POST", "/auth/tokens", {"auth": auth}, anonymous=True)
        return headers["X-Subject-Token"]

    def create(self, collection, key, body):
        _, created = self.call("POST", f"/{collection}", {key: body})
        return created[key]

    def find(self, collection, key, name):
        _, listed = self.call("GET", f"/{collection}?name={name}")
        found = listed[collection]
        if len(found) != 1:
            raise SystemExit(f"expected one {key} named {name}, got {found}")
        return found[0]

    def grant(self, role_id, user_id, project_id):
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")


def main(keystone_url, admin_password, cinder_url, unreachable_url, out_env):
    ks = Keystone(keystone_url, admin_password)
    roles = {role["name"]: role["id"] for role in ks.call("GET", "/roles")[1]["roles"]}
    for name in ("member", "reader", "service"):
        if name not in roles:
            roles[name] = ks.create("roles", "role", {"name": name})["id"]

    ks.create("regions", "region", {"id": "RegionTwo", "description": "second region"})
    project = ks.create("projects", "project", {
        "name": "vbs-backups", "domain_id": "default", "description": "seeded backups"})
    service_project = ks.create("projects", "project", {"name": "service", "domain_id": "default"})
    lab = ks.create("domains", "domain", {"name": "Lab", "description": "a domain of its own"})

    alice = ks.create("users", "user", {
        "name": "alice", "domain_id": "default", "password": USER_PASSWORD,
        "default_project_id": project["id"]})
    bob = ks.create("users", "user", {"name": "bob", "domain_id": "default", "password": BOB_PASSWORD})
    carol = ks.create("users", "user", {"name": "carol", "domain_id": lab["id"], "password": CAROL_PASSWORD})
    cinder = ks.create("users", "user", {
        "name": "cinder", "domain_id": "default", "password": CINDER_PASSWORD})
    for user in (alice, bob, carol):
        ks.grant(roles["member"], user["id"], project["id"])
    ks.grant(roles["service"], cinder["id"], service_project["id"])
    # dave: a member of three projects, for the estate walk over every project he reaches.
    dave = ks.create("users", "user", {"name": "dave", "domain_id": "default", "password": DAVE_PASSWORD})
    estate_projects = [project] + [
        ks.create("projects", "project", {"name": name, "domain_id": "default"})
        for name in ("estate-two", "estate-three")
    ]
    for member_of in estate_projects:
        ks.grant(roles["member"], dave["id"], member_of["id"])
    ks.grant(roles["admin"], cinder["id"], service_project["id"])

    def service(service_type, name):
        return ks.create("services", "service", {"type": service_type, "name": name})["id"]

    def endpoint(service_id, interface, region, url, enabled=True):
        return ks.create("endpoints", "endpoint", {
            "service_id": service_id, "interface": interface, "region_id": region,
            "url": url, "enabled": enabled})["id"]

    block_storage = service("block-storage", "cinder")
    endpoint(block_storage, "public", "RegionOne", f"{cinder_url}/v3/%(project_id)s")
    endpoint(block_storage, "internal", "RegionOne", f"{cinder_url}/v3")
    endpoint(block_storage, "public", "RegionTwo", f"{unreachable_url}/v3/%(project_id)s")
    volumev3 = service("volumev3", "cinderv3")
    endpoint(volumev3, "public", "RegionOne", f"{cinder_url}/v3/$(project_id)s")
    endpoint(volumev3, "admin", "RegionOne", f"{cinder_url}/v3/$(project_id)s")
    volumev2 = service("volumev2", "cinderv2")
    disabled = endpoint(volumev2, "public", "RegionOne", f"{cinder_url}/v2/%(project_id)s",
                        enabled=False)

    admin_user = ks.find("users", "user", "admin")
    admin_project = ks.find("projects", "project", "admin")
    values = {
        "PROJECT": "vbs-backups",
        "PROJECT_ID": project["id"],
        "USER": "alice",
        "USER_ID": alice["id"],
        "PASSWORD": USER_PASSWORD,
        "NO_DEFAULT_USER": "bob",
        "NO_DEFAULT_USER_ID": bob["id"],
        "NO_DEFAULT_PASSWORD": BOB_PASSWORD,
        "LAB_DOMAIN_ID": lab["id"],
        "LAB_USER": "carol",
        "LAB_USER_ID": carol["id"],
        "LAB_PASSWORD": CAROL_PASSWORD,
        "SERVICE_USER": "cinder",
        "SERVICE_PASSWORD": CINDER_PASSWORD,
        "ADMIN_USER_ID": admin_user["id"],
        "ADMIN_PROJECT_ID": admin_project["id"],
        "DISABLED_ENDPOINT_ID": disabled,
        "ESTATE_USER": "dave",
        "ESTATE_PASSWORD": DAVE_PASSWORD,
        "ESTATE_PROJECT_IDS": ",".join(p["id"] for p in estate_projects),
    }
    with open(out_env, "w", encoding="utf-8") as out:
        for key, value in values.items():
            out.write(f"export REAL_KEYSTONE_{key}={shlex.quote(value)}\n")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
