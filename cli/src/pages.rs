//! The loop every command runs over a listing's pages: each page into a consumer as it
//! arrives, the progress line beside it, until the end, an error, Ctrl-C, or the consumer
//! failing (a closed stdout).

use std::io;

use futures::StreamExt;
use vbs_backups::{Listed, PageStream};

use crate::progress::Progress;
use crate::ui::Ui;

/// How the loop over the pages ended.
#[derive(Debug)]
pub enum End {
    /// Every page was read.
    Done,
    /// The walk failed; the error carries where to resume.
    Failed(vbs_backups::Error),
    /// Ctrl-C.
    Interrupted,
    /// The consumer could not take a page (writing it failed).
    Output(io::Error),
}

/// What the loop read before it ended.
#[derive(Debug)]
pub struct Read {
    /// How it ended.
    pub end: End,
    /// Items handed to the consumer.
    pub items: u64,
    /// Pages handed to the consumer.
    pub pages: u64,
}

/// Reads `pages` into `consume`, with the progress line cleared while `consume` runs so
/// that output to the same terminal is not garbled.
pub async fn read<T: Listed>(
    pages: &mut PageStream<T>,
    ui: &Ui,
    progress: &mut Progress,
    mut consume: impl FnMut(&[T]) -> io::Result<()>,
) -> Read {
    let mut interrupt = ui.interrupt();
    let mut items = 0_u64;
    let mut page_count = 0_u64;
    let end = loop {
        let next = tokio::select! {
            biased;
            () = interrupt.wait() => break End::Interrupted,
            next = pages.next() => next,
        };
        match next {
            None => break End::Done,
            Some(Err(err)) => break End::Failed(err),
            Some(Ok(page)) => {
                page_count += 1;
                progress.page(page.len(), pages.total());
                if let Err(err) = progress.suspend(|| consume(&page.items)) {
                    break End::Output(err);
                }
                items += u64::try_from(page.len()).unwrap_or(u64::MAX);
            }
        }
    };
    Read {
        end,
        items,
        pages: page_count,
    }
}
