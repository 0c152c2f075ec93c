//! The signing clock: this machine's, corrected by the offset learned from the gateway's
//! `Date` header when the two were too far apart for a signature to be accepted.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};

/// How far `X-Sdk-Date` may be from the gateway's clock before it refuses the signature.
pub(crate) const SKEW_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The largest correction the signer adopts. A gateway's clock is right to the second;
/// a machine whose clock is off by more than a day needs fixing, not a signer that
/// follows whatever `Date` a refusal carried.
pub(crate) const MAX_OFFSET: Duration = Duration::from_secs(24 * 60 * 60);

/// This machine's clock plus an offset, shared by every request of a client.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// Gateway time minus local time, in seconds; 0 until a skew was seen.
    offset_secs: AtomicI64,
}

impl Clock {
    /// The time to sign with: now, corrected.
    pub(crate) fn now(&self) -> Timestamp {
        corrected(Timestamp::now(), self.offset())
    }

    /// The correction in effect.
    pub(crate) fn offset(&self) -> SignedDuration {
        SignedDuration::from_secs(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Makes `offset` the correction.
    pub(crate) fn set_offset(&self, offset: SignedDuration) {
        self.offset_secs.store(offset.as_secs(), Ordering::Relaxed);
    }
}

fn corrected(now: Timestamp, offset: SignedDuration) -> Timestamp {
    now.checked_add(offset).unwrap_or(now)
}

/// `X-Sdk-Date`'s format: `YYYYMMDDTHHMMSSZ`, UTC.
pub(crate) fn sdk_date(time: Timestamp) -> String {
    time.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// An HTTP `Date` header's time (`Sun, 06 Nov 1994 08:49:37 GMT` and the older forms).
pub(crate) fn parse_http_date(value: &str) -> Option<Timestamp> {
    let time: SystemTime = httpdate::parse_http_date(value.trim()).ok()?;
    Timestamp::try_from(time).ok()
}

/// The skew between the gateway's `Date` and the time a request was signed with, when it
/// is beyond [`SKEW_LIMIT`]: gateway minus local.
pub(crate) fn skew(gateway: Timestamp, signed_with: Timestamp) -> Option<SignedDuration> {
    let difference = gateway.duration_since(signed_with);
    (difference.unsigned_abs() > SKEW_LIMIT).then_some(difference)
}

/// Whether `offset` is small enough to adopt: at most [`MAX_OFFSET`].
pub(crate) fn adoptable(offset: SignedDuration) -> bool {
    offset.unsigned_abs() <= MAX_OFFSET
}

/// A time for people, to the second: `2026-12-04 14:45:06 UTC`.
pub(crate) fn show(time: Timestamp) -> String {
    time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A duration for people: `+1h 02m 03s`, `-20m 00s`.
pub(crate) fn human(offset: SignedDuration) -> String {
    let sign = if offset.is_negative() { '-' } else { '+' };
    let secs = offset.unsigned_abs().as_secs();
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        format!("{sign}{hours}h {minutes:02}m {seconds:02}s")
    } else {
        format!("{sign}{minutes}m {seconds:02}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_dates_are_basic_iso_utc() {
        let time: Timestamp = "2020-06-08T02:39:00Z".parse().unwrap_or_default();
        assert_eq!(sdk_date(time), "20200608T023900Z");
    }

    #[test]
    fn http_dates_parse_and_skew_is_judged_against_fifteen_minutes() {
        let gateway = parse_http_date("Mon, 08 Jun 2020 02:39:00 GMT");
        assert_eq!(gateway.map(sdk_date).as_deref(), Some("20200608T023900Z"));
        let gateway = gateway.unwrap_or_default();
        let within = gateway - SignedDuration::from_secs(15 * 60);
        assert_eq!(skew(gateway, within), None);
        let behind = gateway - SignedDuration::from_secs(15 * 60 + 1);
        assert_eq!(skew(gateway, behind), Some(SignedDuration::from_secs(901)));
        let ahead = gateway + SignedDuration::from_secs(3600);
        assert_eq!(skew(gateway, ahead), Some(SignedDuration::from_secs(-3600)));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn offsets_up_to_a_day_are_adoptable() {
        assert!(adoptable(SignedDuration::from_hours(24)));
        assert!(adoptable(SignedDuration::from_hours(-24)));
        assert!(!adoptable(SignedDuration::from_secs(24 * 3600 + 1)));
        assert!(!adoptable(SignedDuration::from_hours(-24 * 365 * 30)));
    }

    #[test]
    fn offsets_apply_and_read_well() {
        let clock = Clock::default();
        clock.set_offset(SignedDuration::from_secs(-1200));
        assert_eq!(clock.offset().as_secs(), -1200);
        assert_eq!(human(clock.offset()), "-20m 00s");
        assert_eq!(human(SignedDuration::from_secs(3723)), "+1h 02m 03s");
    }
}
