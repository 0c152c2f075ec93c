//! One scope's walk inside an estate: how it starts (afresh or from a cursor) and the
//! stream it gives, seen through one item type.

use std::task::{Context, Poll};

use futures::StreamExt;

use crate::client::Client;
use crate::cursor::Cursor;
use crate::error::Result;
use crate::model::{BackupDetail, BackupSummary, CbrBackup, Listed};
use crate::pager::ItemStream;
use crate::query::Listing;

/// A collection whose walk an estate can resume from a [`Cursor`]: VBS / Cinder
/// backups ([`BackupSummary`], [`BackupDetail`]) and CBR backups ([`CbrBackup`]).
/// Sealed, like [`Listed`].
///
/// ```
/// fn resumable<T: vbs_backups::Resumable>() {}
/// resumable::<vbs_backups::BackupDetail>();
/// resumable::<vbs_backups::CbrBackup>();
/// ```
pub trait Resumable: Listed {
    /// The listing that continues the walk `cursor` describes, on `client`.
    fn resume(client: &Client, cursor: Cursor) -> Result<Listing<Self>>;
}

impl Resumable for BackupSummary {
    fn resume(client: &Client, cursor: Cursor) -> Result<Listing<Self>> {
        client.resume(cursor)
    }
}

impl Resumable for BackupDetail {
    fn resume(client: &Client, cursor: Cursor) -> Result<Listing<Self>> {
        client.resume_detail(cursor)
    }
}

impl Resumable for CbrBackup {
    fn resume(client: &Client, cursor: Cursor) -> Result<Listing<Self>> {
        client.resume_cbr(cursor)
    }
}

/// A scope's stream of items, already turned into the estate's item type.
pub(super) trait ScopeStream<T>: Send {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>>;
    fn cursor(&self) -> Cursor;
    fn total(&self) -> Option<u64>;
    fn between_pages(&self) -> bool;
}

impl<U, T> ScopeStream<T> for ItemStream<U>
where
    U: Listed + Into<T>,
{
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.poll_next_unpin(cx)
            .map(|item| item.map(|item| item.map(Into::into)))
    }

    fn cursor(&self) -> Cursor {
        ItemStream::cursor(self)
    }

    fn total(&self) -> Option<u64> {
        ItemStream::total(self)
    }

    fn between_pages(&self) -> bool {
        ItemStream::between_pages(self)
    }
}

/// Starts a scope's walk: afresh (`None`) or from where a cursor says it stopped.
pub(super) type Start<T> =
    Box<dyn Fn(Option<Cursor>) -> Result<Box<dyn ScopeStream<T>>> + Send + Sync>;

/// The starter of a scope walked by `listing` on `client`: the listing for a fresh walk,
/// the collection's resume for a cursor (which keeps filters and paging, not prefetch).
pub(super) fn starter<U, T>(
    client: Client,
    listing: impl Fn(&Client) -> Listing<U> + Send + Sync + 'static,
) -> Start<T>
where
    U: Resumable + Into<T>,
    T: 'static,
{
    Box::new(move |cursor| {
        let stream = match cursor {
            None => listing(&client).stream(),
            Some(cursor) => U::resume(&client, cursor)?.stream(),
        };
        Ok(Box::new(stream) as Box<dyn ScopeStream<T>>)
    })
}
