//! [`AccountLimit`]: the request rate limit that the endpoints of one account share.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A request limit shared by every endpoint of one account: at most `limit` signed
/// requests in each one-second window; the others are throttled (`APIGW.0308`).
/// Cheap to clone: clones share the count.
///
/// ```
/// let limit = vbs_backups_testing::AccountLimit::per_second(2);
/// assert!(limit.admit() && limit.admit());
/// assert!(!limit.admit());
/// assert_eq!(limit.throttled(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct AccountLimit {
    limit: u32,
    window: Arc<Mutex<Window>>,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    admitted: u32,
    throttled: u64,
}

impl AccountLimit {
    /// At most `limit` requests a second.
    ///
    /// ```
    /// let limit = vbs_backups_testing::AccountLimit::per_second(50);
    /// ```
    pub fn per_second(limit: u32) -> Self {
        Self {
            limit,
            window: Arc::new(Mutex::new(Window {
                start: Instant::now(),
                admitted: 0,
                throttled: 0,
            })),
        }
    }

    /// Counts a request; `false` when it is over the limit (and is to be throttled).
    ///
    /// ```
    /// assert!(vbs_backups_testing::AccountLimit::per_second(1).admit());
    /// ```
    pub fn admit(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(window.start) >= Duration::from_secs(1) {
            window.start = now;
            window.admitted = 0;
        }
        if window.admitted < self.limit {
            window.admitted += 1;
            true
        } else {
            window.throttled += 1;
            false
        }
    }

    /// How many requests were throttled.
    ///
    /// ```
    /// assert_eq!(vbs_backups_testing::AccountLimit::per_second(1).throttled(), 0);
    /// ```
    pub fn throttled(&self) -> u64 {
        self.window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .throttled
    }
}
