//! Sorting over HTTP: `sort`, `sort_key` and `sort_dir` as Cinder takes and refuses them, exact
//! markers under any order, and `FakeServer::backups_sorted` as the truth for a sort.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::*;
use vbs_backups_testing::{FakeBackup, FakeServer};

/// An independent model of Cinder's order for `keys` (column, descending), tie-breakers
/// included: `NULL` names sort lowest, strings bytewise.
fn sorted_truth(server: &FakeServer, keys: &[(&str, bool)]) -> Vec<FakeBackup> {
    use std::cmp::Ordering;

    let compare = |key: &str, a: &FakeBackup, b: &FakeBackup| -> Ordering {
        match key {
            "created_at" => a.created_at.cmp(&b.created_at),
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "id" => a.id.cmp(&b.id),
            "display_name" => a.name.cmp(&b.name),
            "status" => a.status.cmp(&b.status),
            "size" => a.size.cmp(&b.size),
            "volume_id" => a.volume_id.cmp(&b.volume_id),
            other => panic!("no model for {other}"),
        }
    };
    let mut keys = keys.to_vec();
    let first_descending = keys[0].1;
    for default in ["created_at", "id"] {
        if !keys.iter().any(|(key, _)| *key == default) {
            keys.push((default, first_descending));
        }
    }
    let mut backups = server.backups();
    backups.sort_by(|a, b| {
        keys.iter()
            .map(|&(key, descending)| {
                let ordering = compare(key, a, b);
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    backups
}

#[tokio::test]
async fn sorting_orders_every_page_and_markers_stay_exact() {
    let server = FakeServer::builder().backups(60).start().await.unwrap();
    let default = server.backups();
    let oldest_first: Vec<String> = all_ids(&default).into_iter().rev().collect();
    let cases: [(&str, Vec<String>); 11] = [
        ("sort=created_at", all_ids(&default)),
        ("sort=created_at:desc,id:desc", all_ids(&default)),
        ("sort=created_at:asc", oldest_first.clone()),
        ("sort_dir=asc", oldest_first),
        (
            "sort=size:desc",
            all_ids(&sorted_truth(&server, &[("size", true)])),
        ),
        (
            "sort_key=size&sort_dir=asc",
            all_ids(&sorted_truth(&server, &[("size", false)])),
        ),
        (
            "sort=display_name:asc",
            all_ids(&sorted_truth(&server, &[("display_name", false)])),
        ),
        (
            "sort=display_name:desc,size:asc",
            all_ids(&sorted_truth(
                &server,
                &[("display_name", true), ("size", false)],
            )),
        ),
        (
            "sort=status:asc,volume_id:desc,id:asc",
            all_ids(&sorted_truth(
                &server,
                &[("status", false), ("volume_id", true), ("id", false)],
            )),
        ),
        (
            "sort=updated_at:desc",
            all_ids(&sorted_truth(&server, &[("updated_at", true)])),
        ),
        (
            "sort=id:asc",
            all_ids(&sorted_truth(&server, &[("id", false)])),
        ),
    ];
    for (index, (query, expected)) in cases.into_iter().enumerate() {
        let base = if index % 2 == 0 {
            detail_collection(&server, "v3")
        } else {
            collection(&server, "v2")
        };
        let (seen, sizes) = walk(&server, format!("{base}?{query}&limit=7")).await;
        assert_eq!(seen, expected, "{query}");
        assert_eq!(sizes.len(), 9, "{query}");
    }

    // The truth for a sort, in `sort=`'s syntax (`name` as from 3.37).
    let terms = "name:desc,size:asc";
    assert_eq!(
        all_ids(&server.backups_sorted(terms).unwrap()),
        all_ids(&sorted_truth(
            &server,
            &[("display_name", true), ("size", false)]
        ))
    );
    assert_eq!(server.backups_sorted("").unwrap(), default);
    assert!(server.backups_sorted("size:upwards").is_err());
    assert!(server.backups_sorted("bogus").is_err());

    // A marker inside a group of equal sizes continues right after it.
    let by_size = sorted_truth(&server, &[("size", false)]);
    let tied = (0..by_size.len() - 6)
        .find(|&i| by_size[i].size == by_size[i + 1].size && i > 0)
        .unwrap();
    let base = collection(&server, "v3");
    let url = format!("{base}?sort=size:asc&limit=5&marker={}", by_size[tied].id);
    assert_eq!(
        ids(&get_url(&server, &url).await.json()),
        all_ids(&by_size[tied + 1..tied + 6])
    );

    // So does one whose sort value is NULL (where Cinder's SQL criteria would skip rows).
    let by_name = sorted_truth(&server, &[("display_name", false)]);
    assert!(by_name[0].name.is_none() && by_name[1].name.is_none());
    let url = format!(
        "{base}?sort=display_name:asc&limit=3&marker={}",
        by_name[0].id
    );
    assert_eq!(
        ids(&get_url(&server, &url).await.json()),
        all_ids(&by_name[1..4])
    );

    // Filters and offset apply to the sorted matches.
    let available: Vec<String> = by_size
        .iter()
        .filter(|b| b.status == "available")
        .map(|b| b.id.clone())
        .collect();
    assert!(available.len() > 8);
    let url = format!("{base}?sort=size:asc&status=available&limit=4&offset=2");
    let page = get_url(&server, &url).await.json();
    assert_eq!(ids(&page), available[2..6]);
    let url = format!(
        "{base}?sort=size:asc&status=available&limit=4&marker={}",
        available[5]
    );
    assert_eq!(ids(&get_url(&server, &url).await.json()), available[6..10]);
}

#[tokio::test]
async fn sort_parameters_are_refused_like_cinder() {
    let server = FakeServer::builder().backups(20).start().await.unwrap();
    let base = collection(&server, "v3");
    let key = bad_request("Invalid input received: Invalid sort key");
    let direction =
        bad_request("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    let deprecated = bad_request(
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
    let empty = r#"{"backups": []}"#.to_owned();
    let unknown_marker = r#"{"itemNotFound": {"code": 404, "message": "Backup 00000000-0000-0000-0000-000000000000 could not be found."}}"#.to_owned();
    let cases = [
        ("sort=bogus", None, 400, key.clone()),
        ("sort=name:asc", None, 400, key.clone()),
        ("sort=name:asc", Some("volume 3.36"), 400, key.clone()),
        (
            "sort=name:asc,name:desc",
            Some("volume 3.37"),
            400,
            key.clone(),
        ),
        (
            "sort=display_name:asc,bogus",
            Some("volume 3.37"),
            400,
            key.clone(),
        ),
        ("sort_key=bogus", None, 400, key),
        ("sort_dir=sideways", None, 400, direction.clone()),
        ("sort=id:ASC", None, 400, direction.clone()),
        ("sort=bogus:sideways", None, 400, direction.clone()),
        ("sort_key=id&sort=id", None, 400, deprecated.clone()),
        (
            "sort=id&sort_dir=asc&with_count=maybe",
            Some("volume 3.45"),
            400,
            deprecated,
        ),
        (
            "with_count=maybe&sort_dir=sideways",
            Some("volume 3.45"),
            400,
            bad_request("Value 'maybe' for 'with_count' is not a boolean."),
        ),
        (
            "limit=x&sort_key=id&sort=id",
            None,
            400,
            bad_request("limit param must be an integer"),
        ),
        // The directions are checked before the filters, the keys after the marker.
        ("sort_dir=sideways&foo=bar", None, 400, direction),
        ("sort=bogus&foo=bar", None, 200, empty.clone()),
        (
            "sort=bogus&marker=00000000-0000-0000-0000-000000000000",
            None,
            404,
            unknown_marker,
        ),
        // A repeated sort parameter is a filter on a column that does not exist.
        ("sort=id&sort=id", None, 200, empty.clone()),
        ("sort_key=id&sort_key=size", None, 200, empty.clone()),
        ("sort_dir=asc&sort_dir=asc", None, 200, empty),
    ];
    for (query, version, status, body) in cases {
        let reply = get_versioned(&server, &format!("{base}?{query}"), version).await;
        assert_eq!(
            (reply.status, reply.text),
            (status, body),
            "{query} {version:?}"
        );
    }

    // `name` sorts from 3.37 (the first one only), `display_name` at any version, v2 as 3.0.
    let by_name = all_ids(&sorted_truth(&server, &[("display_name", false)]));
    let reply = get_versioned(
        &server,
        &format!("{base}?sort=name:asc"),
        Some("volume 3.37"),
    )
    .await;
    assert_eq!(ids(&reply.json()), by_name);
    let reply = get_url(&server, &format!("{base}?sort=display_name:asc")).await;
    assert_eq!(ids(&reply.json()), by_name);
    let v2 = collection(&server, "v2");
    let reply = get_versioned(&server, &format!("{v2}?sort=name"), Some("volume 3.71")).await;
    assert_eq!(
        reply.text,
        bad_request("Invalid input received: Invalid sort key")
    );
}

#[tokio::test]
async fn sorted_walks_follow_created_and_deleted_backups() {
    let server = FakeServer::builder().backups(30).start().await.unwrap();
    let base = detail_collection(&server, "v3");
    let terms = "size:asc";
    let first = get_url(&server, &format!("{base}?sort=size:asc&limit=5"))
        .await
        .json();
    assert_eq!(
        ids(&first),
        all_ids(&server.backups_sorted(terms).unwrap()[..5])
    );

    let gone = server.backups_sorted(terms).unwrap()[10].id.clone();
    assert!(server.delete_backup(&gone));
    let created = server.create_backups(3);
    let truth = all_ids(&server.backups_sorted(terms).unwrap());
    assert_eq!(truth.len(), 32);
    assert!(!truth.contains(&gone));
    assert!(created.iter().all(|b| truth.contains(&b.id)));
    let (seen, _) = walk(&server, format!("{base}?sort=size:asc&limit=6")).await;
    assert_eq!(seen, truth);

    let reply = get_url(&server, &format!("{base}?sort=size:asc&marker={gone}")).await;
    assert_eq!(reply.status, 404);
}
