//! [`BackupDetail`]: one entry of `GET /{v2|v3}/{project_id}/backups/detail`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserializer, Serialize, Serializer};

use super::{BackupStatus, Link};

/// Everything the detail listing says about a backup.
///
/// The fields common to VBS and Cinder are typed; timestamps are UTC (Cinder sends
/// them without a zone). Every other field a server sends (newer microversions,
/// VBS's own such as `service_metadata`) is kept in [`extra`](Self::extra), so
/// nothing is lost when the record is written out again.
///
/// ```
/// use vbs_backups::{BackupDetail, BackupStatus};
///
/// let backup: BackupDetail = serde_json::from_str(r#"{
///     "id": "1d30b4ae-765a-5c4b-b790-481b0bdfc265", "name": "weekly", "status": "available",
///     "size": 10, "created_at": "2024-01-01T20:50:00.000000", "service_metadata": "{}"
/// }"#)?;
/// assert_eq!(backup.status, BackupStatus::Available);
/// assert_eq!(backup.created_at.map(|t| t.to_string()).as_deref(), Some("2024-01-01T20:50:00Z"));
/// assert_eq!(backup.extra["service_metadata"], "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
// `Deserialize` is written by hand (`detail_de.rs`): absent fields read as none (the
// id and the status are required), `null` metadata as empty, links leniently.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BackupDetail {
    /// The backup id.
    pub id: String,
    /// The backup name; `None` for unnamed backups.
    pub name: Option<String>,
    /// The backup status.
    pub status: BackupStatus,
    /// The size of the backed-up volume, in GiB.
    pub size: Option<u64>,
    /// How many objects the backup is stored as.
    pub object_count: Option<u64>,
    /// The volume (disk) the backup was taken of.
    pub volume_id: Option<String>,
    /// The snapshot the backup was taken from, if any.
    pub snapshot_id: Option<String>,
    /// The storage container holding the backup.
    pub container: Option<String>,
    /// The availability zone of the backup.
    pub availability_zone: Option<String>,
    /// The backup description.
    pub description: Option<String>,
    /// Why the backup failed, for backups in an error status.
    pub fail_reason: Option<String>,
    /// Whether the backup is incremental.
    pub is_incremental: Option<bool>,
    /// Whether incremental backups depend on this one.
    pub has_dependent_backups: Option<bool>,
    /// When the backup was created.
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: Option<Timestamp>,
    /// When the backup was last updated.
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: Option<Timestamp>,
    /// The time of the data the backup holds (the snapshot's time for a snapshot backup).
    #[serde(serialize_with = "utc::serialize")]
    pub data_timestamp: Option<Timestamp>,
    /// User metadata (Cinder 3.43+).
    pub metadata: BTreeMap<String, String>,
    /// The user who created the backup (Cinder 3.56+).
    pub user_id: Option<String>,
    /// The project owning the backup (Cinder 3.18+, admin only).
    #[serde(
        rename = "os-backup-project-attr:project_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub project_id: Option<String>,
    /// The `self` and `bookmark` links of the backup.
    pub links: Vec<Link>,
    /// Every other field the server sent, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Timestamps as Cinder writes them (`2024-01-01T20:50:00.000000`, no zone: UTC)
/// or with a zone (`…Z`, `…+08:00`); written out as RFC 3339.
pub(super) mod utc {
    use std::fmt;

    use serde::de::{self, Visitor};

    use super::*;

