//! The loop guard: catches a server whose pages lead back to where the walk has been,
//! in bounded memory whatever the length of the walk.

use std::collections::VecDeque;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// How many of the most recent markers the guard compares each new one with.
pub(crate) const RECENT_MARKERS: usize = 1024;

/// The markers a walk followed: the last [`RECENT_MARKERS`] of them (8 bytes each, as
/// fingerprints) catch a loop of up to that many pages at its first repeat; one
/// checkpoint, moved to the current marker after 1024, 2048, 4096, … pages (Brent's
/// cycle detection), catches a longer loop within about twice its length. About 8 KiB
/// for a walk of any length.
#[derive(Debug)]
pub(super) struct FollowedMarkers {
    recent: VecDeque<u64>,
    checkpoint: Option<u64>,
    since_checkpoint: u64,
    next_checkpoint: u64,
}

impl Default for FollowedMarkers {
    fn default() -> Self {
        Self {
            recent: VecDeque::with_capacity(RECENT_MARKERS),
            checkpoint: None,
            since_checkpoint: 0,
            next_checkpoint: RECENT_MARKERS as u64,
        }
    }
}

fn fingerprint(marker: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(marker)
}

impl FollowedMarkers {
    /// Whether `marker` was followed before (among those the guard still remembers).
    pub(super) fn contains(&self, marker: &str) -> bool {
        let fingerprint = fingerprint(marker);
        self.checkpoint == Some(fingerprint) || self.recent.contains(&fingerprint)
    }

    /// Records `marker`; false if it repeats a recent marker or the checkpoint.
    pub(super) fn insert(&mut self, marker: &str) -> bool {
        if self.contains(marker) {
            return false;
        }
        let fingerprint = fingerprint(marker);
        if self.recent.len() == RECENT_MARKERS {
            self.recent.pop_front();
        }
        self.recent.push_back(fingerprint);
        self.since_checkpoint += 1;
        if self.since_checkpoint >= self.next_checkpoint {
            self.checkpoint = Some(fingerprint);
            self.since_checkpoint = 0;
            self.next_checkpoint = self.next_checkpoint.saturating_mul(2);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followed_markers_detect_repeats() {
        let mut followed = FollowedMarkers::default();
        assert!(followed.insert("a"));
        assert!(followed.insert("b"));
        assert!(followed.contains("a"));
        assert!(!followed.contains("c"));
        assert!(!followed.insert("a"));
    }

    #[test]
    fn followed_markers_stay_bounded_and_catch_loops_of_any_length() {
        let mut followed = FollowedMarkers::default();
        for page in 0..200_000 {
            assert!(followed.insert(&format!("m{page}")), "page {page}");
        }
        assert!(followed.recent.len() <= RECENT_MARKERS);
        assert!(followed.recent.capacity() <= 2 * RECENT_MARKERS);
        // A short loop is caught at its first repeat.
        assert!(!followed.insert("m199990"));
        // A loop longer than the window: caught within about twice its length.
        for period in [RECENT_MARKERS + 1, 5_000, 70_000] {
            let mut followed = FollowedMarkers::default();
            let caught = (0..)
                .take(20 * period)
                .position(|step| !followed.insert(&format!("m{}", step % period)));
            let caught =
                caught.unwrap_or_else(|| panic!("a loop of {period} pages is never caught"));
            assert!(
                caught <= 4 * period,
                "a loop of {period} pages caught after {caught}"
            );
        }
    }
}
