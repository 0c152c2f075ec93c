//! Feature `blocking`: walk a listing from synchronous code, in the manner of
//! `reqwest::blocking`. [`Listing::blocking`] turns any listing into a
//! [`BlockingIter`], a plain [`Iterator`] of `Result<T>` that owns a small Tokio runtime
//! of its own (one worker thread, which fetches pages ahead while your code works).
//!
//! Everything else is the async stream's: the same requests, prefetch (memory stays at
//! `1 + prefetch` pages), cursor and errors. Dropping the iterator cancels the request
//! in flight and stops its runtime.
//!
//! It may be used wherever blocking is legal: plain threads, `tokio::task::spawn_blocking`,
//! and tasks of a multi-thread Tokio runtime (it then blocks in place, as
//! `tokio::task::block_in_place` does, handing the worker's other tasks to another
//! thread). The one place it refuses, with an
//! [`ErrorKind::Runtime`](crate::ErrorKind::Runtime) error instead of a panic or a
//! deadlock, is the thread that drives a current-thread runtime (the body of
//! `#[tokio::main(flavor = "current_thread")]` or `#[tokio::test]`, and its tasks):
//! nothing else would run that runtime's tasks while it waits. Use [`Listing::stream`]
//! there.
//!
//! ```no_run
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = vbs_backups::Client::builder()
//!     .endpoint("https://vbs.example.com:8776/v2/b23b579f08c84228b9b4673c46f0c442")
//!     .token(std::env::var("OS_AUTH_TOKEN")?)
//!     .build()?;
//! for backup in client.backups().status("error").blocking() {
//!     let backup = backup?;
//!     println!("{} {:?}", backup.id, backup.name);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::model::Listed;
use crate::pager::ItemStream;
use crate::query::Listing;

/// How long dropping the iterator waits for its runtime's threads: the request in
/// flight is cancelled at once; only a DNS lookup under way (a blocking call) can make
/// it wait, and not longer than this.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

impl<T: Listed> Listing<T> {
    /// The items one by one, for code without an async runtime (feature `blocking`); see
    /// [`BlockingIter`]. Nothing is requested before the first
    /// [`next`](Iterator::next).
    ///
    /// ```no_run
    /// # fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// let mut oldest = client.backups().detail().prefetch(2).blocking();
    /// while let Some(backup) = oldest.next().transpose()? {
    ///     println!("{} {:?}", backup.id, backup.created_at);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn blocking(self) -> BlockingIter<T> {
        BlockingIter::new(self.stream())
    }
}

/// A listing walked from synchronous code: an [`Iterator`] of `Result<T>`, from
/// [`Listing::blocking`].
///
/// It owns a Tokio runtime with one worker thread, started when the iterator is made:
/// pages are fetched ahead on it (up to [`Listing::prefetch`], default 1) while the
/// caller handles the items, and `next` waits only when the next page has not arrived.
/// After an error or the end it yields nothing more; the error carries a
/// [`Cursor`](crate::Error::cursor), as does [`cursor`](Self::cursor) at any time.
/// Dropping it cancels the request in flight and stops the runtime.
///
/// Called on the thread that drives a current-thread Tokio runtime, `next` yields one
/// [`ErrorKind::Runtime`](crate::ErrorKind::Runtime) error and then ends: use
/// [`Listing::stream`] there. Everywhere else it blocks (see the
/// [module docs](crate::blocking) for where that is legal).
///
/// ```no_run
/// # fn run(client: vbs_backups::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let mut backups = client.backups().blocking();
/// for backup in backups.by_ref().take(100) {
///     println!("{}", backup?.id);
/// }
/// // Continue later, perhaps in another process.
/// let saved = backups.cursor().to_token();
/// let rest = client.resume(saved.parse()?)?.blocking();
/// # Ok(()) }
/// ```
#[must_use = "iterators do nothing unless iterated"]
pub struct BlockingIter<T> {
    /// Declared before the runtime, so dropped while the runtime still runs.
    stream: ItemStream<T>,
    runtime: OwnedRuntime,
    /// Why the runtime could not start, said once by `next`.
    failed: Option<Error>,
    /// Ended by an error of the iterator's own (the stream ends itself otherwise).
    done: bool,
}

/// The iterator's runtime, shut down when dropped: waiting (briefly) for its thread
/// outside a runtime, without waiting inside one, where waiting would panic.
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        let Some(runtime) = self.0.take() else {
            return;
        };
        if Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
        }
    }
}

