//! Huawei's credentials file (`~/.huaweicloud/credentials`): an INI file whose `[basic]`
//! section holds `ak`, `sk`, `security_token`, `project_id`, `iam_endpoint`, as
//! huaweicloud-sdk-python-v3 `huaweicloudsdkcore/auth/provider.py` (`ProfileCredentialProvider`,
//! Python's `configparser`) and huaweicloud-sdk-go-v3 `core/auth/provider/profile_provider.go`
//! read it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The section project-scoped ("basic") credentials are read from.
const SECTION: &str = "basic";

/// Where the file is: `HUAWEICLOUD_SDK_CREDENTIALS_FILE`, else `~/.huaweicloud/credentials`.
pub(crate) fn path(explicit: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| home.map(|home| home.join(".huaweicloud").join("credentials")))
}

/// The keys of the `[basic]` section (lower-cased, as `configparser` does), values
/// trimmed; `None` when the file has no such section.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Option<HashMap<String, String>>> {
    let mut section: Option<&str> = None;
    let mut found = false;
    let mut keys = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name.strip_suffix(']').ok_or_else(|| {
                Error::config(format!(
                    "{}:{}: a section header must end with `]`",
                    path.display(),
                    number + 1
                ))
            })?;
            section = Some(name.trim());
            found |= section == Some(SECTION);
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            return Err(Error::config(format!(
                "{}:{}: expected `key = value`",
                path.display(),
                number + 1
            )));
        };
        if section == Some(SECTION) {
            keys.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    Ok(found.then_some(keys))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn reads_the_basic_section_only() {
        let text = "# Huawei Cloud\n[global]\nak = global-ak\n\n[basic]\nAK = the-ak\nsk: the-sk\n; comment\nproject_id = p1 \niam_endpoint = https://iam.example.com\n";
        let keys = parse(text, Path::new("c")).unwrap().unwrap();
        assert_eq!(keys["ak"], "the-ak");
        assert_eq!(keys["sk"], "the-sk");
        assert_eq!(keys["project_id"], "p1");
        assert_eq!(keys["iam_endpoint"], "https://iam.example.com");
        assert_eq!(parse("[global]\nak=x\n", Path::new("c")).unwrap(), None);
        let err = parse("[basic]\nnonsense\n", Path::new("/h/c")).unwrap_err();
        assert!(err.to_string().contains("/h/c:2"), "{err}");
    }

    #[test]
    fn path_prefers_the_variable_over_home() {
        assert_eq!(
            path(Some(Path::new("/x/c")), Some(Path::new("/home/u"))),
            Some(PathBuf::from("/x/c"))
        );
        assert_eq!(
            path(None, Some(Path::new("/home/u"))),
            Some(PathBuf::from("/home/u/.huaweicloud/credentials"))
        );
        assert_eq!(path(None, None), None);
    }
}
