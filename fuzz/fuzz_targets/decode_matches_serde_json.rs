//! Any bytes as a page body: the crate's page decoder must give exactly what
//! `serde_json`'s byte parser gives on the same bytes, the same page or the same error,
//! for every item type (summary, detail, CBR); and a detail or CBR entry decodes by
//! hand exactly as the `#[derive(Deserialize)]` it replaced did.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    vbs_backups::decode_fuzzing::decode_matches_serde_json(body);
});
