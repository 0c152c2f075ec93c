//! A backup as the data set holds it: the backup and the pieces of JSON every page repeats
//! about it, escaped once like Python's `json` (see [`push_json_string`]).
//!
//! A leaf: the data set, the sort and the renderer all build on it.

use std::fmt::Write as _;

use crate::backup::FakeBackup;

/// A backup and what pages repeat about it, rendered once.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) backup: FakeBackup,
    /// The name as a JSON value: `null` or a string literal, escaped like Python's `json`.
    pub(super) name_json: String,
    /// The free-text detail fields as JSON values, escaped like the name.
    pub(super) free_text: FreeTextJson,
}

impl Row {
    pub(super) fn new(backup: FakeBackup) -> Self {
        let mut name_json = String::new();
        match &backup.name {
            Some(name) => push_json_string(&mut name_json, name),
            None => name_json.push_str("null"),
        }
        let free_text = FreeTextJson::new(&backup);
        Self {
            backup,
            name_json,
            free_text,
        }
    }
}

/// Appends `value` as a JSON string literal, escaped like Python's `json.dumps`: only printable
/// ASCII stays as is, everything else becomes `\n`-style or `\uXXXX` escapes.
pub(super) fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    push_json_string_contents(out, value);
    out.push('"');
}

/// Appends `value` escaped for use inside a JSON string literal (see [`push_json_string`]).
/// Runs that need no escaping are copied whole.
pub(super) fn push_json_string_contents(out: &mut String, value: &str) {
    let mut rest = value;
    loop {
        let plain = rest
            .bytes()
            .take_while(|byte| matches!(byte, b' '..=b'~') && !matches!(byte, b'"' | b'\\'))
            .count();
        // `plain` counts ASCII bytes from a character boundary, so it is one too.
        let (plain, tail) = rest.split_at_checked(plain).unwrap_or((rest, ""));
        out.push_str(plain);
        let mut chars = tail.chars();
        let Some(ch) = chars.next() else {
            return;
        };
        push_escaped(out, ch);
        rest = chars.as_str();
    }
}

/// Appends `ch`, a character Python's `json` escapes, escaped.
fn push_escaped(out: &mut String, ch: char) {
    match ch {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        _ => {
            let mut units = [0_u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
}

/// Appends `value` as JSON: a string literal, or `null`.
pub(super) fn push_json_option(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => push_json_string(out, value),
        None => out.push_str("null"),
    }
}

/// A backup's free-text detail fields (`description`, `fail_reason`, `metadata`) as JSON
/// values, escaped once when the backup is generated, as its name is; the other fields are
/// numbers, booleans and generated ASCII, cheap to write on every page.
#[derive(Debug)]
pub(super) struct FreeTextJson {
    /// The three values, one after the other.
    text: String,
    /// End of the description.
    description: usize,
    /// End of the fail reason; the metadata runs to the end.
    fail_reason: usize,
}

impl FreeTextJson {
    pub(super) fn new(backup: &FakeBackup) -> Self {
        let mut text = String::new();
        push_json_option(&mut text, backup.description.as_deref());
        let description = text.len();
        push_json_option(&mut text, backup.fail_reason.as_deref());
        let fail_reason = text.len();
        text.push('{');
        for (index, (key, value)) in backup.metadata.iter().enumerate() {
            if index > 0 {
                text.push_str(", ");
            }
            push_json_string(&mut text, key);
            text.push_str(": ");
            push_json_string(&mut text, value);
        }
        text.push('}');
        Self {
            text,
            description,
            fail_reason,
        }
    }

    pub(super) fn description(&self) -> &str {
        self.text.get(..self.description).unwrap_or("null")
    }

    pub(super) fn fail_reason(&self) -> &str {
        self.text
            .get(self.description..self.fail_reason)
            .unwrap_or("null")
    }

    pub(super) fn metadata(&self) -> &str {
        self.text.get(self.fail_reason..).unwrap_or("{}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn strings_are_escaped_like_python() {
        let cases = [
            ("weekly", r#""weekly""#),
            ("spécial & name=1", r#""sp\u00e9cial & name=1""#),
            ("a\"b\\c\nd\te\u{1}\u{7f}", r#""a\"b\\c\nd\te\u0001\u007f""#),
            ("🦀", r#""\ud83e\udd80""#),
            ("run é run \"q\" run", r#""run \u00e9 run \"q\" run""#),
            ("", r#""""#),
        ];
        for (input, expected) in cases {
            let mut out = String::new();
            push_json_string(&mut out, input);
            assert_eq!(out, expected);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), input);
        }
    }
}
