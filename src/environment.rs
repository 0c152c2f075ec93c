//! The process environment, read in one place: the configuration loaders take variables
//! as data (`from_env_vars`), and only this module asks the process for them.

/// This process's environment variables; those that are not valid UTF-8 are left out
/// (no setting of this crate can be one).
pub(crate) fn variables() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
}

/// One variable of this process, unless unset, empty or not valid UTF-8.
#[cfg(feature = "keystone")]
pub(crate) fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_environment_is_read_as_text() {
        // PATH is set wherever tests run; a name nobody sets is absent.
        assert!(variables().any(|(key, value)| key == "PATH" && !value.is_empty()));
        #[cfg(feature = "keystone")]
        assert_eq!(variable("VBS_BACKUPS_SURELY_UNSET_VARIABLE"), None);
    }
}
