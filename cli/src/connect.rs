//! The connect step every command that talks to a cloud shares: the client that the
//! flags, the `OS_*` variables, clouds.yaml or Huawei Cloud AK/SK credentials describe.

use vbs_backups::huawei::{HuaweiConfig, Service as HuaweiService};
use vbs_backups::{Client, HttpOptions, OpenStackConfig};

use crate::args::{GlobalArgs, Service};
use crate::report;
use crate::ui::{Exit, Ui};

/// Connects as [`connect`] does, unless Ctrl-C comes first; a failure is reported on
/// stderr and comes back as the exit the command should end with.
///
/// This is the step a new command calls first: `let client = connect::client(global,
/// ui).await?;` in a function returning `Result<_, Exit>`.
pub async fn client(global: &GlobalArgs, ui: &Ui) -> Result<Client, Exit> {
    let mut interrupt = ui.interrupt();
    let connected = tokio::select! {
        biased;
        () = interrupt.wait() => {
            report::stderr_line("interrupted while connecting");
            return Err(Exit::Interrupted);
        }
        connected = connect(global) => connected,
    };
    connected.map_err(|err| {
        report::error(&err, None);
        Exit::Failed
    })
}

/// The process environment, read once: the variables whose names and values are UTF-8
/// (the others cannot be settings the command understands).
pub fn environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// The configuration the command runs with: the flags over `OS_*` variables over the
/// clouds.yaml entry of `--os-cloud` / `OS_CLOUD`.
///
/// `--token` with `--endpoint` sends the token straight to the endpoint (the `openstack`
/// command's `token_endpoint`), whatever Keystone the environment names.
pub fn config(
    global: &GlobalArgs,
    vars: &[(String, String)],
) -> vbs_backups::Result<OpenStackConfig> {
    OpenStackConfig::from_env_vars(vars.iter().map(|(key, value)| (key, value)))
        .merge(flags(global))
        .with_clouds_yaml()
}

/// The flags as a configuration layer.
pub fn flags(global: &GlobalArgs) -> OpenStackConfig {
    let mut flags = OpenStackConfig::default();
    flags.cloud = global.os_cloud().cloned();
    flags.endpoint_override = global.endpoint.clone();
    flags.project_id = global.project_id.clone();
    flags.token = global.token.clone().map(Into::into);
    flags.region_name = global.region.clone();
    flags.volume_api_version = global.api_version.clone();
    flags.api_timeout = global.timeout.as_ref().map(|timeout| timeout.duration);
    flags.budget = global
        .estate
        .max_rate
        .map(vbs_backups::RequestBudget::with_max_rate);
    if flags.token.is_some() && flags.endpoint_override.is_some() {
        flags.auth_type = Some("token_endpoint".to_owned());
    }
    flags
}

/// Authenticates as `global` and the environment say and returns the client: signed
/// with Huawei Cloud AK/SK when [`huawei_config`] finds them, else through Keystone or a
/// token.
pub async fn connect(global: &GlobalArgs) -> vbs_backups::Result<Client> {
    let vars = environment();
    if let Some(config) = huawei_config(global, &vars)? {
        tracing::debug!(?config, "Huawei Cloud AK/SK configuration");
        return config.connect().await;
    }
    let config = config(global, &vars)?;
    tracing::debug!(?config, "configuration");
    connect_with(&config).await
}

/// The Huawei Cloud AK/SK configuration, when the command signs with AK/SK:
///
/// 1. `--token` or `--os-cloud` on the command line: never (the flags choose OpenStack).
/// 2. `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK` set, or a credentials file named by
///    `HUAWEICLOUD_SDK_CREDENTIALS_FILE`: AK/SK (a named file that cannot be read is an
///    error).
/// 3. OpenStack settings in the environment (`OS_AUTH_URL`, `OS_AUTH_TOKEN`, `OS_CLOUD`):
///    never.
/// 4. AK and SK in the `[basic]` section of `~/.huaweicloud/credentials`: AK/SK.
///
/// The flags then win: `--region` over `HW_REGION_NAME` over `OS_REGION_NAME`,
/// `--project-id` over `HUAWEICLOUD_SDK_PROJECT_ID` (and the file's `project_id`), and
/// `--endpoint` over `HUAWEICLOUD_SDK_REGION_{VBS,CBR}_{REGION}` and the region's endpoint.
pub fn huawei_config(
    global: &GlobalArgs,
    vars: &[(String, String)],
) -> vbs_backups::Result<Option<HuaweiConfig>> {
    if global.token.is_some() || global.os_cloud().is_some() {
        return Ok(None);
    }
    let set = |name: &str| {
        vars.iter()
            .any(|(key, value)| key == name && !value.trim().is_empty())
    };
    let env = HuaweiConfig::from_env_vars(vars.iter().map(|(k, v)| (k, v)));
    let named = env.credentials().is_ok() || set("HUAWEICLOUD_SDK_CREDENTIALS_FILE");
    if !named
        && ["OS_AUTH_URL", "OS_AUTH_TOKEN", "OS_CLOUD"]
            .into_iter()
            .any(set)
    {
        return Ok(None);
    }
    let config = env.with_credentials_file()?;
    if config.credentials().is_err() {
        return Ok(None);
    }
    let mut config = config.service(match global.service() {
        Service::Vbs => HuaweiService::Vbs,
        Service::Cbr => HuaweiService::Cbr,
    });
    if let Some(region) = &global.region {
        config = config.region(region);
    }
    if let Some(project_id) = &global.project_id {
        config = config.project_id(project_id);
    }
    if let Some(endpoint) = &global.endpoint {
        config = config.endpoint(endpoint);
    }
    let mut http = HttpOptions::new().user_agent(USER_AGENT);
    if let Some(timeout) = &global.timeout {
        http = http.timeout(timeout.duration);
    }
    if let Some(rate) = global.estate.max_rate {
        http = http.budget(vbs_backups::RequestBudget::with_max_rate(rate));
    }
    Ok(Some(config.http(http)))
}

