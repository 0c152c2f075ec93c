//! Messages are one clean line: no string literal of the library carries a run of spaces,
//! the mark of a literal continued onto the next line without a `\`, which keeps the
//! next line's indentation in the message.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::path::{Path, PathBuf};

/// The Rust files under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The parts of `line` between double quotes, by a rough reading: good enough for the
/// code of this crate, where a `"` in a char literal is written `'"'`.
fn quoted(line: &str) -> Vec<String> {
    let line = line.replace("'\"'", "");
    let mut parts = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (Some(part), '\\') => {
                part.push(c);
                if let Some(next) = chars.next() {
                    part.push(next);
                }
            }
            (Some(_), '"') => parts.extend(current.take()),
            (Some(part), _) => part.push(c),
            (None, '"') => current = Some(String::new()),
            (None, _) => {}
        }
    }
    parts
}

#[test]
fn no_string_literal_of_the_library_holds_a_run_of_spaces() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // Indentation after an escaped line break (a YAML fixture) is meant.
            let spaced = |part: &String| {
                part.split("\\n")
                    .any(|piece| piece.trim_start_matches(' ').contains("   "))
            };
            if quoted(line).iter().any(spaced) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "runs of spaces in messages:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rough_reading_finds_what_it_is_for() {
    assert_eq!(quoted(r#"Err("a b", "c")"#), ["a b", "c"]);
    assert!(quoted(r#"format!("one                  two")"#)[0].contains("   "));
    assert_eq!(quoted(r#"x == '"' && "a \" b""#), [r#"a \" b"#]);
}
