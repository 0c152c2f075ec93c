//! The scopes an audit reads: one, as `--region` / `--project-id` say, or every project of
//! the estate the scope flags name (`--regions`, `--all-regions`, `--every-project`,
//! several `--os-cloud`), each with the client of its volumes and one per backup service.

use vbs_backups::coverage::{BackupService, Scope, ScopeListing};
use vbs_backups::huawei::Service as HuaweiService;
use vbs_backups::{Client, Error, RequestBudget};

use crate::args::{GlobalArgs, Service};
use crate::{clouds, connect};

/// One (region, project): where its volumes and its backups in each service are listed.
pub struct AuditScope {
    pub scope: Scope,
    pub volumes: Client,
    pub backups: Vec<(BackupService, Client)>,
}

/// The scopes to audit, those that could not be connected to (each listing of theirs
/// fails), and the projects left out (with why).
pub struct Planned {
    pub scopes: Vec<AuditScope>,
    pub unreachable: Vec<Unreachable>,
    pub skipped: Vec<String>,
}

/// A project the credentials reach but that could not be connected to.
pub struct Unreachable {
    pub scope: Scope,
    pub listings: Vec<ScopeListing>,
    pub error: Error,
}

/// Whether the scope flags name more than one scope.
pub fn is_estate(global: &GlobalArgs) -> bool {
    let estate = &global.estate;
    !estate.regions.is_empty()
        || estate.all_regions
        || estate.every_project
        || global.os_cloud.len() > 1
}

/// What the estate's flags exclude, checked before anything is sent.
pub fn check(global: &GlobalArgs) -> Result<(), String> {
    let estate = &global.estate;
    if estate.checkpoint.is_some() {
        return Err(
            "--checkpoint: an audit is not resumable (it reads each scope's volumes \
                    and backups once, and is cheap to rerun): leave it out"
                .to_owned(),
        );
    }
    if !is_estate(global) {
        return Ok(());
    }
    if estate.every_project && !estate.regions.is_empty() {
        return Err("--every-project and --regions exclude each other".to_owned());
    }
    if global.project_id.is_some() || global.endpoint.is_some() {
        return Err(
            "--project-id and --endpoint name one scope: leave them out of an estate audit"
                .to_owned(),
        );
    }
    Ok(())
}

/// The scopes the flags name, every request under `budget`.
pub async fn plan(
    global: &GlobalArgs,
    services: &[Service],
    budget: &RequestBudget,
) -> Result<Planned, Error> {
    let vars = connect::environment();
    if global.os_cloud.is_empty() {
        if let Some(config) = connect::huawei_config(global, &vars)? {
            if !is_estate(global) {
                return huawei_one(config, services).await;
            }
            return huawei(global, config.budget(budget.clone()), services).await;
        }
    }
    openstack(global, services, budget).await
}

/// The one project `--region` / `--project-id` (or IAM, by the region's name) say: one
/// signed client per service, EVS for the volumes, the project found once.
async fn huawei_one(
    config: vbs_backups::HuaweiConfig,
    services: &[Service],
) -> Result<Planned, Error> {
    let volumes = config.clone().service(HuaweiService::Evs).connect().await?;
    let config = config.project_id(volumes.project_id());
    let mut backups = Vec::new();
    for service in services {
        let client = config
            .clone()
            .service(huawei_service(*service))
            .connect()
            .await?;
        backups.push((backup_service(*service), client));
    }
    let region = config.region_name().unwrap_or_default();
    Ok(Planned {
        scopes: vec![AuditScope {
            scope: Scope::new(region, volumes.project_id()),
            volumes,
            backups,
        }],
        unreachable: Vec::new(),
        skipped: Vec::new(),
    })
}

/// Every project of the named regions (all regions without names), from one IAM
/// listing, with its EVS client and one per backup service.
async fn huawei(
    global: &GlobalArgs,
    config: vbs_backups::HuaweiConfig,
    services: &[Service],
) -> Result<Planned, Error> {
    let estate = &global.estate;
    let regions = if estate.regions.is_empty() && !estate.all_regions && !estate.every_project {
        global.region.iter().cloned().collect()
    } else {
        estate.regions.clone()
    };
    let mut asked = vec![HuaweiService::Evs];
    asked.extend(services.iter().map(|service| huawei_service(*service)));
    let found = config.project_clients(&regions, &asked).await?;
    let skipped = crate::estate::skipped_lines(&found.skipped);
    let mut scopes = Vec::new();
    for chosen in found.projects {
        let Some(volumes) = chosen.client(HuaweiService::Evs).cloned() else {
            continue;
        };
        let backups = services
            .iter()
            .filter_map(|service| {
                let client = chosen.client(huawei_service(*service))?.clone();
                Some((backup_service(*service), client))
            })
            .collect();
        scopes.push(AuditScope {
            scope: Scope::new(&chosen.region, &chosen.project.id),
            volumes,
            backups,
        });
    }
    Ok(Planned {
        scopes,
        unreachable: Vec::new(),
        skipped,
    })
}

/// Each cloud's project, or with `--every-project` every project it reaches (each with
/// its own token): one Cinder endpoint serves a project's volumes and backups.
async fn openstack(
    global: &GlobalArgs,
    services: &[Service],
    budget: &RequestBudget,
) -> Result<Planned, Error> {
    let every_project = global.estate.every_project;
    let reached = clouds::reach(global, &global.os_cloud, every_project, budget).await?;
    let scopes = reached
        .scopes
        .into_iter()
        .map(|(scope, client)| AuditScope {
            scope: Scope::new(&scope.region, client.project_id()),
            backups: services
                .iter()
                .map(|service| (backup_service(*service), client.clone()))
                .collect(),
            volumes: client,
        })
        .collect();
    let listings: Vec<ScopeListing> = std::iter::once(ScopeListing::Volumes)
        .chain(
            services
                .iter()
                .map(|service| ScopeListing::Backups(backup_service(*service))),
        )
        .collect();
    let unreachable = reached
        .unreachable
        .into_iter()
        .map(|(scope, error)| {
            // A cloud not reached names its project as configured: by id, else by name.
            let project = match (&*scope.project_id, &scope.project_name) {
                ("", Some(name)) => name.as_str(),
                (id, _) => id,
            };
            Unreachable {
                scope: Scope::new(&scope.region, project),
                listings: listings.clone(),
                error,
            }
        })
        .collect();
    Ok(Planned {
        scopes,
        unreachable,
        skipped: reached.skipped,
    })
}

fn huawei_service(service: Service) -> HuaweiService {
    match service {
        Service::Vbs => HuaweiService::Vbs,
        Service::Cbr => HuaweiService::Cbr,
    }
}

fn backup_service(service: Service) -> BackupService {
    match service {
        Service::Vbs => BackupService::Vbs,
        Service::Cbr => BackupService::Cbr,
    }
}
