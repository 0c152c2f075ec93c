//! A minimal careful client for this crate's own documentation examples, which show what
//! the server answers without depending on the `vbs-backups` library. Not part of the
//! API: it may change or go in any release.

pub use serde_json::Value;

/// What the helpers fail with.
pub type BoxError = Box<dyn std::error::Error>;

/// GETs `url` with the server's token, if any: the status and the JSON body.
pub async fn get(
    server: &crate::server_handle::FakeServer,
    url: &str,
) -> Result<(u16, Value), BoxError> {
    let mut request = reqwest::Client::builder().no_proxy().build()?.get(url);
    if let Some(token) = server.token() {
        request = request.header("X-Auth-Token", token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, serde_json::from_str(&response.text().await?)?))
}

/// GETs `url`, then each page's next link (its query, on the server's endpoint, as a
/// careful client does); returns every page.
pub async fn walk(
    server: &crate::server_handle::FakeServer,
    url: String,
) -> Result<Vec<Value>, BoxError> {
    let (mut pages, mut next) = (Vec::new(), Some(url));
    while let Some(url) = next.take() {
        let (status, page) = get(server, &url).await?;
        if status != 200 {
            return Err(format!("{status}: {page}").into());
        }
        let base = url.split('?').next().unwrap_or_default();
        next = page
            .get("backups_links")
            .and_then(|links| links[0]["href"].as_str())
            .map(|href| {
                let query = href.split_once('?').map_or("", |(_, query)| query);
                format!("{base}?{query}")
            });
        pages.push(page);
    }
    Ok(pages)
}

/// The ids of every entry of these pages, in order.
pub fn ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| page["backups"].as_array().cloned().unwrap_or_default())
        .map(|backup| backup["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The number of entries of each page.
pub fn sizes(pages: &[Value]) -> Vec<usize> {
    pages
        .iter()
        .map(|page| page["backups"].as_array().map_or(0, Vec::len))
        .collect()
}
