//! [`Quirk`]: the real-world deviations from Cinder's behaviour the server can reproduce.

/// A real-world deviation from Cinder's behaviour; several can be active at once.
///
/// All quirks except [`EmptyPagesLinkOn`](Quirk::EmptyPagesLinkOn) change only the `next`
/// link, never which items a page holds.
///
/// ```
/// use vbs_backups_testing::{FakeServer, Quirk};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder()
///     .backups(9)
///     .quirk(Quirk::NoVersionPrefix)
///     .quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into()))
///     .start()
///     .await?;
/// let url = format!("{}/v2/{}/backups?limit=4", server.endpoint(), server.project_id());
/// let (_, page) = get(&server, &url).await?;
/// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
/// assert!(next.starts_with(&format!("http://vbs-internal.invalid:8776/{}/backups?", server.project_id())));
///
/// // A client that keeps to its endpoint and takes only the query of each next link gets all.
/// assert_eq!(ids(&walk(&server, url).await?).len(), 9);
/// assert!(server.requests().iter().all(|r| r.host == Some(server.addr().to_string())));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// The next link has no version segment, like the Huawei API reference's example:
    /// `http://host{prefix}/{project_id}/backups?…`.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::NoVersionPrefix).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    NoVersionPrefix,
    /// The next link's authority is replaced by this `host:port`, like an internal address
    /// leaking through a gateway (point it at a second loopback listener to catch a client that
    /// follows it).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into())).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("http://vbs-internal.invalid:8776/v3/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    OtherHost(String),
    /// The next link says `https` although the server speaks plain HTTP, like a TLS-terminating
    /// proxy in front of it. No change on a server that speaks HTTPS.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::HttpsScheme).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("https://{}/v3/{project}/backups?limit=1&marker={first}", server.addr()));
    /// # Ok(())
    /// # }
    /// ```
    HttpsScheme,
    /// The next link is path-absolute, without scheme and authority:
    /// `{prefix}/v3/{project_id}/backups?…`. Takes precedence over `OtherHost` and `HttpsScheme`.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::RelativeLink).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("/v3/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    RelativeLink,
    /// The next link loses the `name`, `status`, `volume_id` and `limit` parameters (it keeps
    /// `marker`, `offset` and everything else).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::DropFilters).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = server.backups().into_iter().find(|b| b.status == "available").map(|b| b.id).unwrap_or_default();
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?status=available&limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/v3/{project}/backups?marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    DropFilters,
    /// The next link has no `marker` parameter. Takes precedence over `RepeatMarker`.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::NoMarker).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1&offset=0")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/v3/{project}/backups?limit=1&offset=0"));
    /// # Ok(())
    /// # }
    /// ```
    NoMarker,
    /// The next link's marker is always the id of the first backup in the listing's order (the
    /// server's, or the one `sort` asks for): a broken server whose walk would never end.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).quirk(Quirk::RepeatMarker).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=1", server.endpoint(), server.project_id());
    /// let (_, first) = get(&server, &url).await?;
    /// let next = first["backups_links"][0]["href"].as_str().unwrap_or_default().to_owned();
    /// let (_, second) = get(&server, &next).await?;
    /// // The same next link again: a client must notice that the walk would never end.
    /// assert_eq!(second["backups_links"][0]["href"].as_str(), Some(next.as_str()));
    /// # Ok(())
    /// # }
    /// ```
    RepeatMarker,
    /// Filters are applied after the page is cut, as some backends do: a page takes `limit` rows
    /// after marker and offset ignoring the filters, links on (with the marker of the last of
    /// those rows) if it took `limit` rows, and only then drops rows that do not match. Pages can
    /// be short or even empty, yet link on.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(40).quirk(Quirk::EmptyPagesLinkOn).start().await?;
    /// let url = format!("{}/v2/{}/backups?status=error&limit=3", server.endpoint(), server.project_id());
    /// // Short and empty pages along the way, yet every match, once.
    /// let pages = walk(&server, url).await?;
    /// assert!(sizes(&pages).contains(&0));
    /// let expected: Vec<_> = server.backups().into_iter().filter(|b| b.status == "error").map(|b| b.id).collect();
    /// assert_eq!(ids(&pages), expected);
    /// # Ok(())
    /// # }
    /// ```
    EmptyPagesLinkOn,
}
