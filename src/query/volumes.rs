//! The volumes collection: the Cinder-compatible `GET /{v2|v3}/{project_id}/volumes/detail`,
//! as OpenStack Cinder and Huawei EVS serve it, its filters, and the client's entry point.

use std::collections::BTreeMap;

use super::Listing;
use crate::client::Client;
use crate::model::{Hooks, Listed, Pagination, Volume};

/// A listing of volumes: [`Listing`] with the volume filters (`status`, `name`,
/// `metadata`).
///
/// Pages link on like Cinder's backups (`volumes_links`, `marker` = the last id), so the
/// walk has every rule of the backup walk: loop guard, step back over a vanished marker,
/// `max_items`, prefetch, cursors. On OpenStack the client is the one that lists backups
/// (Cinder serves both on one endpoint); on Huawei Cloud it is EVS's:
/// `HuaweiConfig::service(Service::Evs)` (feature `huawei`).
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
///
/// let mut volumes = client.volumes().status("in-use").metadata("team", "db").stream();
/// while let Some(volume) = volumes.next().await {
///     let volume = volume?;
///     println!("{} {:?} {:?} GiB", volume.id, volume.name, volume.size);
/// }
/// # Ok(()) }
/// ```
pub type ListVolumes = Listing<Volume>;

impl Listed for Volume {
    const COLLECTION: &'static str = "volumes/detail";
    const ITEMS_KEY: &'static str = "volumes";
    const PAGINATION: Pagination = Pagination::NextLink;

    fn marker(&self) -> &str {
        &self.id
    }
}

impl Hooks for Volume {}

impl Client {
    /// Starts a listing of this project's volumes (`/volumes/detail`).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let all: Vec<vbs_backups::Volume> = client.volumes().stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn volumes(&self) -> ListVolumes {
        Listing::new(self.clone())
    }
}

/// The name of the metadata filter, sent as one JSON object of every pair asked for.
const METADATA: &str = "metadata";

impl Listing<Volume> {
    /// Only volumes in this status (`available`, `in-use`, `error`…).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.volumes().status("available"); }
    /// ```
    pub fn status(self, status: impl Into<String>) -> Self {
        self.set_filter("status", status)
    }

    /// Only volumes with exactly this name.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.volumes().name("data-disk"); }
    /// ```
    pub fn name(self, name: impl Into<String>) -> Self {
        self.set_filter("name", name)
    }

    /// Only volumes whose metadata has `key` set to `value`; called again, volumes that
    /// have every pair given. Sent as Cinder and EVS take it: one parameter,
    /// `metadata={"key": "value", …}`.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// let q = client.volumes().metadata("team", "db").metadata("tier", "gold");
    /// # }
    /// ```
    pub fn metadata(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let mut pairs: BTreeMap<String, String> = self
            .filter(METADATA)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        pairs.insert(key.into(), value.into());
        let json = serde_json::to_string(&pairs).unwrap_or_default();
        self.set_filter(METADATA, json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_are_merged_into_one_json_object() {
        let client = Client::builder()
            .endpoint("http://127.0.0.1:1/v3/p")
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let listing = client
            .volumes()
            .metadata("tier", "gold")
            .metadata("team", "d\"b")
            .metadata("tier", "silver");
        assert_eq!(
            listing.filter(METADATA),
            Some(r#"{"team":"d\"b","tier":"silver"}"#)
        );
    }
}
