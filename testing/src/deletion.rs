//! `DELETE /{v2|v3}/{project_id}/backups/{backup_id}`: Cinder's backup delete, so that a
//! cleanup job's own delete command (a shell pipeline, a script) can run against the fake
//! server. Cinder answers 202 and the backup goes away once its driver is done; the fake
//! removes it at once, which is the hardest case for a walk listing it at the same time.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::dataset::Dataset;
use crate::render;

/// A delete request's target.
pub(crate) struct Deletion<'a> {
    project: &'a str,
    backup_id: &'a str,
}

impl<'a> Deletion<'a> {
    /// The target of `DELETE [prefix]/{v2|v3}/{project}/backups/{id}`, if that is the request.
    pub(crate) fn parse(method: &Method, path: &'a str, prefix: &str) -> Option<Self> {
        if method != Method::DELETE {
            return None;
        }
        let mut segments = path.strip_prefix(prefix)?.strip_prefix('/')?.split('/');
        if !matches!(segments.next()?, "v2" | "v3") {
            return None;
        }
        let project = segments.next().filter(|project| !project.is_empty())?;
        if segments.next()? != "backups" {
            return None;
        }
        let backup_id = segments.next().filter(|id| !id.is_empty())?;
        segments
            .next()
            .is_none()
            .then_some(Self { project, backup_id })
    }

    /// Cinder's answer: 202 with no body, or 404 `itemNotFound` for a backup this project
    /// does not have. `data` holds the backups of the server, which serves `served_project`.
    pub(crate) fn answer(&self, data: &mut Dataset, served_project: &str) -> Response {
        let removed = data.project_of(self.backup_id) == Some(self.project)
            && self.project == served_project
            && data.remove(self.backup_id);
        if removed {
            StatusCode::ACCEPTED.into_response()
        } else {
            render::fault(
                StatusCode::NOT_FOUND,
                "itemNotFound",
                &format!("Backup {} could not be found.", self.backup_id),
            )
        }
    }
}
