//! The body of `POST /api/v1/eligibility` (anonymous).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| si_web::fuzzing::eligibility_request(data));
