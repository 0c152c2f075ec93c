//! Deterministic seeded backups, kept in Cinder's default list order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::backup::FakeBackup;
use crate::row::Row;
use crate::sort::{SortedOrder, Term};

/// The four volumes every generated backup belongs to.
pub(super) const VOLUME_IDS: [&str; 4] = [
    "6ba4a1a0-5f2e-4c1b-9d3e-0b7c2a1f4e58",
    "20353b7e-8c41-4f6a-a2d9-7e5b3c9d1a06",
    "7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb",
    "c1f0e2d3-4b5a-4697-8877-665544332211",
];

/// How often each volume is picked, relative to the others.
const VOLUME_WEIGHTS: [u64; 4] = [4, 3, 2, 1];

/// Every status VBS documents.
const STATUSES: [&str; 6] = [
    "available",
    "error",
    "creating",
    "restoring",
    "deleting",
    "error_restoring",
];

/// How often each status is picked, relative to the others (uneven on purpose).
const STATUS_WEIGHTS: [u64; 6] = [6, 3, 2, 2, 1, 1];

/// Number of name kinds, `None` included (see [`name_of_kind`]).
const NAME_KINDS: u64 = 9;

/// Days from 1970-01-01 to 2024-01-01, the creation time of the oldest backup.
pub(super) const FIRST_DAY: u64 = 19_723;

/// The size in GiB of each volume, in the order of [`VOLUME_IDS`]: a backup is as large as its
/// volume.
pub(super) const VOLUME_SIZES: [u64; 4] = [40, 100, 10, 1];

/// The availability zone of each volume, in the order of [`VOLUME_IDS`].
pub(super) const VOLUME_ZONES: [&str; 4] = ["nova", "nova", "az-2", "az-2"];

/// The users who create backups (Keystone-style ids).
const USER_IDS: [&str; 3] = [
    "6f3b1d5e2a9c4b7d8e0f1a2b3c4d5e6f",
    "0d4c6e8a1b3f5d7e9a2c4e6b8d0f1a3c",
    "e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6",
];

/// Why a backup in `error` failed; with quotes and a newline, to exercise escaping.
const FAIL_REASONS: [&str; 3] = [
    "Backup driver reported an error: [Errno 28] No space left on device",
    "Connection to the object store was refused\nafter 3 attempts",
    "Volume is \"in-use\" and cannot be backed up",
];

/// Mixed into the seed for the detail fields, so that they come from a generator of their own
/// and the fields that existed before them stay what they were for every seed.
const DETAIL_SALT: u64 = 0xDE7A_11ED_F1E1_D5AA;

/// How many sorted orders a data set keeps ready (see [`Dataset::order`]).
const CACHED_ORDERS: usize = 8;

/// Backups in server order plus an index from id to position, for O(1) markers, and the
/// generator that made them, to create more.
#[derive(Debug)]
pub(super) struct Dataset {
    rows: Vec<Row>,
    positions: HashMap<String, usize>,
    generator: Generator,
    /// The minute (after 2024-01-01T00:00) of the next backups created: after all others.
    next_minute: u64,
    /// The orders of the sorts asked for lately, newest last; emptied when the rows change.
    orders: Mutex<Vec<(Vec<Term>, Arc<SortedOrder>)>>,
}

impl Dataset {
    /// Generates `count` backups from `seed`; the same inputs always give the same data.
    ///
    /// Creation number `k` (0 is the oldest) is created at `2024-01-01T00:00` plus
    /// `(k + 1) / 2` minutes, so backups come in pairs sharing a timestamp. The first nine
    /// backups created cover every name kind and the first six every status.
    ///
    /// `first_minute` moves every time later by that many minutes, so that a server can
    /// hold recent backups; the backups are otherwise the same.
    pub(super) fn generate(count: usize, seed: u64, project: &str, first_minute: u64) -> Self {
        let mut generator = Generator {
            first_minute,
            rng: SplitMix64::new(seed),
            detail_seed: mix(seed ^ DETAIL_SALT),
            issued: HashSet::with_capacity(count),
            created: 0,
            project: project.to_owned(),
        };
        let mut backups: Vec<FakeBackup> = (0..count as u64)
            .map(|number| generator.backup(number.div_ceil(2)))
            .collect();
        sort_server_order(&mut backups);
        let next_minute = (count as u64)
            .checked_sub(1)
            .map_or(0, |last| last.div_ceil(2) + 1);
        let mut data = Self {
            rows: backups.into_iter().map(Row::new).collect(),
            positions: HashMap::new(),
            generator,
            next_minute,
            orders: Mutex::new(Vec::new()),
        };
        data.reindex(0);
        data
    }

