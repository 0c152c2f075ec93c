//! [`RequestBudget`]: one allowance of requests shared by every client that holds it: a
//! maximum rate, and a slow-down for every holder when any request is throttled.
//!
//! The rate limit itself is `governor`'s GCRA; this file only decides which rate is in
//! force (the maximum, or less after throttling) and when requests may not go at all
//! (a throttled server's `Retry-After`).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::Clock as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::error::Error;

/// Requests allowed at once above the rate: in any one-second window at most
/// `rate + BURST` requests start. Governor's own default burst equals the rate, which
/// would allow twice the rate in a window; it is set explicitly.
const BURST: u32 = 5;

/// How long answers must be good before the rate goes up one step.
const RECOVERY_STEP: Duration = Duration::from_secs(1);

/// How long a throttling answer pauses every holder when it carries no `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Throttling answers that arrive within this time of a halving are the same episode
/// (requests that were already in flight): they do not halve the rate again.
const EPISODE: Duration = Duration::from_secs(1);

/// The longest a throttling answer pauses every holder, whatever its `Retry-After`
/// says: the default retry policy does not wait longer either (the throttled request
/// fails instead), and one server asking for a day must not stall the whole estate.
const MAX_PAUSE: Duration = Duration::from_secs(120);

/// A shared allowance of requests: every request of every client built with it (page
/// requests, Keystone and IAM token and project requests) draws from it.
///
/// With a maximum rate ([`with_max_rate`](Self::with_max_rate)), requests start at most
/// that many times a second (in any one-second window, at most the rate plus a burst of
/// 5). With or without one, the budget adapts: a throttling answer (HTTP 429, or Huawei's
/// `APIGW.0308`) to any holder pauses every holder for the answer's `Retry-After` (at most
/// two minutes, as long as the default retry policy waits) and at least halves the shared
/// rate, once per second that throttling goes on; once answers are good again the rate
/// climbs back step by step, each second, to the maximum (or to no limit at all).
///
/// Cheap to clone: clones are the same budget.
///
/// ```
/// use vbs_backups::{Client, RequestBudget};
///
/// let budget = RequestBudget::with_max_rate(20);
/// let vbs = Client::builder().endpoint("http://127.0.0.1:8776/v2/p1").budget(budget.clone()).build()?;
/// let other = Client::builder().endpoint("http://127.0.0.1:8776/v2/p2").budget(budget).build()?;
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Clone)]
pub struct RequestBudget {
    state: Arc<Mutex<State>>,
}

struct State {
    /// The configured maximum, if any.
    max_rate: Option<NonZeroU32>,
    /// The rate in force; `None` when nothing limits it.
    rate: Option<NonZeroU32>,
    limiter: Option<DefaultDirectRateLimiter>,
    /// No request starts before this instant (a throttled server's `Retry-After`).
    paused_until: Option<Instant>,
    /// The last slow-down or recovery step.
    last_change: Instant,
    last_halving: Option<Instant>,
    /// The rate before the first slow-down of an unlimited budget: reaching it again
    /// lifts the limit.
    unlimited_ceiling: Option<u32>,
    /// Requests started in the current one-second window and the one before: what an
    /// unlimited budget halves when throttled.
    window_start: Instant,
    in_window: u32,
    in_previous_window: u32,
    throttled: u64,
}

impl RequestBudget {
    /// A budget with no maximum rate: it only slows down after throttling, and recovers.
    ///
    /// ```
    /// let budget = vbs_backups::RequestBudget::adaptive();
    /// assert_eq!(budget.max_rate(), None);
    /// ```
    pub fn adaptive() -> Self {
        Self::new(None)
    }

    /// A budget of at most `requests_per_second` requests a second across every holder
    /// (0 is taken as 1), which also adapts to throttling.
    ///
    /// ```
    /// let budget = vbs_backups::RequestBudget::with_max_rate(10);
    /// assert_eq!(budget.max_rate(), Some(10));
    /// assert_eq!(budget.current_rate(), Some(10));
    /// ```
    pub fn with_max_rate(requests_per_second: u32) -> Self {
        Self::new(Some(
            NonZeroU32::new(requests_per_second).unwrap_or(NonZeroU32::MIN),
        ))
    }

    fn new(max_rate: Option<NonZeroU32>) -> Self {
        let now = Instant::now();
        Self {
            state: Arc::new(Mutex::new(State {
                max_rate,
                rate: max_rate,
                limiter: max_rate.map(|rate| limiter(rate, false)),
                paused_until: None,
                last_change: now,
                last_halving: None,
                unlimited_ceiling: None,
                window_start: now,
                in_window: 0,
                in_previous_window: 0,
                throttled: 0,
            })),
        }
    }

