#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

const DAY: u64 = 86_400;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// `seconds` before [`now`], as Cinder writes it (UTC, no zone).
fn ago(seconds: u64) -> String {
    let time = Timestamp::try_from(now() - Duration::from_secs(seconds)).unwrap();
    time.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn vbs(id: &str, volume: &str, status: &str, age: u64) -> BackupDetail {
    serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "volume_id": volume, "size": 10, "created_at": ago(age)
    }))
    .unwrap()
}

fn cbr(id: &str, resource: &str, kind: &str, status: &str, age: u64) -> CbrBackup {
    serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "resource_id": resource, "resource_type": kind,
        "resource_size": "40", "created_at": ago(age)
    }))
    .unwrap()
}

fn volume(id: &str) -> Volume {
    Volume::new(id, "in-use", Some(10))
}

const VBS: ScopeListing = ScopeListing::Backups(BackupService::Vbs);
const CBR: ScopeListing = ScopeListing::Backups(BackupService::Cbr);

fn scope() -> Scope {
    Scope::new("r1", "p1")
}

/// An audit of one scope: `volumes` listed, then `backups` by VBS, every listing complete.
fn audit(max_age_days: u64, volumes: &[&str], backups: &[BackupDetail]) -> CoverageReport {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(max_age_days * DAY), now());
    for id in volumes {
        coverage.add_volume(&scope, &volume(id));
    }
    coverage.complete(&scope, ScopeListing::Volumes);
    for backup in backups {
        coverage.add_backup(&scope, backup);
    }
    coverage.complete(&scope, VBS);
    coverage.finish()
}

fn verdict_of(report: &CoverageReport, id: &str) -> Verdict {
    report
        .volumes
        .iter()
        .find(|volume| volume.id == id)
        .map(|volume| volume.verdict)
        .unwrap_or_else(|| panic!("no volume {id} in {report:?}"))
}

#[test]
fn each_verdict_of_a_complete_audit() {
    let report = audit(
        7,
        &["fresh", "old", "broken", "bare", "busy"],
        &[
            vbs("b1", "fresh", "available", DAY),
            vbs("b2", "fresh", "error", 0),
            vbs("b3", "old", "available", 30 * DAY),
            vbs("b4", "old", "error", DAY),
            vbs("b5", "broken", "error", DAY),
            vbs("b6", "broken", "creating", 0),
            vbs("b7", "busy", "creating", 0),
            vbs("b8", "busy", "deleting", 0),
            vbs("b9", "busy", "error_restoring", 0),
        ],
    );
    assert_eq!(verdict_of(&report, "fresh"), Verdict::Protected);
    assert_eq!(verdict_of(&report, "old"), Verdict::Stale);
    assert_eq!(verdict_of(&report, "broken"), Verdict::Failing);
    assert_eq!(verdict_of(&report, "bare"), Verdict::Unprotected);
    assert_eq!(verdict_of(&report, "busy"), Verdict::Unprotected);
    let order: Vec<Verdict> = report.volumes.iter().map(|v| v.verdict).collect();
    assert_eq!(
        order,
        [
            Verdict::Failing,
            Verdict::Unprotected,
            Verdict::Unprotected,
            Verdict::Stale,
            Verdict::Protected
        ]
    );
    let s = &report.summary;
    assert_eq!(
        (
            s.volumes,
            s.protected,
            s.stale,
            s.failing,
            s.unprotected,
            s.unknown
        ),
        (5, 1, 1, 1, 2, 0)
    );
    assert!(report.is_complete());
    assert!(!report.all_protected());
}

#[test]
fn a_backup_exactly_at_the_age_bound_protects_one_a_second_older_does_not() {
    let at_bound = audit(1, &["v"], &[vbs("b", "v", "available", DAY)]);
    assert_eq!(verdict_of(&at_bound, "v"), Verdict::Protected);
    let past = audit(1, &["v"], &[vbs("b", "v", "available", DAY + 1)]);
    assert_eq!(verdict_of(&past, "v"), Verdict::Stale);
}

#[test]
fn restoring_protects_and_the_newest_protecting_backup_is_reported() {
    let report = audit(
        7,
        &["v"],
        &[
            vbs("older", "v", "available", 3 * DAY),
            vbs("newer", "v", "restoring", DAY),
            vbs("newest", "v", "error", 0),
        ],
    );
    let volume = &report.volumes[0];
    assert_eq!(volume.verdict, Verdict::Protected);
    let newest = volume.newest_available_backup.as_ref().unwrap();
    assert_eq!(newest.id, "newer");
    assert_eq!(newest.service, BackupService::Vbs);
    assert_eq!(
        volume.backups,
        BTreeMap::from([
            ("available".to_owned(), 1),
            ("error".to_owned(), 1),
            ("restoring".to_owned(), 1)
        ])
    );
}