    /// Creates `count` backups newer than all others, continuing the seeded sequence (so the
    /// same operations on the same seed give the same backups), with ids never issued before.
    /// Like [`generate`](Self::generate), they come in pairs sharing a timestamp. Returns them
    /// in server order; they are now the first rows.
    pub(super) fn create(&mut self, count: usize) -> Vec<FakeBackup> {
        let base = self.next_minute;
        let mut backups: Vec<FakeBackup> = (0..count as u64)
            .map(|index| self.generator.backup(base + index / 2))
            .collect();
        self.next_minute = base + (count as u64).div_ceil(2);
        sort_server_order(&mut backups);
        let older = std::mem::take(&mut self.rows);
        self.rows = backups.iter().cloned().map(Row::new).chain(older).collect();
        self.reindex(0);
        self.forget_orders();
        backups
    }

    /// Adds `each` backups to every project of `projects` (other projects than the served
    /// one), spread over the same minutes as the served project's, from the same seeded
    /// sequence (so the served project's initial backups stay what they were). Backups
    /// created later ([`create`](Self::create)) belong to the served project again.
    pub(super) fn add_other_projects(&mut self, projects: &[String], each: usize) {
        let own = std::mem::take(&mut self.generator.project);
        let span = self.next_minute.max(1);
        let mut backups: Vec<FakeBackup> = self.rows.drain(..).map(|row| row.backup).collect();
        for project in projects {
            self.generator.project.clone_from(project);
            for index in 0..each as u64 {
                let minutes = index.saturating_mul(span) / (each as u64).max(1);
                backups.push(self.generator.backup(minutes));
            }
        }
        self.generator.project = own;
        sort_server_order(&mut backups);
        self.rows = backups.into_iter().map(Row::new).collect();
        self.positions.clear();
        self.reindex(0);
        self.forget_orders();
    }

    /// The project of the backup with this id, if there is one.
    pub(super) fn project_of(&self, id: &str) -> Option<&str> {
        let position = *self.positions.get(id)?;
        self.rows
            .get(position)
            .map(|row| row.backup.project_id.as_str())
    }

    /// Removes the backup with this id; returns whether there was one.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        let Some(position) = self.positions.remove(id) else {
            return false;
        };
        self.rows.remove(position);
        self.reindex(position);
        self.forget_orders();
        true
    }

    /// Drops the cached sorted orders: they index rows that moved.
    fn forget_orders(&mut self) {
        self.orders
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The rows in the order `terms` sort them (see [`super::sort`]): computed in
    /// `O(n log n)` once, then kept until the rows change, so a walk pays for it once.
    pub(super) fn order(&self, terms: &[Term]) -> Arc<SortedOrder> {
        let lock = || self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, order)) = lock().iter().find(|(cached, _)| cached == terms) {
            return Arc::clone(order);
        }
        // Sorted without the lock: other sorts are served meanwhile. A request racing this one
        // for the same sort computes it too; either result is the same order.
        let order = Arc::new(SortedOrder::new(&self.rows, terms));
        let mut orders = lock();
        if orders.len() >= CACHED_ORDERS {
            orders.remove(0);
        }
        orders.push((terms.to_vec(), Arc::clone(&order)));
        order
    }

    /// Copies of all backups in the order `terms` sort them.
    pub(super) fn backups_sorted(&self, terms: &[Term]) -> Vec<FakeBackup> {
        self.order(terms)
            .rows(&self.rows)
            .map(|row| row.backup.clone())
            .collect()
    }

    /// Points the index at the rows from position `from` on.
    fn reindex(&mut self, from: usize) {
        for (position, row) in self.rows.iter().enumerate().skip(from) {
            self.positions.insert(row.backup.id.clone(), position);
        }
    }

    /// All rows, newest first (`created_at` desc, then `id` desc).
    pub(super) fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Copies of all backups, in server order.
    pub(super) fn backups(&self) -> Vec<FakeBackup> {
        self.rows.iter().map(|row| row.backup.clone()).collect()
    }

    /// The number of backups.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Position of the backup with this id in server order.
    pub(super) fn position(&self, id: &str) -> Option<usize> {
        self.positions.get(id).copied()
    }
}