    /// The maximum rate this budget was made with, if any.
    ///
    /// ```
    /// assert_eq!(vbs_backups::RequestBudget::with_max_rate(5).max_rate(), Some(5));
    /// ```
    pub fn max_rate(&self) -> Option<u32> {
        self.lock().max_rate.map(NonZeroU32::get)
    }

    /// The rate in force now, in requests per second: the maximum, or less after
    /// throttling; `None` when nothing limits it.
    ///
    /// ```
    /// assert_eq!(vbs_backups::RequestBudget::adaptive().current_rate(), None);
    /// ```
    pub fn current_rate(&self) -> Option<u32> {
        let mut state = self.lock();
        state.recover(Instant::now());
        state.rate.map(NonZeroU32::get)
    }

    /// How many throttling answers the holders of this budget have received.
    ///
    /// ```
    /// assert_eq!(vbs_backups::RequestBudget::adaptive().throttled_answers(), 0);
    /// ```
    pub fn throttled_answers(&self) -> u64 {
        self.lock().throttled
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent at every step, so a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a request may start, and counts it.
    pub(crate) async fn admit(&self) {
        loop {
            let wait = self.lock().try_admit(Instant::now());
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Takes in how an attempt ended: a throttling answer slows every holder down.
    pub(crate) fn observe(&self, err: &Error) {
        if !is_throttling(err) {
            return;
        }
        let pause = err.retry_after().unwrap_or(DEFAULT_PAUSE);
        self.lock().slow_down(Instant::now(), pause);
    }
}

impl State {
    /// `None` when a request may start now (it is counted), else how long to wait.
    fn try_admit(&mut self, now: Instant) -> Option<Duration> {
        if let Some(until) = self.paused_until {
            if until > now {
                return Some(until - now);
            }
            self.paused_until = None;
        }
        self.recover(now);
        if let Some(limiter) = &self.limiter {
            if let Err(not_until) = limiter.check() {
                return Some(not_until.wait_time_from(limiter.clock().now()));
            }
        }
        self.count(now);
        None
    }

    fn count(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= Duration::from_secs(2) {
            self.in_previous_window = 0;
            self.in_window = 0;
            self.window_start = now;
        } else if elapsed >= Duration::from_secs(1) {
            self.in_previous_window = self.in_window;
            self.in_window = 0;
            self.window_start += Duration::from_secs(1);
        }
        self.in_window = self.in_window.saturating_add(1);
    }

    fn slow_down(&mut self, now: Instant, pause: Duration) {
        self.throttled += 1;
        // `Retry-After` is the server's number: bounded, and never an overflow.
        let until = now.checked_add(pause.min(MAX_PAUSE)).unwrap_or(now);
        self.paused_until = Some(self.paused_until.map_or(until, |old| old.max(until)));
        // Recovery waits for good answers, so it restarts from every throttling one.
        self.last_change = now;
        // An episode is measured from its halving, not from its latest answer: throttling
        // that goes on keeps halving, once an episode.
        let same_episode = self
            .last_halving
            .is_some_and(|last| now.saturating_duration_since(last) < EPISODE);
        if same_episode {
            return;
        }
        self.last_halving = Some(now);
        let from = match self.rate {
            Some(rate) => rate.get(),
            None => {
                let observed = self.in_window.max(self.in_previous_window).max(1);
                self.unlimited_ceiling = Some(observed);
                observed
            }
        };
        let halved = NonZeroU32::new(from / 2).unwrap_or(NonZeroU32::MIN);
        self.set_rate(Some(halved));
    }

    /// One step back up per second of good answers: a quarter of the rate (at least one
    /// request a second), up to the maximum or, without one, to no limit.
    fn recover(&mut self, now: Instant) {
        let Some(rate) = self.rate else { return };
        if self.max_rate == Some(rate) {
            return;
        }
        let elapsed = now.saturating_duration_since(self.last_change);
        let steps = elapsed.as_millis() / RECOVERY_STEP.as_millis();
        if steps == 0 {
            return;
        }
        let mut next = rate.get();
        for _ in 0..steps.min(64) {
            next = next.saturating_add((next / 4).max(1));
        }
        self.last_change = now;
        let next = match (self.max_rate, self.unlimited_ceiling) {
            (Some(max), _) => Some(max.min(NonZeroU32::new(next).unwrap_or(NonZeroU32::MIN))),
            (None, Some(ceiling)) if next >= ceiling => None,
            (None, _) => NonZeroU32::new(next),
        };
        self.set_rate(next);
    }

    fn set_rate(&mut self, rate: Option<NonZeroU32>) {
        if rate == self.rate {
            return;
        }
        self.rate = rate;
        if rate.is_none() {
            self.unlimited_ceiling = None;
        }
        self.limiter = rate.map(|rate| limiter(rate, true));
    }
}

/// A limiter of `rate` a second with a burst of [`BURST`]; a replacement for one in
/// force starts with its burst spent, so changing the rate never grants an extra burst.
fn limiter(rate: NonZeroU32, spent: bool) -> DefaultDirectRateLimiter {
    let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
    let limiter = RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
    if spent {
        // A fresh limiter always has room for its whole burst.
        let _ = limiter.check_n(burst);
    }
    limiter
}

/// Whether an answer says "too many requests": 429, or the Huawei gateway's code.
fn is_throttling(err: &Error) -> bool {
    err.status() == Some(429) || err.code() == Some("APIGW.0308")
}

impl fmt::Debug for RequestBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("RequestBudget")
            .field("max_rate", &state.max_rate)
            .field("rate", &state.rate)
            .field("throttled", &state.throttled)
            .finish_non_exhaustive()
    }
}

/// Two budgets are equal when they are the same budget (clones of one another).
impl PartialEq for RequestBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

impl Eq for RequestBudget {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn throttle(state: &mut State, now: Instant) {
        state.slow_down(now, Duration::from_millis(10));
    }

