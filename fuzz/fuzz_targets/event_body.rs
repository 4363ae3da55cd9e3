//! The event body of `POST /api/v1/me/events` and `PUT …/{id}`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| si_web::fuzzing::event_body(data));
