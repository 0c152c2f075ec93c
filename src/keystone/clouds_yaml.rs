//! `clouds.yaml` and `secure.yaml`: where they are looked for, and how one cloud's entry
//! becomes a layer of settings, an [`OpenStackConfig`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::Value;

use super::Secret;
use super::settings::{OpenStackConfig, SearchDirs};
use crate::error::{Error, Result};

/// The names `clouds.yaml` may have in each directory of the search path.
const CLOUDS_FILES: [&str; 2] = ["clouds.yaml", "clouds.yml"];
/// The names of the file that keeps secrets apart from `clouds.yaml`.
const SECURE_FILES: [&str; 2] = ["secure.yaml", "secure.yml"];

impl SearchDirs {
    fn from_process() -> Self {
        let var = |name: &str| crate::environment::variable(name).map(PathBuf::from);
        Self {
            home: var("HOME"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
        }
    }

    /// `./`, `$XDG_CONFIG_HOME/openstack`, `~/.config/openstack`, `/etc/openstack`.
    fn directories(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Ok(cwd) = std::env::current_dir() {
            dirs.push(cwd);
        }
        if let Some(xdg) = &self.xdg_config_home {
            dirs.push(xdg.join("openstack"));
        }
        if let Some(home) = &self.home {
            dirs.push(home.join(".config").join("openstack"));
        }
        dirs.push(PathBuf::from("/etc/openstack"));
        dirs.dedup();
        dirs
    }
}

impl OpenStackConfig {
    /// Reads the entry `cloud` of the `clouds:` section of a `clouds.yaml` file: the
    /// `auth:` keys `auth_url`, `username`, `user_id`, `password`, `user_domain_name`,
    /// `user_domain_id`, `project_id` (or `tenant_id`), `project_name` (or `tenant_name`),
    /// `project_domain_name`, `project_domain_id`, `application_credential_id`,
    /// `application_credential_name`, `application_credential_secret` and `token`, and
    /// the top-level `auth_type`, `region_name`, `interface` (or `endpoint_type`),
    /// `cacert`, `volume_api_version` (or `block_storage_api_version`),
    /// `block_storage_endpoint_override` (or `volume_endpoint_override`) and
    /// `api_timeout`. Other keys are ignored.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming the file when it cannot be read,
    /// is not YAML, has no such cloud (the message lists those it has) or a value of the
    /// wrong type.
    ///
    /// ```
    /// use vbs_backups::OpenStackConfig;
    ///
    /// let dir = std::env::temp_dir().join(format!("vbs-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("clouds.yaml");
    /// std::fs::write(&file, "
    /// clouds:
    ///   prod:
    ///     auth:
    ///       auth_url: https://keystone.example.com:5000/v3
    ///       username: alice
    ///       user_domain_name: Default
    ///       project_name: demo
    ///       project_domain_name: Default
    ///     region_name: RegionOne
    ///     volume_api_version: 3
    /// ").unwrap();
    ///
    /// let config = OpenStackConfig::from_clouds_yaml(&file, "prod")?;
    /// assert_eq!(config.username.as_deref(), Some("alice"));
    /// assert_eq!(config.volume_api_version.as_deref(), Some("3"));
    ///
    /// let err = OpenStackConfig::from_clouds_yaml(&file, "staging").unwrap_err();
    /// assert!(err.to_string().contains("it has: prod"));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn from_clouds_yaml(path: impl AsRef<Path>, cloud: &str) -> Result<Self> {
        let path = path.as_ref();
        let entry = read_cloud(path, cloud)?.ok_or_else(|| {
            let names = cloud_names(path).unwrap_or_default();
            Error::config(format!(
                "cloud `{cloud}` is not in {} (it has: {})",
                path.display(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ))
        })?;
        let mut config = Self::from_cloud_entry(&entry, path, cloud)?;
        config.cloud = Some(cloud.to_owned());
        Ok(config)
    }

