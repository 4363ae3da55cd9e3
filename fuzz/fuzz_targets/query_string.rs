//! The query-string parser of the public lists, the API and the review queue.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = std::str::from_utf8(data) {
        si_web::fuzzing::query_string(q);
    }
});
