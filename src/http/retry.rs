//! When and how long to wait before sending a failed GET again.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How failed requests are retried: exponential backoff with full jitter, honouring
/// the server's `Retry-After`.
///
/// A `Retry-After` is never cut short: a retry waits as long as the server asked, even
/// beyond [`max_delay`](Self::max_delay), up to [`max_retry_after`](Self::max_retry_after)
/// (default 120 s). If the server asks for longer than that, the request is not retried
/// at all: the error comes at once, with [`Error::retry_after`](crate::Error::retry_after)
/// saying how long the server wants to be left alone.
///
/// Listing requests are idempotent GETs, so connection errors, timeouts, a body cut
/// short, and the statuses 429, 500, 502, 503 and 504 are retried with the same
/// marker; nothing is skipped or repeated. Other 4xx statuses are never retried.
///
/// ```
/// use std::time::Duration;
/// use vbs_backups::{Client, RetryPolicy};
///
/// let patient = RetryPolicy::default()
///     .max_attempts(8)
///     .base_delay(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(30));
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:8776/v3/p")
///     .retry_policy(patient)
///     .build()?;
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

/// The longest `Retry-After` waited for by default.
const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

impl Default for RetryPolicy {
    /// Five attempts in all, backoff from 250 ms doubling up to 20 s, a server's
    /// `Retry-After` waited for up to 120 s.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is reported at once.
    ///
    /// ```
    /// let policy = vbs_backups::RetryPolicy::disabled();
    /// assert_eq!(policy.attempts(), 1);
    /// ```
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1; default 5).
    ///
    /// ```
    /// let policy = vbs_backups::RetryPolicy::default().max_attempts(0);
    /// assert_eq!(policy.attempts(), 1);
    /// ```
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry; it doubles for each later one (default 250 ms).
    ///
    /// ```
    /// let policy = vbs_backups::RetryPolicy::default().base_delay(std::time::Duration::from_millis(100));
    /// ```
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest backoff before a retry the client chooses itself (default 20 s). A
    /// server's `Retry-After` is bounded by [`max_retry_after`](Self::max_retry_after)
    /// instead.
    ///
    /// ```
    /// let policy = vbs_backups::RetryPolicy::default().max_delay(std::time::Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` waited for (default 120 s). A server asking for more
    /// is not retried before it said, nor made to wait for: the request fails at once
    /// and [`Error::retry_after`](crate::Error::retry_after) carries the server's delay,
    /// for the caller to resume later (with the error's [`cursor`](crate::Error::cursor)).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let policy = vbs_backups::RetryPolicy::default().max_retry_after(Duration::from_secs(600));
    /// assert_eq!(policy.retry_after_cap(), Duration::from_secs(600));
    /// ```
    #[must_use]
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// The longest `Retry-After` waited for; see [`max_retry_after`](Self::max_retry_after).
    ///
    /// ```
    /// let policy = vbs_backups::RetryPolicy::default();
    /// assert_eq!(policy.retry_after_cap(), std::time::Duration::from_secs(120));
    /// ```
    pub fn retry_after_cap(&self) -> Duration {
        self.max_retry_after
    }

    /// Attempts in all, the first included.
    ///
    /// ```
    /// assert_eq!(vbs_backups::RetryPolicy::default().attempts(), 5);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before retry number `retry` (1 for the first), or `None` for no retry:
    /// the server's `Retry-After` in full if it gave one no longer than the
    /// `Retry-After` cap (`None` if longer), else a random share of the exponential
    /// backoff, never more than the max delay.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if let Some(asked) = retry_after {
            return (asked <= self.max_retry_after).then_some(asked);
        }
        let doublings = retry.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        Some(ceiling.mul_f64(jitter()).min(self.max_delay))
    }
}

/// A random fraction in `[0, 1)`. Jitter only needs to spread clients apart, so the
/// standard library's randomly keyed hasher is source enough.
fn jitter() -> f64 {
    let random = RandomState::new().hash_one(SystemTime::now());
    (random >> 11) as f64 / (1_u64 << 53) as f64
}

/// The server's `Retry-After`, in seconds or as an HTTP date; a date in the past means now.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_and_stays_under_the_ceiling() {
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1));
        let delay = |retry| policy.delay(retry, None).unwrap();
        for _ in 0..200 {
            assert!(delay(1) < Duration::from_millis(100));
            assert!(delay(3) < Duration::from_millis(400));
            assert!(delay(40) <= Duration::from_secs(1));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| delay(4)).collect();
        assert!(spread.len() > 10, "jitter spreads the delays");
    }

    #[test]
    fn retry_after_wins_in_full_up_to_its_cap_and_beyond_it_ends_the_retries() {
        let policy = RetryPolicy::default().max_delay(Duration::from_secs(5));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        // Longer than max_delay, within the Retry-After cap: never retried earlier.
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(120))),
            Some(Duration::from_secs(120))
        );
        // Beyond the cap: no retry at all (it used to be shortened to max_delay).
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3600))), None);
        let patient = policy.max_retry_after(Duration::from_secs(3600));
        assert_eq!(
            patient.delay(1, Some(Duration::from_secs(3600))),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_http_date() {
        let header = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after(&headers)
        };
        assert_eq!(header("7"), Some(Duration::from_secs(7)));
        assert_eq!(header(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            header("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let waited = header(&soon).unwrap();
        assert!(waited > Duration::from_secs(100) && waited <= Duration::from_secs(120));
        assert_eq!(header("soon"), None);
        assert_eq!(header("-1"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