#[test]
fn a_volume_with_only_failed_backups_is_failing_and_has_no_newest() {
    let report = audit(
        7,
        &["v"],
        &[vbs("a", "v", "error", 0), vbs("b", "v", "error", DAY)],
    );
    assert_eq!(report.volumes[0].verdict, Verdict::Failing);
    assert_eq!(report.volumes[0].newest_available_backup, None);
    assert_eq!(report.volumes[0].backups["error"], 2);
}

#[test]
fn backups_of_a_deleted_volume_are_orphans_with_their_size() {
    let report = audit(
        7,
        &["kept"],
        &[
            vbs("k", "kept", "available", 0),
            vbs("o1", "gone", "available", 0),
            vbs("o2", "gone", "error", DAY),
        ],
    );
    let orphans: Vec<&str> = report
        .orphaned_backups
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(orphans, ["o1", "o2"]);
    assert_eq!(report.orphaned_backups[0].volume_id, "gone");
    assert_eq!(report.orphaned_backups[0].region, "r1");
    assert_eq!(report.summary.orphaned_backups, 2);
    assert_eq!(report.summary.orphaned_gib, 20);
    assert_eq!(report.volumes.len(), 1, "a deleted volume gets no verdict");
    assert!(
        report.all_protected(),
        "orphans are reported, not failed on"
    );
}

#[test]
fn backups_fed_before_their_volumes_are_joined_in_any_order() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_backup(&scope, &vbs("b1", "v", "available", 0));
    coverage.add_backup(&scope, &vbs("b2", "gone", "available", 0));
    coverage.complete(&scope, VBS);
    coverage.add_volume(&scope, &volume("v"));
    coverage.complete(&scope, ScopeListing::Volumes);
    let report = coverage.finish();
    assert_eq!(verdict_of(&report, "v"), Verdict::Protected);
    let orphans: Vec<&str> = report
        .orphaned_backups
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(orphans, ["b2"]);
}

#[test]
fn a_failed_backup_listing_makes_its_scope_unknown_unless_another_service_proves_it() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    for id in ["by-cbr", "by-vbs-only", "bare"] {
        coverage.add_volume(&scope, &volume(id));
    }
    coverage.complete(&scope, ScopeListing::Volumes);
    coverage.add_cbr_backup(
        &scope,
        &cbr("c1", "by-cbr", "OS::Cinder::Volume", "available", 0),
    );
    coverage.complete(&scope, CBR);
    // A recent backup seen before the listing failed proves nothing: the listing did not
    // complete.
    coverage.add_backup(&scope, &vbs("v1", "by-vbs-only", "available", 0));
    coverage.fail(&scope, VBS, "HTTP 503 Service Unavailable");
    let report = coverage.finish();
    assert_eq!(verdict_of(&report, "by-cbr"), Verdict::Protected);
    assert_eq!(verdict_of(&report, "by-vbs-only"), Verdict::Unknown);
    assert_eq!(verdict_of(&report, "bare"), Verdict::Unknown);
    assert_eq!(report.summary.unknown, 2);
    assert!(!report.is_complete());
    let failed: Vec<&ScopeOutcome> = report.scopes.iter().filter(|s| !s.complete).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].service, VBS);
    assert_eq!(
        failed[0].error.as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
}

#[test]
fn a_listing_never_said_complete_counts_as_failed() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_volume(&scope, &volume("v"));
    coverage.complete(&scope, ScopeListing::Volumes);
    coverage.add_backup(&scope, &vbs("b", "v", "error", 0));
    let report = coverage.finish();
    assert_eq!(report.volumes[0].verdict, Verdict::Unknown);
    assert_eq!(
        report.scopes[1].error.as_deref(),
        Some("the listing did not finish")
    );
}