impl<T: Listed> BlockingIter<T> {
    fn new(stream: ItemStream<T>) -> Self {
        let built = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vbs-backups-blocking")
            .enable_all()
            .build();
        let (runtime, failed) = match built {
            Ok(runtime) => (Some(runtime), None),
            Err(err) => (
                None,
                Some(
                    Error::runtime("could not start the blocking iterator's Tokio runtime")
                        .with_source(err),
                ),
            ),
        };
        Self {
            stream,
            runtime: OwnedRuntime(runtime),
            failed,
            done: false,
        }
    }

    /// The id of the last item yielded, if any; see [`ItemStream::last_id`].
    ///
    /// ```no_run
    /// # fn run(client: vbs_backups::Client) {
    /// let mut backups = client.backups().blocking();
    /// let _first = backups.next();
    /// println!("{:?}", backups.last_id());
    /// # }
    /// ```
    pub fn last_id(&self) -> Option<&str> {
        self.stream.last_id()
    }

    /// Where the walk stands after the items yielded so far; see [`ItemStream::cursor`].
    ///
    /// ```no_run
    /// # fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// let mut backups = client.backups().blocking();
    /// let _first = backups.next();
    /// let rest = client.resume(backups.cursor())?.blocking();
    /// # Ok(()) }
    /// ```
    pub fn cursor(&self) -> Cursor {
        self.stream.cursor()
    }

    /// The total number of matching items, once the first page has said it; see
    /// [`ItemStream::total`].
    ///
    /// ```no_run
    /// # fn run(client: vbs_backups::Client) {
    /// let mut backups = client.backups().with_count().blocking();
    /// let _first = backups.next();
    /// println!("{:?} backups in all", backups.total());
    /// # }
    /// ```
    pub fn total(&self) -> Option<u64> {
        self.stream.total()
    }
}

impl<T: Listed> Iterator for BlockingIter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        if let Some(failed) = self.failed.take() {
            self.done = true;
            return Some(Err(failed));
        }
        let runtime = self.runtime.0.as_ref()?;
        match Caller::here() {
            Caller::Free => wait(runtime, &mut self.stream),
            Caller::Worker => tokio::task::block_in_place(|| wait(runtime, &mut self.stream)),
            Caller::Driver => {
                self.done = true;
                Some(Err(Error::runtime(
                    "the blocking iterator was used on the thread that drives a \
                     current-thread Tokio runtime, where waiting would stop that runtime's \
                     tasks: use `Listing::stream()` there, or `spawn_blocking`",
                )
                .with_cursor(self.stream.cursor())))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            Stream::size_hint(&self.stream)
        }
    }
}

/// Where `next` is called from, as far as blocking goes.
enum Caller {
    /// A thread no runtime needs: a plain one, one of `spawn_blocking`, or one that only
    /// entered a runtime's context.
    Free,
    /// A worker of a multi-thread runtime: it may block once it hands its tasks on.
    Worker,
    /// The thread driving a current-thread runtime: its tasks run nowhere else.
    Driver,
}

impl Caller {
    /// Tokio's rule: a thread drives a runtime when it is one of its workers
    /// (`worker_index`, which is also `Some` in a current-thread runtime's `block_on`).
    /// `Handle::try_current` alone cannot tell, as `spawn_blocking` threads have a handle.
    fn here() -> Self {
        let Ok(handle) = Handle::try_current() else {
            return Self::Free;
        };
        if tokio::runtime::worker_index().is_none() {
            return Self::Free;
        }
        match handle.runtime_flavor() {
            RuntimeFlavor::MultiThread => Self::Worker,
            _ => Self::Driver,
        }
    }
}

/// The stream's next item, polled on this thread with the iterator's runtime as the
/// context (its worker thread drives the I/O and timers, and runs the prefetch), as
/// `Runtime::block_on` of a multi-thread runtime does; unlike it, without refusing to
/// run on a thread that has another runtime's context. Unconstrained: a budget of the
/// caller's runtime, were one in force, would never be replenished here.
fn wait<T: Listed>(runtime: &Runtime, stream: &mut ItemStream<T>) -> Option<Result<T>> {
    let _context = runtime.enter();
    futures::executor::block_on(tokio::task::unconstrained(stream.next()))
}

impl<T> fmt::Debug for BlockingIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingIter")
            .field("stream", &self.stream)
            .field("runtime", &self.runtime.0.is_some())
            .field("done", &self.done)
            .finish()
    }
}