    /// Lays this configuration over the `clouds.yaml` entry of [`cloud`](Self::cloud), if
    /// one is named (`OS_CLOUD`, `--os-cloud`); without one it is returned as it is.
    ///
    /// The file is [`client_config_file`](Self::client_config_file) when set, otherwise
    /// the first `clouds.yaml` (or `clouds.yml`) found in the current directory,
    /// `$XDG_CONFIG_HOME/openstack`, `~/.config/openstack` and `/etc/openstack`. A
    /// `secure.yaml` found the same way (or [`client_secure_file`](Self::client_secure_file))
    /// adds its entry's values, typically passwords, on top of `clouds.yaml`'s.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when a cloud is named but no
    /// `clouds.yaml` is found (the message lists where it looked), or as for
    /// [`from_clouds_yaml`](Self::from_clouds_yaml).
    ///
    /// ```
    /// use vbs_backups::OpenStackConfig;
    ///
    /// let dir = std::env::temp_dir().join(format!("vbs-doc-layer-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("clouds.yaml");
    /// std::fs::write(&file, "clouds: {lab: {auth: {auth_url: 'http://lab:5000', project_id: p1}, region_name: r1}}").unwrap();
    ///
    /// let config = OpenStackConfig::from_env_vars([
    ///     ("OS_CLOUD", "lab"),
    ///     ("OS_CLIENT_CONFIG_FILE", file.to_str().unwrap()),
    ///     ("OS_REGION_NAME", "r2"),
    /// ])
    /// .with_clouds_yaml()?;
    /// assert_eq!(config.auth_url.as_deref(), Some("http://lab:5000")); // from clouds.yaml
    /// assert_eq!(config.region_name.as_deref(), Some("r2")); // the environment wins
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn with_clouds_yaml(self) -> Result<Self> {
        let Some(cloud) = self.cloud.clone() else {
            return Ok(self);
        };
        let dirs = self.dirs.clone().unwrap_or_else(SearchDirs::from_process);
        let directories = dirs.directories();
        let file = match &self.client_config_file {
            Some(file) => {
                if !file.is_file() {
                    return Err(Error::config(format!(
                        "OS_CLIENT_CONFIG_FILE / client_config_file {} does not exist",
                        file.display()
                    )));
                }
                file.clone()
            }
            None => find_file(&directories, &CLOUDS_FILES).ok_or_else(|| {
                Error::config(format!(
                    "cloud `{cloud}` was asked for (OS_CLOUD / --os-cloud), but there is no \
                     clouds.yaml in {}",
                    directories
                        .iter()
                        .map(|dir| dir.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        let mut base = Self::from_clouds_yaml(&file, &cloud)?;
        let secure = match &self.client_secure_file {
            Some(file) => Some(file.clone()),
            None => find_file(&directories, &SECURE_FILES),
        };
        if let Some(secure) = secure {
            if let Some(entry) = read_cloud(&secure, &cloud)? {
                base = base.layer(Self::from_cloud_entry(&entry, &secure, &cloud)?);
            }
        }
        tracing::debug!(cloud, file = %file.display(), "read clouds.yaml");
        Ok(base.merge(self))
    }

    /// Reads one cloud's entry of a `clouds.yaml` (or `secure.yaml`).
    fn from_cloud_entry(entry: &Value, path: &Path, cloud: &str) -> Result<Self> {
        let at = |key: &str| format!("{} (cloud `{cloud}`, key `{key}`)", path.display());
        let auth = match entry.get("auth") {
            None | Some(Value::Null) => None,
            Some(auth @ Value::Mapping(_)) => Some(auth),
            Some(_) => return Err(Error::config(format!("{}: not a mapping", at("auth")))),
        };
        let top = |key: &str| scalar(entry.get(key), &at(key));
        let auth_key = |key: &str| match auth {
            Some(auth) => scalar(auth.get(key), &at(&format!("auth.{key}"))),
            None => Ok(None),
        };
        let first = |values: [Option<String>; 2]| {
            let [a, b] = values;
            a.or(b)
        };
        let api_timeout = top("api_timeout")?
            .map(|text| {
                text.parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        Error::config(format!(
                            "{}: `{text}` is not a number of seconds",
                            at("api_timeout")
                        ))
                    })
            })
            .transpose()?;
        Ok(Self {
            cloud: Some(cloud.to_owned()),
            auth_type: top("auth_type")?,
            auth_url: auth_key("auth_url")?,
            username: auth_key("username")?,
            user_id: auth_key("user_id")?,
            password: auth_key("password")?.map(Secret::from),
            user_domain_name: auth_key("user_domain_name")?,
            user_domain_id: auth_key("user_domain_id")?,
            project_id: first([auth_key("project_id")?, auth_key("tenant_id")?]),
            project_name: first([auth_key("project_name")?, auth_key("tenant_name")?]),
            project_domain_name: auth_key("project_domain_name")?,
            project_domain_id: auth_key("project_domain_id")?,
            application_credential_id: auth_key("application_credential_id")?,
            application_credential_name: auth_key("application_credential_name")?,
            application_credential_secret: auth_key("application_credential_secret")?
                .map(Secret::from),
            token: auth_key("token")?.map(Secret::from),
            region_name: top("region_name")?,
            interface: first([top("interface")?, top("endpoint_type")?]),
            cacert: top("cacert")?.map(PathBuf::from),
            volume_api_version: first([
                top("volume_api_version")?,
                top("block_storage_api_version")?,
            ]),
            endpoint_override: first([
                top("block_storage_endpoint_override")?,
                top("volume_endpoint_override")?,
            ]),
            api_timeout,
            ..Self::default()
        })
    }
}

/// A YAML scalar as text (numbers like `volume_api_version: 3` included); empty is unset.
fn scalar(value: Option<&Value>, at: &str) -> Result<Option<String>> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(_) => return Err(Error::config(format!("{at}: not a single value"))),
    };
    Ok(Some(text).filter(|text| !text.trim().is_empty()))
}

fn read_yaml(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::config(format!("cannot read {}", path.display())).with_source(err))?;
    serde_yaml_ng::from_str(&text)
        .map_err(|err| Error::config(format!("{} is not valid YAML: {err}", path.display())))
}

/// The `clouds:` mapping of a file.
fn clouds_section(path: &Path, yaml: &Value) -> Result<serde_yaml_ng::Mapping> {
    match yaml.get("clouds") {
        Some(Value::Mapping(clouds)) => Ok(clouds.clone()),
        _ => Err(Error::config(format!(
            "{} has no `clouds:` section",
            path.display()
        ))),
    }
}

/// The entry of `cloud` in a `clouds.yaml`-shaped file, if it has one.
fn read_cloud(path: &Path, cloud: &str) -> Result<Option<Value>> {
    let yaml = read_yaml(path)?;
    let clouds = clouds_section(path, &yaml)?;
    match clouds.get(cloud) {
        None => Ok(None),
        Some(entry @ Value::Mapping(_)) => Ok(Some(entry.clone())),
        Some(_) => Err(Error::config(format!(
            "{}: cloud `{cloud}` is not a mapping",
            path.display()
        ))),
    }
}

fn cloud_names(path: &Path) -> Result<Vec<String>> {
    let yaml = read_yaml(path)?;
    Ok(clouds_section(path, &yaml)?
        .keys()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect())
}

fn find_file(directories: &[PathBuf], names: &[&str]) -> Option<PathBuf> {
    directories
        .iter()
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|file| file.is_file())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn config(vars: &[(&str, &str)]) -> OpenStackConfig {
        OpenStackConfig::from_env_vars(vars.iter().copied())
    }

