//! Helpers shared by the fake server's tests: plain HTTP with reqwest, as any client speaks it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design
#![allow(dead_code)] // each test file uses some of them

use reqwest::header::HeaderMap;
use serde_json::Value;

use vbs_backups_testing::{FakeBackup, FakeServer};

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| {
            panic!("not JSON ({error}): {}", self.text);
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A client for plain HTTP on loopback; skipping the system's TLS roots makes it cheap to build
/// (loading them takes tens of milliseconds, and every `get_url` builds one).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .unwrap()
}

pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// GETs an absolute URL with the server's token, if it has one.
pub async fn get_url(server: &FakeServer, url: &str) -> Reply {
    let mut request = http().get(url);
    if let Some(token) = server.token() {
        request = request.header("X-Auth-Token", token);
    }
    send(request).await
}

/// GETs a path (and query) under the server's endpoint.
pub async fn get(server: &FakeServer, path_and_query: &str) -> Reply {
    get_url(server, &format!("{}{path_and_query}", server.endpoint())).await
}

pub fn collection(server: &FakeServer, version: &str) -> String {
    format!(
        "{}/{version}/{}/backups",
        server.endpoint(),
        server.project_id()
    )
}

pub fn ids(page: &Value) -> Vec<String> {
    page["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn next(page: &Value) -> Option<String> {
    let links = page.get("backups_links")?;
    let link = links.as_array().unwrap().first().unwrap();
    assert_eq!(link["rel"], "next");
    Some(link["href"].as_str().unwrap().to_owned())
}

/// Follows next links verbatim; returns the ids seen and each page's size.
pub async fn walk(server: &FakeServer, first: String) -> (Vec<String>, Vec<usize>) {
    let (mut seen, mut sizes) = (Vec::new(), Vec::new());
    let mut url = Some(first);
    while let Some(current) = url {
        assert!(sizes.len() < 500, "walk does not end");
        let reply = get_url(server, &current).await;
        assert_eq!(reply.status, 200, "{current}: {}", reply.text);
        let page = reply.json();
        let page_ids = ids(&page);
        sizes.push(page_ids.len());
        seen.extend(page_ids);
        url = next(&page);
    }
    (seen, sizes)
}

pub fn all_ids(backups: &[FakeBackup]) -> Vec<String> {
    backups.iter().map(|backup| backup.id.clone()).collect()
}

pub fn ids_where(server: &FakeServer, keep: impl Fn(&FakeBackup) -> bool) -> Vec<String> {
    server
        .backups()
        .into_iter()
        .filter(|backup| keep(backup))
        .map(|backup| backup.id)
        .collect()
}

pub fn bad_request(message: &str) -> String {
    format!(r#"{{"badRequest": {{"code": 400, "message": "{message}"}}}}"#)
}

/// GETs an absolute URL with the server's token and, if given, `OpenStack-API-Version: <value>`.
pub async fn get_versioned(server: &FakeServer, url: &str, version: Option<&str>) -> Reply {
    let mut request = http().get(url);
    if let Some(token) = server.token() {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(version) = version {
        request = request.header("OpenStack-API-Version", version);
    }
    send(request).await
}

pub fn detail_collection(server: &FakeServer, version: &str) -> String {
    format!("{}/detail", collection(server, version))
}
