//! The times of `--created-before` / `--created-after`: an RFC 3339 timestamp, or an age
//! (`60d`, `12h`, `30m`, `2w`) counted back from now.

use std::time::SystemTime;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// What the two flags accept, for the usage error.
const FORMS: &str = "expected an RFC 3339 time such as 2026-10-01T00:00:00Z, or an age \
                     counted back from now such as 60d, 12h, 30m or 2w";

/// A point in time given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When(pub Timestamp, SystemTime);

impl When {
    /// The same instant, for the library's `created_before` / `created_after`.
    pub fn system_time(self) -> SystemTime {
        self.1
    }
}

/// `stamp`, if the platform's `SystemTime` can hold it.
fn when(stamp: Timestamp) -> Result<When, String> {
    SystemTime::try_from(stamp)
        .map(|system| When(stamp, system))
        .map_err(|err| format!("{stamp}: {err}"))
}

/// Parses a flag's value against the current time.
pub fn parse(text: &str) -> Result<When, String> {
    parse_at(text, Timestamp::now())
}

/// Parses `text`, an age being counted back from `now`.
pub fn parse_at(text: &str, now: Timestamp) -> Result<When, String> {
    let text = text.trim();
    if let Ok(stamp) = text.parse::<Timestamp>() {
        return when(stamp);
    }
    let Some(span) = age(text) else {
        return Err(FORMS.to_owned());
    };
    let then = now
        .to_zoned_datetime(TimeZone::UTC)
        .checked_sub(span)
        .map_err(|err| format!("{text}: {err}"))?;
    when(then.timestamp())
}

/// `60d`, `12h`, `30m`, `2w`, `90s`: a whole number and one unit, nothing else (jiff's
/// own span syntax would also take `1 month` or `P1D`, which people do not type here,
/// and negative spans, which would point into the future).
fn age(text: &str) -> Option<Span> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let count: i64 = digits.parse().ok()?;
    let span = match unit {
        "w" => Span::new().try_weeks(count),
        "d" => Span::new().try_days(count),
        "h" => Span::new().try_hours(count),
        "m" => Span::new().try_minutes(count),
        "s" => Span::new().try_seconds(count),
        _ => return None,
    };
    span.ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn timestamps_and_ages() {
        let now: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let at = |text| parse_at(text, now).map(|when| when.0.to_string());
        assert_eq!(
            at("2026-10-01T00:00:00Z").as_deref(),
            Ok("2026-10-01T00:00:00Z")
        );
        assert_eq!(
            at("2026-10-01T02:00:00+02:00").as_deref(),
            Ok("2026-10-01T00:00:00Z")
        );
        assert_eq!(at("60d").as_deref(), Ok("2026-10-05T12:00:00Z"));
        assert_eq!(at("2w").as_deref(), Ok("2026-11-20T12:00:00Z"));
        assert_eq!(at("12h").as_deref(), Ok("2026-12-04T00:00:00Z"));
        assert_eq!(at(" 30m ").as_deref(), Ok("2026-12-04T11:30:00Z"));
        for bad in [
            "",
            "d",
            "60",
            "-5d",
            "60x",
            "1 month",
            "P1D",
            "2026-10-01",
            "99999999999w",
        ] {
            let err = at(bad).unwrap_err();
            assert!(
                err.contains("RFC 3339") || bad.ends_with('w'),
                "{bad}: {err}"
            );
        }
    }
}
