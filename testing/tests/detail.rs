//! The detail listing over HTTP: Cinder 3.0's fields in its order, the fields microversions
//! add, `OpenStack-API-Version` negotiation, and `with_count`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use serde_json::Value;

use common::*;
use vbs_backups_testing::{FakeBackup, FakeServer, Quirk};

/// The keys of each entry of a page, in the order sent (`Value` would sort them).
fn entry_keys(text: &str) -> Vec<Vec<String>> {
    struct Keys(Vec<String>);

    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }

    #[derive(serde::Deserialize)]
    struct Page {
        backups: Vec<Keys>,
    }
    let page: Page = serde_json::from_str(text).unwrap();
    page.backups.into_iter().map(|keys| keys.0).collect()
}

/// The keys of a detail entry at 3.0, in Cinder's order.
const DETAIL_KEYS: [&str; 17] = [
    "id",
    "status",
    "size",
    "object_count",
    "availability_zone",
    "container",
    "created_at",
    "updated_at",
    "name",
    "description",
    "fail_reason",
    "volume_id",
    "links",
    "is_incremental",
    "has_dependent_backups",
    "snapshot_id",
    "data_timestamp",
];

/// Asserts that a detail entry shows `backup`'s 3.0 fields and Cinder's item links.
fn assert_detail_entry(item: &Value, backup: &FakeBackup, server: &FakeServer, version: &str) {
    use serde_json::json;

    let expected = json!({
        "id": backup.id,
        "status": backup.status,
        "size": backup.size,
        "object_count": backup.object_count,
        "availability_zone": backup.availability_zone,
        "container": backup.container,
        "created_at": backup.created_at,
        "updated_at": backup.updated_at,
        "name": backup.name,
        "description": backup.description,
        "fail_reason": backup.fail_reason,
        "volume_id": backup.volume_id,
        "is_incremental": backup.is_incremental,
        "has_dependent_backups": backup.has_dependent_backups,
        "snapshot_id": backup.snapshot_id,
        "data_timestamp": backup.data_timestamp,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&item[key], value, "{key} of {}", backup.id);
    }
    let (origin, project, id) = (
        format!("http://{}", server.addr()),
        server.project_id(),
        &backup.id,
    );
    assert_eq!(
        item["links"],
        json!([
            {"rel": "self", "href": format!("{origin}/{version}/{project}/backups/{id}")},
            {"rel": "bookmark", "href": format!("{origin}/{project}/backups/{id}")},
        ])
    );
}