/// Sorts like Cinder's default: `created_at` descending, then `id` descending.
fn sort_server_order(backups: &mut [FakeBackup]) {
    backups.sort_unstable_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
}

/// The seeded sequence of backups, resumable after the initial data set.
#[derive(Debug)]
struct Generator {
    rng: SplitMix64,
    /// Seeds the detail fields of each backup, from its creation number (see [`details`]).
    detail_seed: u64,
    /// Every id handed out, deleted backups' included: ids are never reused.
    issued: HashSet<u128>,
    /// How many backups were created so far: the next creation number.
    created: usize,
    /// The project the next backups belong to.
    project: String,
    /// Minutes after 2024-01-01T00:00 added to every time (see [`Dataset::generate`]).
    first_minute: u64,
}

impl Generator {
    /// The next backup in the sequence, created `minutes` after 2024-01-01T00:00.
    fn backup(&mut self, minutes: u64) -> FakeBackup {
        let minutes = minutes + self.first_minute;
        let k = self.created;
        self.created += 1;
        let rng = &mut self.rng;
        let id = loop {
            let bits = uuid_v4_bits(rng.next_u64(), rng.next_u64());
            if self.issued.insert(bits) {
                break format_uuid(bits);
            }
        };
        let number = k as u64;
        let kind = if number < NAME_KINDS {
            number
        } else {
            rng.below(NAME_KINDS)
        };
        let name = name_of_kind(kind, k + 1, rng);
        let status = if k < STATUSES.len() {
            k
        } else {
            weighted_index(rng, &STATUS_WEIGHTS)
        };
        let volume = weighted_index(rng, &VOLUME_WEIGHTS);
        let mut details_rng = SplitMix64::new(mix(self.detail_seed.wrapping_add(number)));
        details(
            FakeBackup {
                id,
                name,
                status: STATUSES[status].to_owned(),
                volume_id: VOLUME_IDS[volume].to_owned(),
                created_at: timestamp(minutes),
                size: VOLUME_SIZES[volume],
                object_count: 0,
                availability_zone: VOLUME_ZONES[volume].to_owned(),
                container: None,
                updated_at: String::new(),
                description: None,
                fail_reason: None,
                is_incremental: false,
                has_dependent_backups: false,
                snapshot_id: None,
                data_timestamp: String::new(),
                metadata: BTreeMap::new(),
                user_id: String::new(),
                encryption_key_id: None,
                project_id: self.project.clone(),
            },
            number,
            minutes,
            &mut details_rng,
        )
    }
}