#[test]
fn a_failed_volume_listing_reports_no_orphans_and_judges_the_volumes_it_gave() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_volume(&scope, &volume("v"));
    coverage.fail(&scope, ScopeListing::Volumes, "cut");
    coverage.add_backup(&scope, &vbs("b1", "v", "available", 0));
    coverage.add_backup(&scope, &vbs("b2", "unlisted", "available", 0));
    coverage.complete(&scope, VBS);
    let report = coverage.finish();
    assert_eq!(report.volumes.len(), 1);
    assert_eq!(report.volumes[0].verdict, Verdict::Protected);
    assert!(report.orphaned_backups.is_empty());
    assert!(!report.is_complete());
    // Every backup listed is still counted.
    let counted: u64 = report.backup_counts.iter().map(|c| c.count).sum();
    assert_eq!(counted, 2);
}

#[test]
fn cbr_backups_of_other_resources_neither_protect_nor_orphan() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_volume(&scope, &volume("v"));
    coverage.complete(&scope, ScopeListing::Volumes);
    coverage.add_cbr_backup(&scope, &cbr("s", "v", "OS::Nova::Server", "available", 0));
    coverage.add_cbr_backup(
        &scope,
        &cbr("s2", "srv", "OS::Nova::Server", "available", 0),
    );
    coverage.add_cbr_backup(
        &scope,
        &cbr("d", "gone", "OS::Cinder::Volume", "available", 0),
    );
    coverage.complete(&scope, CBR);
    let report = coverage.finish();
    assert_eq!(report.volumes[0].verdict, Verdict::Unprotected);
    assert_eq!(report.orphaned_backups.len(), 1);
    assert_eq!(report.orphaned_backups[0].id, "d");
    assert_eq!(report.orphaned_backups[0].size, Some(40));
    assert_eq!(report.orphaned_backups[0].service, BackupService::Cbr);
    assert_eq!(report.backup_counts.len(), 1);
    assert_eq!(report.backup_counts[0].count, 3);
}

#[test]
fn a_backup_protects_only_the_volume_of_its_own_scope() {
    let a = Scope::new("r1", "p1");
    let b = Scope::new("r2", "p1");
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_volume(&a, &volume("v"));
    coverage.add_volume(&b, &volume("v"));
    coverage.complete(&a, ScopeListing::Volumes);
    coverage.complete(&b, ScopeListing::Volumes);
    coverage.add_backup(&a, &vbs("x", "v", "available", 0));
    coverage.complete(&a, VBS);
    coverage.complete(&b, VBS);
    let report = coverage.finish();
    let verdicts: Vec<(&str, Verdict)> = report
        .volumes
        .iter()
        .map(|v| (v.region.as_str(), v.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [("r2", Verdict::Unprotected), ("r1", Verdict::Protected)]
    );
    assert_eq!(report.scopes.len(), 4);
}

#[test]
fn memory_is_one_entry_per_volume_whatever_the_number_of_backups() {
    let scope = scope();
    let mut coverage = Coverage::new(Duration::from_secs(DAY), now());
    coverage.add_volume(&scope, &volume("v"));
    coverage.complete(&scope, ScopeListing::Volumes);
    for number in 0..10_000 {
        let status = if number % 2 == 0 {
            "available"
        } else {
            "error"
        };
        coverage.add_backup(&scope, &vbs(&format!("b{number}"), "v", status, number));
    }
    assert_eq!(coverage.volumes.len(), 1);
    assert!(
        coverage
            .volumes
            .values()
            .all(|e| e.maybe_orphans.is_empty())
    );
    assert!(coverage.orphans.is_empty());
    assert_eq!(coverage.backup_counts.len(), 2);
}

#[test]
fn the_report_serializes_in_the_command_s_json_shape() {
    let report = audit(
        1,
        &["v"],
        &[vbs("b", "v", "available", 0), vbs("o", "gone", "error", 0)],
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["max_age_seconds"], DAY);
    assert_eq!(json["audited_at"], "2023-11-14T22:13:20Z");
    let volume = &json["volumes"][0];
    assert_eq!(volume["verdict"], "protected");
    assert_eq!(volume["region"], "r1");
    assert_eq!(volume["newest_available_backup"]["service"], "vbs");
    assert_eq!(volume["backups"]["available"], 1);
    assert_eq!(json["orphaned_backups"][0]["service"], "vbs");
    assert_eq!(json["orphaned_backups"][0]["volume_id"], "gone");
    assert_eq!(json["summary"]["orphaned_gib"], 10);
    assert_eq!(json["scopes"][0]["service"], "volumes");
    assert_eq!(json["scopes"][1]["service"], "vbs");
    assert_eq!(json["scopes"][1]["error"], serde_json::Value::Null);
    assert!(json.get("backup_counts").is_none());
}