    pub(in crate::model) fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub(in crate::model) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        // The failure is raised here, after the value is read, as it was when the text
        // was read into a `String` first: the error names the same position.
        match deserializer.deserialize_option(OptionalTimestamp)? {
            None => Ok(None),
            Some(Ok(timestamp)) => Ok(Some(timestamp)),
            Some(Err((text, err))) => Err(serde::de::Error::custom(format_args!(
                "`{text}` is not a timestamp: {err}"
            ))),
        }
    }

    /// A timestamp parsed where the parser lends its text, without a `String` for it;
    /// the text is copied only for an error. Reads what `Option<String>` reads, with
    /// its messages.
    struct OptionalTimestamp;

    type Parsed = Result<Timestamp, (String, jiff::Error)>;

    impl<'de> Visitor<'de> for OptionalTimestamp {
        type Value = Option<Parsed>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("option")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_string(TimestampText).map(Some)
        }
    }

    struct TimestampText;

    impl Visitor<'_> for TimestampText {
        type Value = Parsed;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Parsed, E> {
            Ok(parse(text).map_err(|err| (text.to_owned(), err)))
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Parsed, E> {
            match std::str::from_utf8(bytes) {
                Ok(text) => self.visit_str(text),
                Err(_) => Err(de::Error::invalid_value(
                    de::Unexpected::Bytes(bytes),
                    &self,
                )),
            }
        }
    }

    pub(in crate::model) fn parse(text: &str) -> Result<Timestamp, jiff::Error> {
        let text = text.trim();
        if let Some(timestamp) = cinder_utc(text) {
            return Ok(timestamp);
        }
        if !has_offset(text) {
            // No zone designator: read at once as UTC, rather than after a failed (and
            // allocating) read as a timestamp with an offset.
            if let Ok(timestamp) = text
                .parse::<jiff::civil::DateTime>()
                .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
            {
                return Ok(timestamp);
            }
        }
        text.parse::<Timestamp>().or_else(|with_zone_error| {
            // No zone designator: Cinder's UTC.
            text.parse::<jiff::civil::DateTime>()
                .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
                .map_err(|_| with_zone_error)
        })
    }

    /// Exactly Cinder's and CBR's form, `YYYY-MM-DDTHH:MM:SS` with up to 9 digits of
    /// fraction and no zone, read as UTC without jiff's general parser (a fifth of a
    /// detail page's decode). `None` for anything else, and for values jiff's parser
    /// must judge (a leap second, a day the month lacks): they take the general way.
    fn cinder_utc(text: &str) -> Option<Timestamp> {
        let bytes = text.as_bytes();
        let (main, fraction) = bytes.split_at_checked(19)?;
        let digits = |range: std::ops::Range<usize>| {
            main.get(range)?.iter().try_fold(0_i32, |value, byte| {
                byte.is_ascii_digit()
                    .then(|| value * 10 + i32::from(byte - b'0'))
            })
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if separators.iter().any(|(at, byte)| main[*at] != *byte) {
            return None;
        }
        let nanosecond = match fraction {
            [] => 0,
            [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
                let value = digits.iter().try_fold(0_i32, |value, byte| {
                    byte.is_ascii_digit()
                        .then(|| value * 10 + i32::from(byte - b'0'))
                })?;
                value * 10_i32.pow(9 - u32::try_from(digits.len()).ok()?)
            }
            _ => return None,
        };
        let year = i16::try_from(digits(0..4)?).ok()?;
        let narrow = |value: i32| i8::try_from(value).ok();
        let naive = jiff::civil::DateTime::new(
            year,
            narrow(digits(5..7)?)?,
            narrow(digits(8..10)?)?,
            narrow(digits(11..13)?)?,
            narrow(digits(14..16)?)?,
            narrow(digits(17..19)?)?,
            nanosecond,
        )
        .ok()?;
        jiff::tz::Offset::UTC.to_timestamp(naive).ok()
    }

    /// Whether the time of `text` (after its 10-byte date) may carry a zone or an
    /// offset (`Z`, `+hh:mm`, `-hh:mm`, `−hh`, an annotation): then it is read as a
    /// timestamp first, as always. Errs on the side of yes.
    fn has_offset(text: &str) -> bool {
        text.get(10..)
            .is_none_or(|time| time.contains(['Z', 'z', '+', '-', '\u{2212}', '[']))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_zone() {
        for (text, expected) in [
            ("2024-01-01T20:50:00.000000", "2024-01-01T20:50:00Z"),
            ("2024-01-01T20:50:00", "2024-01-01T20:50:00Z"),
            ("2024-01-01T20:50:00.5Z", "2024-01-01T20:50:00.5Z"),
            ("2024-01-02T04:50:00+08:00", "2024-01-01T20:50:00Z"),
        ] {
            assert_eq!(utc::parse(text).unwrap().to_string(), expected, "{text}");
        }
        assert!(utc::parse("yesterday").is_err());
    }

    #[test]
    fn a_cinder_detail_entry_decodes_and_keeps_unknown_fields() {
        let json = r#"{"id": "b", "status": "error_deleting", "size": 1, "object_count": 0,
            "availability_zone": "nova", "container": null, "created_at": "2024-01-01T20:50:00.000000",
            "updated_at": null, "name": null, "description": "d", "fail_reason": "boom",
            "volume_id": "v", "links": [], "is_incremental": false, "has_dependent_backups": false,
            "snapshot_id": null, "data_timestamp": "2024-01-01T20:50:00.000000",
            "metadata": null, "os-backup-project-attr:project_id": "p", "user_id": "u",
            "encryption_key_id": "k"}"#;
        let backup: BackupDetail = serde_json::from_str(json).unwrap();
        assert_eq!(backup.status, BackupStatus::ErrorDeleting);
        assert_eq!(backup.project_id.as_deref(), Some("p"));
        assert_eq!(backup.updated_at, None);
        assert!(backup.metadata.is_empty());
        assert_eq!(backup.extra.len(), 1);
        assert_eq!(backup.extra["encryption_key_id"], "k");
        let written = serde_json::to_value(&backup).unwrap();
        assert_eq!(written["created_at"], "2024-01-01T20:50:00Z");
        assert_eq!(written["encryption_key_id"], "k");
        assert_eq!(written["os-backup-project-attr:project_id"], "p");
    }

    /// How timestamps were read before the parse without a `String` and without a
    /// failed read with an offset first.
    fn read_as_before<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        use serde::Deserialize;
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let trimmed = text.trim();
        trimmed
            .parse::<Timestamp>()
            .or_else(|with_zone_error| {
                trimmed
                    .parse::<jiff::civil::DateTime>()
                    .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
                    .map_err(|_| with_zone_error)
            })
            .map(Some)
            .map_err(|err| {
                serde::de::Error::custom(format_args!("`{text}` is not a timestamp: {err}"))
            })
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Before {
        #[serde(default, deserialize_with = "read_as_before")]
        at: Option<Timestamp>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Now {
        #[serde(default, deserialize_with = "utc::deserialize")]
        at: Option<Timestamp>,
    }

    #[test]
    fn timestamps_read_exactly_as_before() {
        for value in [
            r#""2024-01-01T20:50:00.000000""#,
            r#""2024-01-01T20:50:00""#,
            r#""2024-01-01T20:50:00.1""#,
            r#""2024-01-01T20:50:00.123456789""#,
            r#""2024-01-01T20:50:00.1234567891""#,
            r#""2024-01-01T20:50:00.""#,
            r#""2024-01-01T20:50:00,5""#,
            r#""2024-02-29T00:00:00""#,
            r#""2023-02-29T00:00:00""#,
            r#""2024-04-31T00:00:00""#,
            r#""2016-12-31T23:59:60""#,
            r#""2024-01-01T24:00:00""#,
            r#""2024-01-01T23:60:00""#,
            r#""0000-01-01T00:00:00""#,
            r#""9999-12-31T23:59:59.999999999""#,
            r#""2024-1-01T00:00:00""#,
            r#""2024-01-01t20:50:00""#,
            r#""2024-01-01T2a:50:00""#,
            r#""20240101T205000""#,
            r#"" 2024-01-01T20:50:00 ""#,
            r#""2024-01-01 20:50:00""#,
            r#""2024-01-01""#,
            r#""2024-01-01T20:50:00Z""#,
            r#""2024-01-01T20:50:00.5z""#,
            r#""2024-01-02T04:50:00+08:00""#,
            r#""2024-01-01T20:50:00-0500""#,
            "\"2024-01-01T20:50:00\u{2212}05:00\"",
            r#""2024-01-01T20:50:00+08:00[Asia/Shanghai]""#,
            r#""2024-01-01T20:50:00[+08:00]""#,
            r#""-000001-01-01T00:00:00""#,
            r#""+002024-01-01T00:00:00Z""#,
            r#""2024-13-01T00:00:00""#,
            r#""2024-01-01T25:00:00""#,
            r#""soon""#,
            r#""""#,
            r#""\u00e9té""#,
            r#""2024-01-01T20:50:00\n""#,
            "null",
            "5",
            "true",
            "[]",
            "{}",
        ] {
            let json = format!(r#"{{"at": {value}}}"#);
            let now = serde_json::from_str::<Now>(&json)
                .map(|n| n.at)
                .map_err(|e| e.to_string());
            let before = serde_json::from_str::<Before>(&json)
                .map(|b| b.at)
                .map_err(|e| e.to_string());
            assert_eq!(now, before, "{json}");
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) {
                let now = serde_json::from_value::<Now>(value.clone()).map(|n| n.at);
                let before = serde_json::from_value::<Before>(value).map(|b| b.at);
                assert_eq!(
                    now.map_err(|e| e.to_string()),
                    before.map_err(|e| e.to_string()),
                    "{json}"
                );
            }
        }
        assert_eq!(
            serde_json::from_str::<Now>("{}").map(|n| n.at).ok(),
            Some(None)
        );
    }

    #[test]
    fn a_bad_timestamp_is_an_error_naming_it() {
        let err = serde_json::from_str::<BackupDetail>(
            r#"{"id": "b", "status": "available", "created_at": "soon"}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`soon` is not a timestamp"),
            "{err}"
        );
    }
}