    #[test]
    fn yaml_values_of_the_wrong_shape_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clouds.yaml");
        std::fs::write(&file, "clouds:\n  c:\n    auth:\n      username: [a, b]\n").unwrap();
        let err = OpenStackConfig::from_clouds_yaml(&file, "c").unwrap_err();
        assert!(err.to_string().contains("auth.username"), "{err}");
        std::fs::write(&file, "clouds: [").unwrap();
        let err = OpenStackConfig::from_clouds_yaml(&file, "c").unwrap_err();
        assert!(err.to_string().contains("not valid YAML"), "{err}");
        std::fs::write(&file, "other: {}").unwrap();
        let err = OpenStackConfig::from_clouds_yaml(&file, "c").unwrap_err();
        assert!(err.to_string().contains("no `clouds:` section"), "{err}");
        std::fs::write(&file, "clouds: {c: {api_timeout: soon}}").unwrap();
        let err = OpenStackConfig::from_clouds_yaml(&file, "c").unwrap_err();
        assert!(err.to_string().contains("api_timeout"), "{err}");
    }

    #[test]
    fn missing_clouds_yaml_lists_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let config = config(&[("OS_CLOUD", "nowhere"), ("HOME", home)]);
        match config.with_clouds_yaml() {
            // The machine may have a clouds.yaml of its own in the current or /etc dir.
            Ok(_) => {}
            Err(err) => {
                let text = err.to_string();
                assert!(
                    text.contains(".config/openstack") || text.contains("is not in"),
                    "{text}"
                );
            }
        }
        let missing = OpenStackConfig::from_env_vars([
            ("OS_CLOUD", "x"),
            ("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml"),
        ])
        .with_clouds_yaml()
        .unwrap_err();
        assert!(missing.to_string().contains("does not exist"), "{missing}");
    }
}
