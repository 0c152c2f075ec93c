//! `stats`' age histogram: backups per day, week or month of creation, in a bounded number
//! of buckets whatever the dates; backups far from the rest (a clock at year 1, a date in
//! the year 9000) are counted apart instead of stretching it over centuries.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use serde::Serialize;

/// The most buckets a histogram has: ten years of months.
pub const MAX_BUCKETS: i64 = 120;

/// A count and a total size.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Backups.
    pub backups: u64,
    /// Their sizes added up, in GiB (a backup without a size counts 0). Exact: a sum of
    /// `u64` sizes over at most `u64::MAX` backups fits.
    pub size_gib: u128,
}

impl Tally {
    /// Counts one backup of `size` GiB.
    pub fn add(&mut self, size: u64) {
        self.backups += 1;
        self.size_gib += u128::from(size);
    }

    fn merge(&mut self, other: Tally) {
        self.backups += other.backups;
        self.size_gib += other.size_gib;
    }
}

/// Backups by creation time, in buckets of one unit over the drawn range, empty buckets
/// included.
#[derive(Debug, Serialize)]
pub struct Histogram {
    /// `day` for a span up to 60 days, `week` (starting on Monday) up to a year, else
    /// `month`.
    pub unit: &'static str,
    /// At most [`MAX_BUCKETS`].
    pub buckets: Vec<Bucket>,
    /// Backups created before the drawn range, when its bound left some out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<Apart>,
    /// Backups created after the drawn range, when its bound left some out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub later: Option<Apart>,
}

/// One bucket of the histogram.
#[derive(Debug, Serialize)]
pub struct Bucket {
    /// The first day of the bucket (UTC).
    pub start: Date,
    /// Backups created in it.
    pub backups: u64,
    /// Their sizes, in GiB.
    pub size_gib: u128,
}

/// Backups left out of the drawn range: how many, and the days they span.
#[derive(Debug, Serialize)]
pub struct Apart {
    /// Backups.
    pub backups: u64,
    /// Their sizes, in GiB.
    pub size_gib: u128,
    /// The day the first of them was created (UTC).
    pub first: Date,
    /// The day the last of them was created (UTC).
    pub last: Date,
}

impl Apart {
    fn of<'a>(days: impl Iterator<Item = (&'a Date, &'a Tally)>) -> Option<Self> {
        let mut apart: Option<Apart> = None;
        for (day, tally) in days {
            let entry = apart.get_or_insert(Apart {
                backups: 0,
                size_gib: 0,
                first: *day,
                last: *day,
            });
            entry.backups += tally.backups;
            entry.size_gib += tally.size_gib;
            entry.last = *day;
        }
        apart
    }
}

/// The histogram of the per-day counts `by_day`: the range of at most [`MAX_BUCKETS`]
/// months holding the most backups is drawn, the rest counted apart.
pub fn histogram(by_day: &BTreeMap<Date, Tally>) -> Histogram {
    let (from, to) = busiest_months(by_day);
    let drawn: BTreeMap<Date, Tally> = by_day
        .iter()
        .filter(|(day, _)| (from..=to).contains(&month_index(**day)))
        .map(|(day, tally)| (*day, *tally))
        .collect();
    let mut histogram = buckets(&drawn);
    histogram.earlier = Apart::of(by_day.iter().filter(|(day, _)| month_index(**day) < from));
    histogram.later = Apart::of(by_day.iter().filter(|(day, _)| month_index(**day) > to));
    histogram
}

/// Months counted from year 0, so that consecutive months differ by one.
fn month_index(day: Date) -> i64 {
    i64::from(day.year()) * 12 + i64::from(day.month()) - 1
}

/// The first and last month (as [`month_index`]) of the range of at most [`MAX_BUCKETS`]
/// months that holds the most backups; the latest such range on a tie.
fn busiest_months(by_day: &BTreeMap<Date, Tally>) -> (i64, i64) {
    let mut months: BTreeMap<i64, u64> = BTreeMap::new();
    for (day, tally) in by_day {
        *months.entry(month_index(*day)).or_default() += tally.backups;
    }
    let months: Vec<(i64, u64)> = months.into_iter().collect();
    let last = months.last().map_or(0, |(month, _)| *month);
    let mut best = (0_u64, months.first().map_or(0, |(month, _)| *month));
    let mut end = 0;
    let mut inside = 0_u64;
    for (start, (first, _)) in months.iter().enumerate() {
        while let Some((month, backups)) = months.get(end) {
            if *month >= first + MAX_BUCKETS {
                break;
            }
            inside += backups;
            end += 1;
        }
        if inside >= best.0 {
            best = (inside, *first);
        }
        inside = inside.saturating_sub(months.get(start).map_or(0, |(_, backups)| *backups));
    }
    let from = best.1;
    (from, last.min(from + MAX_BUCKETS - 1))
}

