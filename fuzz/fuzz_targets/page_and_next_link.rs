//! Any bytes as a server's response body: the page decoder, the error-body parser
//! and the next-link handling must never panic, and a next request must stay on
//! the configured collection.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    vbs_backups::fuzzing::page_and_next_link(body);
});