/// Fills in the fields only the detail listing shows, from the backup's own generator: the
/// first few backups created cover every variant (as names and statuses do), later ones pick
/// at random.
fn details(mut backup: FakeBackup, number: u64, minutes: u64, rng: &mut SplitMix64) -> FakeBackup {
    let mut pick = |variants: u64| {
        if number < variants {
            number
        } else {
            rng.below(variants)
        }
    };
    let description_kind = pick(5);
    let metadata_kind = pick(4);
    let has_snapshot = pick(4) == 0;
    let has_key = pick(4) == 1;
    let incremental_kind = pick(3);
    let failed = matches!(backup.status.as_str(), "error" | "creating");
    backup.object_count = if failed {
        0
    } else {
        1 + rng.below(backup.size * 2)
    };
    backup.container = (backup.status != "creating").then(|| "volumebackups".to_owned());
    backup.updated_at = timestamp_at(minutes * 60 + 1 + rng.below(7200));
    backup.description = match description_kind {
        0 => None,
        1 => Some(String::new()),
        2 => Some(format!(
            "Nightly backup of volume {}",
            backup.volume_id.get(..8).unwrap_or_default()
        )),
        3 => Some("before the \"big\" upgrade\\rollback plan:\tOPS-1".to_owned()),
        _ => Some("sauvegarde avant mise à jour — ✓ 🦀".to_owned()),
    };
    backup.fail_reason = match backup.status.as_str() {
        "error" => FAIL_REASONS
            .get(usize::try_from(rng.below(3)).unwrap_or_default())
            .map(|reason| (*reason).to_owned()),
        "error_restoring" => Some("Restore failed: the target volume is in-use".to_owned()),
        _ => None,
    };
    backup.is_incremental = incremental_kind == 2;
    backup.has_dependent_backups = incremental_kind == 1;
    backup.snapshot_id = has_snapshot.then(|| random_uuid(rng));
    backup.data_timestamp = if has_snapshot {
        timestamp(minutes.saturating_sub(1 + rng.below(120)))
    } else {
        backup.created_at.clone()
    };
    let mut entry = |key: &str, value: String| {
        backup.metadata.insert(key.to_owned(), value);
    };
    match metadata_kind {
        0 => {}
        1 => entry("env", "prod".to_owned()),
        2 => {
            entry("env", "test".to_owned());
            entry("owner", "équipe-β".to_owned());
        }
        _ => entry("retention", format!("{}d", 7 * (1 + rng.below(4)))),
    }
    backup.user_id = USER_IDS
        .get(usize::try_from(rng.below(3)).unwrap_or_default())
        .map_or_else(String::new, |user| (*user).to_owned());
    backup.encryption_key_id = has_key.then(|| random_uuid(rng));
    backup
}

/// A random version 4 UUID (not checked for uniqueness: snapshot and key ids may repeat).
fn random_uuid(rng: &mut SplitMix64) -> String {
    format_uuid(uuid_v4_bits(rng.next_u64(), rng.next_u64()))
}

/// Name of kind `kind` for the backup with creation number `number` (1-based).
fn name_of_kind(kind: u64, number: usize, rng: &mut SplitMix64) -> Option<String> {
    match kind {
        0 => None,
        1 | 2 => Some("weekly".to_owned()),
        3 => Some(format!("nightly-{}", rng.below(4))),
        4 => Some(format!("spécial & name={}", rng.below(3))),
        _ => Some(format!("backup-{number:05}")),
    }
}

/// An index into `weights`, each picked with probability proportional to its weight.
fn weighted_index(rng: &mut SplitMix64, weights: &[u64]) -> usize {
    let mut pick = rng.below(weights.iter().sum::<u64>().max(1));
    for (index, weight) in weights.iter().enumerate() {
        if pick < *weight {
            return index;
        }
        pick -= weight;
    }
    0
}

/// A Cinder-style timestamp (no timezone) `minutes` after 2024-01-01T00:00.
fn timestamp(minutes: u64) -> String {
    timestamp_at(minutes * 60)
}

/// A Cinder-style timestamp (no timezone) `seconds` after 2024-01-01T00:00:00.
fn timestamp_at(seconds: u64) -> String {
    let (year, month, day) = civil_from_days(FIRST_DAY + seconds / 86_400);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000000",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// 128 bits with the UUID version 4 and RFC 4122 variant bits set.
fn uuid_v4_bits(high: u64, low: u64) -> u128 {
    let bits = (u128::from(high) << 64) | u128::from(low);
    let bits = (bits & !(0xF << 76)) | (0x4 << 76);
    (bits & !(0x3 << 62)) | (0x2 << 62)
}

/// Lowercase `8-4-4-4-12` hex form of 128 bits.
pub(super) fn format_uuid(bits: u128) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        bits >> 96,
        (bits >> 80) & 0xFFFF,
        (bits >> 64) & 0xFFFF,
        (bits >> 48) & 0xFFFF,
        bits & 0xFFFF_FFFF_FFFF
    )
}