/// Groups the per-day counts into days, weeks or months, as their span asks.
fn buckets(by_day: &BTreeMap<Date, Tally>) -> Histogram {
    let span_days = match (by_day.keys().next(), by_day.keys().next_back()) {
        (Some(first), Some(last)) => first.until(*last).map_or(0, |span| span.get_days()),
        _ => 0,
    };
    let unit = match span_days {
        ..=60 => "day",
        61..=366 => "week",
        _ => "month",
    };
    let mut grouped: BTreeMap<Date, Tally> = BTreeMap::new();
    for (day, tally) in by_day {
        grouped
            .entry(start_of(unit, *day))
            .or_default()
            .merge(*tally);
    }
    let mut buckets = Vec::new();
    let mut at = grouped.keys().next().copied();
    let last = grouped.keys().next_back().copied();
    while let Some(start) = at.filter(|start| Some(*start) <= last) {
        let tally = grouped.get(&start).copied().unwrap_or_default();
        buckets.push(Bucket {
            start,
            backups: tally.backups,
            size_gib: tally.size_gib,
        });
        at = next_of(unit, start);
    }
    Histogram {
        unit,
        buckets,
        earlier: None,
        later: None,
    }
}

/// The first day of the bucket of `unit` that holds `day`.
fn start_of(unit: &str, day: Date) -> Date {
    match unit {
        "day" => day,
        "week" => {
            let back = i64::from(day.weekday().since(Weekday::Monday));
            day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
        }
        _ => day.first_of_month(),
    }
}

/// The first day of the bucket after the one starting at `start`.
fn next_of(unit: &str, start: Date) -> Option<Date> {
    match unit {
        "day" => start.tomorrow().ok(),
        "week" => start.checked_add(jiff::Span::new().days(7)).ok(),
        _ => start.last_of_month().tomorrow().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    const ONE: Tally = Tally {
        backups: 1,
        size_gib: 2,
    };

    #[test]
    fn the_unit_follows_the_span_and_empty_buckets_stay() {
        let days = BTreeMap::from([(day("2024-01-01"), ONE), (day("2024-01-03"), ONE)]);
        let h = histogram(&days);
        assert_eq!(h.unit, "day");
        let counts: Vec<u64> = h.buckets.iter().map(|b| b.backups).collect();
        assert_eq!(counts, [1, 0, 1]);

        let days = BTreeMap::from([(day("2024-01-03"), ONE), (day("2024-04-10"), ONE)]);
        let h = histogram(&days);
        assert_eq!(h.unit, "week");
        // 2024-01-03 is a Wednesday: its week starts on Monday the 1st.
        assert_eq!(h.buckets[0].start, day("2024-01-01"));
        assert_eq!(h.buckets.iter().map(|b| b.backups).sum::<u64>(), 2);

        let days = BTreeMap::from([(day("2023-01-15"), ONE), (day("2024-03-02"), ONE)]);
        let h = histogram(&days);
        assert_eq!(h.unit, "month");
        assert_eq!(h.buckets.len(), 15);
        assert_eq!(h.buckets[0].start, day("2023-01-01"));
        assert_eq!(h.buckets[14].start, day("2024-03-01"));
        assert!(h.earlier.is_none() && h.later.is_none());
        assert!(histogram(&BTreeMap::new()).buckets.is_empty());
    }

    #[test]
    fn the_busiest_ten_years_are_drawn_and_the_rest_counted_apart() {
        let days = BTreeMap::from([
            (day("0001-01-01"), ONE),
            (day("2020-05-01"), ONE),
            (day("2024-01-01"), ONE),
            (day("2024-01-02"), ONE),
            (day("9000-01-01"), ONE),
        ]);
        let h = histogram(&days);
        assert_eq!(h.unit, "month");
        assert_eq!(h.buckets.first().map(|b| b.start), Some(day("2020-05-01")));
        assert_eq!(h.buckets.last().map(|b| b.start), Some(day("2024-01-01")));
        let earlier = h.earlier.unwrap();
        assert_eq!((earlier.backups, earlier.first), (1, day("0001-01-01")));
        let later = h.later.unwrap();
        assert_eq!(
            (later.backups, later.size_gib, later.last),
            (1, 2, day("9000-01-01"))
        );
    }

    #[test]
    fn exactly_ten_years_fit_and_one_month_more_does_not() {
        let fits = BTreeMap::from([(day("2014-01-01"), ONE), (day("2023-12-31"), ONE)]);
        let h = histogram(&fits);
        assert_eq!(h.buckets.len(), 120);
        assert!(h.earlier.is_none() && h.later.is_none());
        let over = BTreeMap::from([(day("2014-01-01"), ONE), (day("2024-01-01"), ONE)]);
        let h = histogram(&over);
        assert!(h.buckets.len() <= 120);
        assert_eq!(
            h.earlier.map_or(0, |a| a.backups) + h.later.map_or(0, |a| a.backups),
            1
        );
    }
}