    #[test]
    fn throttling_halves_once_per_episode_then_recovers_to_the_maximum() {
        let budget = RequestBudget::with_max_rate(40);
        let mut state = budget.lock();
        let start = Instant::now();
        throttle(&mut state, start);
        throttle(&mut state, start + Duration::from_millis(100));
        assert_eq!(state.rate.map(NonZeroU32::get), Some(20));
        throttle(&mut state, start + Duration::from_secs(2));
        assert_eq!(state.rate.map(NonZeroU32::get), Some(10));
        state.recover(start + Duration::from_secs(3));
        assert_eq!(state.rate.map(NonZeroU32::get), Some(12));
        state.recover(start + Duration::from_secs(60));
        assert_eq!(state.rate.map(NonZeroU32::get), Some(40));
        assert_eq!(state.throttled, 3);
    }

    #[test]
    fn an_unlimited_budget_halves_what_it_observed_and_lifts_the_limit_again() {
        let budget = RequestBudget::adaptive();
        let mut state = budget.lock();
        let start = Instant::now();
        for _ in 0..30 {
            assert_eq!(state.try_admit(start), None);
        }
        throttle(&mut state, start);
        assert_eq!(state.rate.map(NonZeroU32::get), Some(15));
        state.recover(start + Duration::from_secs(60));
        assert_eq!(state.rate, None);
        assert!(state.limiter.is_none());
    }

    #[test]
    fn throttling_that_goes_on_halves_once_an_episode() {
        let budget = RequestBudget::with_max_rate(64);
        let mut state = budget.lock();
        let start = Instant::now();
        // A throttling answer every half second for 3 seconds.
        for half_seconds in 0..6 {
            throttle(
                &mut state,
                start + Duration::from_millis(500 * half_seconds),
            );
        }
        // Halved at 0 s, 1 s and 2 s: 64 → 8, not just once.
        assert_eq!(state.rate.map(NonZeroU32::get), Some(8));
    }

    #[test]
    fn a_retry_after_of_any_size_pauses_at_most_max_pause_and_never_overflows() {
        let budget = RequestBudget::adaptive();
        let mut state = budget.lock();
        let start = Instant::now();
        state.slow_down(start, Duration::from_secs(u64::MAX));
        let wait = state.try_admit(start).expect("paused");
        assert!(wait <= MAX_PAUSE, "{wait:?}");
        state.slow_down(start, Duration::from_secs(86_400));
        let wait = state.try_admit(start).expect("paused");
        assert!(wait <= MAX_PAUSE, "{wait:?}");
    }

    #[test]
    fn a_pause_holds_every_request_back() {
        let budget = RequestBudget::adaptive();
        let mut state = budget.lock();
        let start = Instant::now();
        state.slow_down(start, Duration::from_secs(3));
        let wait = state.try_admit(start).expect("paused");
        assert!(wait >= Duration::from_secs(2), "{wait:?}");
    }
}
