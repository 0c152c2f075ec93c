//! Property tests of the pager: for random data sets, page sizes, server caps,
//! offsets, `max_items`, filters and next-link quirks, a walk yields exactly the
//! expected ids, in order.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use futures::TryStreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vbs_backups_testing::{FakeServer, Quirk};

#[derive(Debug, Clone)]
struct Case {
    backups: usize,
    seed: u64,
    max_limit: usize,
    page_size: u32,
    offset: Option<u64>,
    max_items: Option<u64>,
    status: Option<&'static str>,
    prefetch: usize,
    quirks: Vec<Quirk>,
}

fn quirks() -> impl Strategy<Value = Vec<Quirk>> {
    let link_form = prop_oneof![
        Just(None),
        Just(Some(Quirk::NoVersionPrefix)),
        Just(Some(Quirk::HttpsScheme)),
        Just(Some(Quirk::RelativeLink)),
        Just(Some(Quirk::OtherHost("vbs-internal.invalid:8776".into()))),
    ];
    (link_form, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(form, drop_filters, no_marker, empty_pages)| {
            let mut quirks: Vec<_> = form.into_iter().collect();
            if drop_filters {
                quirks.push(Quirk::DropFilters);
            }
            // An empty page without a marker cannot be continued: that pair is an
            // error case of its own, tested in pagination.rs.
            if empty_pages {
                quirks.push(Quirk::EmptyPagesLinkOn);
            } else if no_marker {
                quirks.push(Quirk::NoMarker);
            }
            quirks
        },
    )
}

fn cases() -> impl Strategy<Value = Case> {
    (
        0_usize..120,
        any::<u64>(),
        1_usize..40,
        1_u32..30,
        proptest::option::of(0_u64..40),
        proptest::option::of(0_u64..150),
        proptest::option::of(prop_oneof![
            Just("available"),
            Just("error"),
            Just("error_restoring"),
            Just("no-such-status"),
        ]),
        0_usize..3,
        quirks(),
    )
        .prop_map(
            |(backups, seed, max_limit, page_size, offset, max_items, status, prefetch, quirks)| {
                Case {
                    backups,
                    seed,
                    max_limit,
                    page_size,
                    offset,
                    max_items,
                    status,
                    prefetch,
                    quirks,
                }
            },
        )
}

/// What a correct walk yields for `case` on the server's data.
fn expected(case: &Case, server: &FakeServer) -> Vec<String> {
    let matches = |status: &str| case.status.is_none_or(|wanted| wanted == status);
    let offset = usize::try_from(case.offset.unwrap_or(0)).expect("small");
    let all = server.backups();
    // Cinder counts `offset` among the matching rows; a server that filters after
    // cutting the page counts it among all rows.
    let matching: Vec<String> = if case.quirks.contains(&Quirk::EmptyPagesLinkOn) {
        all.into_iter()
            .skip(offset)
            .filter(|b| matches(&b.status))
            .map(|b| b.id)
            .collect()
    } else {
        all.into_iter()
            .filter(|b| matches(&b.status))
            .skip(offset)
            .map(|b| b.id)
            .collect()
    };
    let limit = case
        .max_items
        .map_or(usize::MAX, |max| usize::try_from(max).expect("small"));
    matching.into_iter().take(limit).collect()
}

async fn walk(case: Case) -> Result<(), TestCaseError> {
    let mut builder = FakeServer::builder()
        .backups(case.backups)
        .seed(case.seed)
        .max_limit(case.max_limit);
    for quirk in &case.quirks {
        builder = builder.quirk(quirk.clone());
    }
    let server = builder.start().await.expect("fake server starts");
    let mut listing = common::client(&server)
        .backups()
        .page_size(case.page_size)
        .prefetch(case.prefetch);
    if let Some(offset) = case.offset {
        listing = listing.offset(offset);
    }
    if let Some(max_items) = case.max_items {
        listing = listing.max_items(max_items);
    }
    if let Some(status) = case.status {
        listing = listing.status(status);
    }
    let got: Vec<String> = listing
        .stream()
        .map_ok(|backup| backup.id)
        .try_collect()
        .await
        .map_err(|err| TestCaseError::fail(format!("walk failed: {err}")))?;
    prop_assert_eq!(got, expected(&case, &server));
    Ok(())
}

#[test]
fn every_walk_yields_exactly_the_expected_ids() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&cases(), |case| runtime.block_on(walk(case)))
        .unwrap_or_else(|failure| panic!("{failure}"));
}
