//! Entry points for `cargo fuzz` (built with `--cfg fuzzing` only).

use std::sync::OnceLock;

use super::{Collection, Paging, Walk};
use crate::client::Client;
use crate::cursor::Window;
use crate::error::Error;
use crate::model::{BackupSummary, decode_page, guess_last_id, guess_next_href};

/// Decodes `body` as a page of backups and as an error body, searches it for its next
/// link as the speculation does, and, if the page
/// links on, builds the next request the way a walk does. Panics if that
/// request could leave the configured collection or repeat `offset`.
pub fn page_and_next_link(body: &[u8]) {
    static WALK: OnceLock<Option<Walk>> = OnceLock::new();
    let Some(walk) = WALK.get_or_init(|| {
        let client = Client::builder()
            .endpoint("https://vbs.example.com:8776/volume/v2/p")
            .build()
            .ok()?;
        Some(Walk {
            client,
            collection: Collection::of::<BackupSummary>(),
            unsendable: None,
            filters: vec![("status".to_owned(), "error".to_owned())],
            window: Window::default(),
            stop: None,
            paging: Paging {
                page_size: 50,
                offset: Some(3),
                ..Paging::default()
            },
        })
    }) else {
        return;
    };
    let _ = Error::from_response(500, None, body).to_string();
    // The speculation's byte search must take any body without a panic; what it finds
    // may differ from the decode (a nested or escaped key), which the walk checks.
    let _ = guess_next_href(body, "backups");
    let _ = guess_last_id(body, "backups");
    let Ok(page) = decode_page::<BackupSummary>(body, "backups", 1, 0) else {
        return;
    };
    let Some(next) = page.next_link else {
        return;
    };
    let current = walk.page_url(&[], 50, Some(3), None);
    let Ok((link_params, marker)) = walk.follow(&current, &next.href) else {
        return;
    };
    let url = walk.page_url(&link_params, 50, None, marker.as_deref());
    assert_eq!(
        url.origin(),
        current.origin(),
        "next request left the origin"
    );
    assert_eq!(
        url.path(),
        current.path(),
        "next request left the collection"
    );
    let pairs: Vec<_> = url.query_pairs().collect();
    assert!(pairs.iter().all(|(k, _)| k != "offset"), "offset repeated");
    assert_eq!(pairs.iter().filter(|(k, _)| k == "limit").count(), 1);
    assert_eq!(pairs.iter().filter(|(k, _)| k == "status").count(), 1);
    assert!(pairs.iter().filter(|(k, _)| k == "marker").count() <= 1);
}