#[tokio::test]
async fn detail_entries_carry_cinder_3_0_fields_in_its_order() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    let base = detail_collection(&server, "v3");

    let reply = get_url(&server, &format!("{base}?limit=3")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.0"));
    assert_eq!(entry_keys(&reply.text), vec![DETAIL_KEYS.to_vec(); 3]);
    let page = reply.json();
    for (item, backup) in page["backups"].as_array().unwrap().iter().zip(&all) {
        assert_detail_entry(item, backup, &server, "v3");
    }
    assert_eq!(
        next(&page).unwrap(),
        format!("{base}?limit=3&marker={}", all[2].id)
    );

    // Following detail links verbatim yields every backup, on v2 as on v3.
    for version in ["v2", "v3"] {
        let base = detail_collection(&server, version);
        let mut url = Some(format!("{base}?limit=4"));
        let mut seen = Vec::new();
        while let Some(current) = url {
            assert!(current.starts_with(&format!("{base}?")), "{current}");
            let reply = get_url(&server, &current).await;
            let page = reply.json();
            for item in page["backups"].as_array().unwrap() {
                let backup = &all[seen.len()];
                assert_detail_entry(item, backup, &server, version);
                seen.push(backup.id.clone());
            }
            url = next(&page);
        }
        assert_eq!(seen, all_ids(&all), "{version}");
    }

    // Like Python's json: only ASCII on the wire, everything else escaped.
    let reply = get_url(&server, &base).await;
    assert!(reply.text.is_ascii());
    assert!(reply.text.contains(
        r#""description": "sauvegarde avant mise \u00e0 jour \u2014 \u2713 \ud83e\udd80""#
    ));
    assert!(reply.text.contains(r#"upgrade\\rollback plan:\tOPS-1""#));
    assert!(reply.text.contains(r#""description": null"#));
    assert!(reply.text.contains(r#""container": null"#));
    assert!(
        reply
            .text
            .contains(r#""created_at": "2024-01-01T00:00:00.000000""#)
    );
}

#[tokio::test]
async fn detail_links_get_the_quirks_too() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let (project, authority) = (server.project_id().to_owned(), server.addr().to_string());
    let marker = &server.backups()[1].id;
    let base = detail_collection(&server, "v3");
    let cases = [
        (
            Quirk::NoVersionPrefix,
            format!("http://{authority}/{project}/backups/detail?limit=2&marker={marker}"),
        ),
        (
            Quirk::RelativeLink,
            format!("/v3/{project}/backups/detail?limit=2&marker={marker}"),
        ),
        (
            Quirk::OtherHost("10.1.2.3:8776".into()),
            format!("http://10.1.2.3:8776/v3/{project}/backups/detail?limit=2&marker={marker}"),
        ),
    ];
    for (quirk, expected) in cases {
        server.set_quirks([quirk.clone()]);
        let page = get_url(&server, &format!("{base}?limit=2")).await.json();
        assert_eq!(next(&page).unwrap(), expected, "{quirk:?}");
    }
}

#[tokio::test]
async fn microversions_add_detail_fields_from_their_versions() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    assert!(all.iter().any(|b| b.encryption_key_id.is_some()));
    assert!(all.iter().any(|b| b.encryption_key_id.is_none()));
    let base = detail_collection(&server, "v3");
    let project = "os-backup-project-attr:project_id";
    let cases: [(Option<&str>, &str, &[&str]); 10] = [
        (None, "3.0", &[]),
        (Some("volume 3.17"), "3.17", &[]),
        (Some("volume 3.18"), "3.18", &[project]),
        (Some("volume 3.42"), "3.42", &[project]),
        (Some("volume 3.43"), "3.43", &["metadata", project]),
        (Some("volume 3.55"), "3.55", &["metadata", project]),
        (
            Some("volume 3.56"),
            "3.56",
            &["metadata", "user_id", project],
        ),
        (
            Some("volume 3.63"),
            "3.63",
            &["metadata", "user_id", project],
        ),
        (
            Some("volume 3.64"),
            "3.64",
            &["encryption_key_id", "metadata", "user_id", project],
        ),
        (
            Some("volume latest"),
            "3.71",
            &["encryption_key_id", "metadata", "user_id", project],
        ),
    ];
    for (header, negotiated, added) in cases {
        let reply = get_versioned(&server, &base, header).await;
        assert_eq!(reply.status, 200, "{header:?}");
        let echoed = format!("volume {negotiated}");
        assert_eq!(reply.header("openstack-api-version"), Some(echoed.as_str()));
        let page = reply.json();
        let items = page["backups"].as_array().unwrap();
        for ((keys, item), backup) in entry_keys(&reply.text).iter().zip(items).zip(&all) {
            assert_detail_entry(item, backup, &server, "v3");
            let mut expected: Vec<&str> = DETAIL_KEYS.to_vec();
            expected.extend(
                added.iter().filter(|key| {
                    **key != "encryption_key_id" || backup.encryption_key_id.is_some()
                }),
            );
            assert_eq!(keys, &expected, "{header:?} {}", backup.id);
            if added.contains(&"metadata") {
                assert_eq!(item["metadata"], serde_json::json!(backup.metadata));
            }
            if added.contains(&"user_id") {
                assert_eq!(item["user_id"], backup.user_id.as_str());
            }
            if let Some(key) = backup
                .encryption_key_id
                .as_deref()
                .filter(|_| added.len() == 4)
            {
                assert_eq!(item["encryption_key_id"], key);
            }
            if added.contains(&project) {
                assert_eq!(item[project], server.project_id());
            }
        }
    }

    // The summary listing is the same at every version, and v2 ignores the header.
    let summary = get_versioned(&server, &collection(&server, "v3"), Some("volume 3.71")).await;
    assert_eq!(entry_keys(&summary.text)[0], ["id", "name", "links"]);
    let v2 = get_versioned(
        &server,
        &detail_collection(&server, "v2"),
        Some("volume 3.71"),
    )
    .await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.header("openstack-api-version"), None);
    assert!(entry_keys(&v2.text).iter().all(|keys| keys == &DETAIL_KEYS));
}

#[tokio::test]
async fn microversion_headers_are_negotiated_like_cinder() {
    let server = FakeServer::builder().token("s3cret").start().await.unwrap();
    let base = collection(&server, "v3");
    let negotiated = async |version: Option<&str>| {
        let reply = get_versioned(&server, &base, version).await;
        assert_eq!(reply.status, 200, "{version:?}: {}", reply.text);
        assert_eq!(reply.header("vary"), Some("OpenStack-API-Version"));
        reply.header("openstack-api-version").unwrap().to_owned()
    };
    assert_eq!(negotiated(None).await, "volume 3.0");
    assert_eq!(negotiated(Some("volume 3.45")).await, "volume 3.45");
    assert_eq!(negotiated(Some("volume latest")).await, "volume 3.71");
    assert_eq!(
        negotiated(Some("compute 2.90, Volume 3.50")).await,
        "volume 3.50"
    );
    assert_eq!(negotiated(Some("compute 2.90")).await, "volume 3.0");
    let legacy = send(
        http()
            .get(&base)
            .header("X-Auth-Token", "s3cret")
            .header("X-OpenStack-Volume-API-Version", "3.45"),
    )
    .await;
    assert_eq!(legacy.header("openstack-api-version"), Some("volume 3.0"));

    let reply = get_versioned(&server, &base, Some("volume 3.72")).await;
    assert_eq!(reply.status, 406);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.text,
        r#"{"computeFault": {"code": 406, "message": "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71."}}"#
    );
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.72"));

    let invalid = bad_request(
        "API Version String abc is of invalid format. Must be of format MajorNum.MinorNum.",
    );
    let reply = get_versioned(&server, &base, Some("volume abc")).await;
    assert_eq!((reply.status, reply.text.as_str()), (400, invalid.as_str()));
    assert_eq!(reply.header("openstack-api-version"), None);
    assert!(reply.header("x-openstack-request-id").is_some());

    // keystonemiddleware answers before Cinder looks at the version; the version comes before
    // the project check and the query.
    let unauthorized = send(
        http()
            .get(&base)
            .header("X-Auth-Token", "wrong")
            .header("OpenStack-API-Version", "volume abc"),
    )
    .await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.header("openstack-api-version"), None);
    let other = format!("{}/v3/0123456789abcdef/backups?limit=x", server.endpoint());
    let reply = get_versioned(&server, &other, Some("volume abc")).await;
    assert_eq!(reply.text, invalid);
    let reply = get_versioned(&server, &other, Some("volume 3.5")).await;
    assert_eq!(reply.text, bad_request("Malformed request url"));
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.5"));

    let v2 = get_versioned(&server, &collection(&server, "v2"), Some("volume abc")).await;
    assert_eq!(v2.status, 200);
}

/// Follows next links verbatim with a version header; returns each page's ids, `count` and
/// whether it linked on.
async fn counted_walk(
    server: &FakeServer,
    first: String,
    version: &str,
) -> Vec<(Vec<String>, Option<u64>, bool)> {
    let mut pages = Vec::new();
    let mut url = Some(first);
    while let Some(current) = url {
        assert!(pages.len() < 100, "walk does not end");
        let reply = get_versioned(server, &current, Some(version)).await;
        assert_eq!(reply.status, 200, "{current}: {}", reply.text);
        let page = reply.json();
        url = next(&page);
        pages.push((ids(&page), page["count"].as_u64(), url.is_some()));
    }
    pages
}

#[tokio::test]
async fn with_count_counts_every_match_from_3_45() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = all_ids(&server.backups());
    let detail = detail_collection(&server, "v3");
    let summary = collection(&server, "v3");

    // The total on every page, and a link even from the partial last page, to an empty one.
    let pages = counted_walk(
        &server,
        format!("{detail}?limit=10&with_count=true"),
        "volume 3.45",
    )
    .await;
    let shape: Vec<(usize, Option<u64>, bool)> = pages
        .iter()
        .map(|(ids, count, linked)| (ids.len(), *count, *linked))
        .collect();
    assert_eq!(
        shape,
        [
            (10, Some(25), true),
            (10, Some(25), true),
            (5, Some(25), true),
            (0, Some(25), false)
        ]
    );
    assert_eq!(pages.concat_ids(), all);
    let last = get_versioned(
        &server,
        &format!("{detail}?limit=10&with_count=true&marker={}", all[24]),
        Some("volume 3.45"),
    )
    .await;
    assert_eq!(last.text, r#"{"backups": [], "count": 25}"#);
    let first = get_versioned(
        &server,
        &format!("{summary}?limit=1&with_count=1"),
        Some("volume 3.45"),
    )
    .await;
    assert!(first.text.ends_with(&format!(
        r#""backups_links": [{{"rel": "next", "href": "{summary}?limit=1&with_count=1&marker={}"}}], "count": 25}}"#,
        all[0]
    )));

    // Only a page size above the total goes without a link.
    let cases = [
        ("limit=30&with_count=true", vec![(25, Some(25), false)]),
        (
            "limit=25&with_count=TRUE",
            vec![(25, Some(25), true), (0, Some(25), false)],
        ),
        (
            "limit=10&with_count=false",
            vec![(10, None, true), (10, None, true), (5, None, false)],
        ),
        (
            "limit=10&offset=20&with_count=yes",
            vec![(5, Some(25), true), (0, Some(25), false)],
        ),
    ];
    for (query, expected) in cases {
        let pages = counted_walk(&server, format!("{summary}?{query}"), "volume 3.45").await;
        let shape: Vec<(usize, Option<u64>, bool)> = pages
            .iter()
            .map(|(ids, count, linked)| (ids.len(), *count, *linked))
            .collect();
        assert_eq!(shape, expected, "{query}");
    }

    // The total counts the matches of the filters, not what is left after marker and offset.
    let errors = ids_where(&server, |b| b.status == "error");
    assert!(errors.len() > 2);
    let pages = counted_walk(
        &server,
        format!("{summary}?status=error&limit=2&with_count=on"),
        "volume latest",
    )
    .await;
    assert!(
        pages
            .iter()
            .all(|(_, count, _)| *count == Some(errors.len() as u64))
    );
    assert_eq!(pages.concat_ids(), errors);

    // Cinder's 400 for a value that is not a boolean, checked from 3.45 only.
    for value in ["maybe", "%20true", ""] {
        let url = format!("{summary}?with_count={value}");
        let reply = get_versioned(&server, &url, Some("volume 3.45")).await;
        let shown = value.replace("%20", " ");
        let message = format!("Value '{shown}' for 'with_count' is not a boolean.");
        assert_eq!(
            (reply.status, reply.text),
            (400, bad_request(&message)),
            "{value}"
        );
    }

    // Below 3.45 (v2 speaks 3.0) `with_count` is a filter on a column that does not exist.
    let empty = r#"{"backups": []}"#;
    for (url, version) in [
        (format!("{summary}?with_count=true"), Some("volume 3.44")),
        (format!("{summary}?with_count=maybe"), Some("volume 3.44")),
        (format!("{detail}?with_count=true"), None),
        (
            format!("{}?with_count=true", collection(&server, "v2")),
            Some("volume 3.45"),
        ),
    ] {
        let reply = get_versioned(&server, &url, version).await;
        assert_eq!(
            (reply.status, reply.text.as_str()),
            (200, empty),
            "{url} {version:?}"
        );
    }
    // So is a second `with_count`; nothing matches it, which makes a total of 0.
    let url = format!("{summary}?with_count=true&with_count=true");
    let reply = get_versioned(&server, &url, Some("volume 3.45")).await;
    assert_eq!(reply.text, r#"{"backups": [], "count": 0}"#);
}

trait ConcatIds {
    fn concat_ids(&self) -> Vec<String>;
}

impl ConcatIds for Vec<(Vec<String>, Option<u64>, bool)> {
    fn concat_ids(&self) -> Vec<String> {
        self.iter().flat_map(|(ids, _, _)| ids.clone()).collect()
    }
}
