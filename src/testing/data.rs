//! Deterministic seeded backups, kept in Cinder's default list order.

use std::collections::{HashMap, HashSet};

use super::FakeBackup;
use super::render::push_json_string;

/// The four volumes every generated backup belongs to.
const VOLUME_IDS: [&str; 4] = [
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
const FIRST_DAY: u64 = 19_723;

/// Backups in server order plus an index from id to position, for O(1) markers, and the
/// generator that made them, to create more.
#[derive(Debug)]
pub(super) struct Dataset {
    rows: Vec<Row>,
    positions: HashMap<String, usize>,
    generator: Generator,
    /// The minute (after 2024-01-01T00:00) of the next backups created: after all others.
    next_minute: u64,
}

/// A backup and what pages repeat about it, rendered once.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) backup: FakeBackup,
    /// The name as a JSON value: `null` or a string literal, escaped like Python's `json`.
    pub(super) name_json: String,
}

impl Row {
    fn new(backup: FakeBackup) -> Self {
        let mut name_json = String::new();
        match &backup.name {
            Some(name) => push_json_string(&mut name_json, name),
            None => name_json.push_str("null"),
        }
        Self { backup, name_json }
    }
}

impl Dataset {
    /// Generates `count` backups from `seed`; the same inputs always give the same data.
    ///
    /// Creation number `k` (0 is the oldest) is created at `2024-01-01T00:00` plus
    /// `(k + 1) / 2` minutes, so backups come in pairs sharing a timestamp. The first nine
    /// backups created cover every name kind and the first six every status.
    pub(super) fn generate(count: usize, seed: u64) -> Self {
        let mut generator = Generator {
            rng: SplitMix64::new(seed),
            issued: HashSet::with_capacity(count),
            created: 0,
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
        backups
    }

    /// Removes the backup with this id; returns whether there was one.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        let Some(position) = self.positions.remove(id) else {
            return false;
        };
        self.rows.remove(position);
        self.reindex(position);
        true
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
    /// Every id handed out, deleted backups' included: ids are never reused.
    issued: HashSet<u128>,
    /// How many backups were created so far: the next creation number.
    created: usize,
}

impl Generator {
    /// The next backup in the sequence, created `minutes` after 2024-01-01T00:00.
    fn backup(&mut self, minutes: u64) -> FakeBackup {
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
        FakeBackup {
            id,
            name,
            status: STATUSES[status].to_owned(),
            volume_id: VOLUME_IDS[volume].to_owned(),
            created_at: timestamp(minutes),
        }
    }
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
    let (year, month, day) = civil_from_days(FIRST_DAY + minutes / 1440);
    let minute_of_day = minutes % 1440;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:00.000000",
        minute_of_day / 60,
        minute_of_day % 60
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
    }

    #[test]
    fn uuid_shape() {
        let id = format_uuid(uuid_v4_bits(u64::MAX, 0));
        assert_eq!(id, "ffffffff-ffff-4fff-8000-000000000000");
    }
}