/// The splitmix64 generator: tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// splitmix64's finalizer: a bijection on `u64`, so distinct inputs give distinct outputs.
pub(super) fn mix(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(civil_from_days(FIRST_DAY), (2024, 1, 1));
        assert_eq!(civil_from_days(FIRST_DAY + 59), (2024, 2, 29));
        assert_eq!(civil_from_days(FIRST_DAY + 366), (2025, 1, 1));
        assert_eq!(timestamp(20 * 60 + 49), "2024-01-01T20:49:00.000000");
        assert_eq!(timestamp(1440 * 31 + 61), "2024-02-01T01:01:00.000000");
        assert_eq!(timestamp_at(86_399), "2024-01-01T23:59:59.000000");
    }

    /// FNV-1a over the fields every backup had before the detail fields were added.
    fn summary_fingerprint(backups: &[FakeBackup], mut hash: u64) -> u64 {
        for backup in backups {
            let text = format!(
                "{}|{:?}|{}|{}|{}\n",
                backup.id, backup.name, backup.status, backup.volume_id, backup.created_at
            );
            for byte in text.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    #[test]
    fn detail_fields_leave_the_earlier_fields_of_every_seed_as_they_were() {
        // Fingerprints taken before the detail fields existed: initial data, then 5 created.
        let cases = [
            (25, crate::DEFAULT_SEED, 0xa511_19a3_e63c_d384),
            (1000, 7, 0x9a95_9326_be72_d3b7),
        ];
        for (count, seed, expected) in cases {
            let mut data = Dataset::generate(count, seed, "p", 0);
            let hash = summary_fingerprint(&data.backups(), 0xcbf2_9ce4_8422_2325);
            let created = data.create(5);
            assert_eq!(summary_fingerprint(&created, hash), expected, "seed {seed}");
        }
    }

    #[test]
    fn the_first_backups_cover_every_detail_variant() {
        let backups = Dataset::generate(6, 99, "p", 0).backups();
        let description_kinds: HashSet<&str> = backups
            .iter()
            .map(|b| match b.description.as_deref() {
                None => "null",
                Some("") => "empty",
                Some(text) if text.starts_with("Nightly backup of volume ") => "plain",
                Some(text) if text.contains("\"big\"") && text.contains('\t') => "escapes",
                Some(text) if !text.is_ascii() => "non-ASCII",
                Some(_) => "other",
            })
            .collect();
        let expected = ["null", "empty", "plain", "escapes", "non-ASCII"];
        assert_eq!(description_kinds, HashSet::from(expected));
        let metadata: HashSet<usize> = backups.iter().map(|b| b.metadata.len()).collect();
        assert_eq!(metadata, HashSet::from([0, 1, 2]));
        assert!(backups.iter().any(|b| b.snapshot_id.is_some()));
        assert!(backups.iter().any(|b| b.encryption_key_id.is_some()));
        assert!(backups.iter().any(|b| b.is_incremental));
        assert!(backups.iter().any(|b| b.has_dependent_backups));
        assert!(backups.iter().any(|b| b.container.is_none()));
        assert!(backups.iter().any(|b| b.fail_reason.is_some()));
        for backup in &backups {
            assert!(backup.updated_at > backup.created_at);
            if backup.snapshot_id.is_none() {
                assert_eq!(backup.data_timestamp, backup.created_at);
            } else {
                assert!(backup.data_timestamp <= backup.created_at);
            }
            assert!(!(backup.is_incremental && backup.has_dependent_backups));
            assert_eq!(
                backup.object_count == 0,
                ["error", "creating"].contains(&backup.status.as_str())
            );
        }
    }

    #[test]
    fn uuid_shape() {
        let id = format_uuid(uuid_v4_bits(u64::MAX, 0));
        assert_eq!(id, "ffffffff-ffff-4fff-8000-000000000000");
    }
}
