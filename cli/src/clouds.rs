//! The OpenStack side of an estate, for `list`, `stats` and `audit` alike: each cloud's
//! project, or with `--every-project` every project each cloud reaches, every request
//! under one budget.

use vbs_backups::{BackupService, Client, Error, OpenStackConfig, RequestBudget, Scope};

use crate::args::GlobalArgs;
use crate::connect;

/// What the clouds reach: scopes with their clients, scopes that could not be
/// connected to (with why), and the projects left out.
#[derive(Default)]
pub struct Reached {
    pub scopes: Vec<(Scope, Client)>,
    pub unreachable: Vec<(Scope, Error)>,
    pub skipped: Vec<String>,
}

/// Connects to `clouds` (none: the one the environment and flags name). With several
/// clouds, one that cannot be reached (an expired password, Keystone down) is an
/// unreachable scope beside the others; alone, it is the run's error.
pub async fn reach(
    global: &GlobalArgs,
    clouds: &[String],
    every_project: bool,
    budget: &RequestBudget,
) -> Result<Reached, Error> {
    let vars = connect::environment();
    let clouds: Vec<Option<String>> = if clouds.is_empty() {
        vec![None]
    } else {
        clouds.iter().cloned().map(Some).collect()
    };
    let several = clouds.len() > 1;
    let mut reached = Reached::default();
    for cloud in clouds {
        let mut flags = connect::flags(global);
        flags.cloud = cloud.or(flags.cloud);
        flags.budget = Some(budget.clone());
        let config = OpenStackConfig::from_env_vars(vars.iter().map(|(key, value)| (key, value)))
            .merge(flags)
            .with_clouds_yaml()?;
        let connected = if every_project {
            config.estate().await.map(|found| {
                reached.skipped.extend(
                    found
                        .skipped
                        .iter()
                        .map(|p| format!("project {} ({}): disabled", p.name, p.id)),
                );
                reached.scopes.extend(found.scopes);
                reached.unreachable.extend(found.unreachable);
            })
        } else {
            connect::connect_with(&config).await.map(|client| {
                let scope = cloud_scope(&config, Some(client.project_id()));
                reached.scopes.push((scope, client));
            })
        };
        match connected {
            Ok(()) => {}
            Err(error) if several => {
                reached
                    .unreachable
                    .push((cloud_scope(&config, None), error));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(reached)
}

/// A cloud's one scope: its project as connected (`project_id`), or, for a cloud that
/// could not be reached, as configured (id, else name, else every project it reaches).
fn cloud_scope(config: &OpenStackConfig, project_id: Option<&str>) -> Scope {
    let configured = config.project_id.as_deref();
    let mut scope = Scope::new(
        BackupService::Vbs,
        config.region_name.clone().unwrap_or_default(),
        project_id.or(configured).unwrap_or_default(),
    );
    if project_id.is_none() && configured.is_none() {
        scope = scope.project_name(config.project_name.as_deref().unwrap_or("every project"));
    }
    if let Some(cloud) = &config.cloud {
        scope = scope.cloud(cloud);
    }
    scope
}