/// How the command introduces itself.
const USER_AGENT: &str = concat!("vbs-backups/", env!("CARGO_PKG_VERSION"));

/// The client for `config`, introducing itself as this command.
pub async fn connect_with(config: &OpenStackConfig) -> vbs_backups::Result<Client> {
    let builder = Client::builder().user_agent(USER_AGENT);
    config.connect_with(builder).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn ak_sk_signing_is_chosen_as_documented() {
        let ak_sk = [
            ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
            ("HUAWEICLOUD_SDK_SK", "secret"),
            ("HOME", "/nonexistent"),
        ];
        let openstack = [
            ("OS_AUTH_URL", "http://keystone.invalid:5000/v3"),
            ("HOME", "/nonexistent"),
        ];
        let none = GlobalArgs::default();
        let chosen = |global: &GlobalArgs, pairs: &[(&str, &str)]| {
            huawei_config(global, &vars(pairs)).unwrap().is_some()
        };
        // AK and SK in the environment sign, even beside OS_* variables.
        assert!(chosen(&none, &ak_sk));
        assert!(chosen(&none, &[&ak_sk[..], &openstack[..]].concat()));
        // --token or --os-cloud on the command line choose OpenStack.
        let token = GlobalArgs {
            token: Some("t".into()),
            ..GlobalArgs::default()
        };
        let cloud = GlobalArgs {
            os_cloud: vec!["c".into()],
            ..GlobalArgs::default()
        };
        assert!(!chosen(&token, &ak_sk));
        assert!(!chosen(&cloud, &ak_sk));
        // An AK alone does not sign; nor does nothing at all.
        assert!(!chosen(&none, &ak_sk[..1]));
        assert!(!chosen(&none, &openstack));

        // The default credentials file signs only without OS_* settings; a named one always.
        let home = tempfile_dir();
        std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
        let file = home.join(".huaweicloud/credentials");
        std::fs::write(&file, "[basic]\nak = HPUAFILE\nsk = file-secret\n").unwrap();
        let home_var = ("HOME", home.to_str().unwrap());
        assert!(chosen(&none, &[home_var]));
        assert!(!chosen(&none, &[home_var, openstack[0]]));
        assert!(!chosen(&none, &[home_var, ("OS_CLOUD", "c")]));
        let named = ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file.to_str().unwrap());
        assert!(chosen(
            &none,
            &[named, openstack[0], ("HOME", "/nonexistent")]
        ));
        let missing = (
            "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
            "/nonexistent/credentials",
        );
        assert!(huawei_config(&none, &vars(&[missing])).is_err());
        std::fs::remove_dir_all(&home).unwrap();
    }

    /// A fresh directory under the system's temporary one.
    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vbs-backups-cli-unit-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn flags_win_over_the_huawei_environment() {
        let global = GlobalArgs {
            region: Some("ap-southeast-1".into()),
            project_id: Some("p-flag".into()),
            ..GlobalArgs::default()
        };
        let env = vars(&[
            ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
            ("HUAWEICLOUD_SDK_SK", "secret"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p-env"),
            ("HW_REGION_NAME", "cn-north-4"),
            ("HOME", "/nonexistent"),
        ]);
        let config = huawei_config(&global, &env).unwrap().unwrap();
        assert_eq!(config.region_name(), Some("ap-southeast-1"));
        assert_eq!(config.project_id_setting(), Some("p-flag"));
        assert_eq!(
            config.service_endpoint().unwrap(),
            "https://vbs.ap-southeast-1.myhuaweicloud.com"
        );
        let global = GlobalArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            ..GlobalArgs::default()
        };
        let config = huawei_config(&global, &env).unwrap().unwrap();
        assert_eq!(config.region_name(), Some("cn-north-4"));
        assert_eq!(config.project_id_setting(), Some("p-env"));
        assert_eq!(config.service_endpoint().unwrap(), "http://127.0.0.1:1");
    }

    #[test]
    fn flags_layer_over_the_environment_and_a_token_with_an_endpoint_goes_direct() {
        let global = GlobalArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            token: Some("t".into()),
            project_id: Some("p-flag".into()),
            ..GlobalArgs::default()
        };
        let env = OpenStackConfig::from_env_vars([
            ("OS_AUTH_URL", "http://keystone.invalid:5000"),
            ("OS_PROJECT_ID", "p-env"),
            ("OS_REGION_NAME", "r1"),
        ]);
        let merged = env.merge(flags(&global));
        assert_eq!(merged.project_id.as_deref(), Some("p-flag"));
        assert_eq!(merged.region_name.as_deref(), Some("r1"));
        assert_eq!(merged.auth_type.as_deref(), Some("token_endpoint"));
        assert!(merged.keystone_auth().is_err(), "no Keystone involved");
    }
}
