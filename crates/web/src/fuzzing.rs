//! Entry points for the fuzz targets of `fuzz/` (cargo-fuzz): what anonymous input reaches first,
//! without a database. Each must return, whatever the bytes: a panic is a finding.

use crate::forms::Pairs;

/// A query string as every public list and the review queue read it.
pub fn query_string(q: &str) {
    let p = Pairs::parse(q);
    for strict in [true, false] {
        if let Ok(filter) = crate::forms::event_filter(&p, strict) {
            // What is parsed can be asked again (the links of the page are built from it).
            let _ = format!("{filter:?}");
        }
    }
    let queue = crate::app::queue::QueueFilter::parse(&p);
    let again = crate::app::queue::QueueFilter::parse(&Pairs::parse(&queue.query(1)));
    assert_eq!(again.query(1), queue.query(1), "the queue's links read back as themselves");
    let _ = crate::cache::normalised_query(Some(q));
}

/// An event body as the API takes it: parsed, normalised, validated, checked for eligibility, and
/// round-tripped through the site's form.
pub fn event_body(bytes: &[u8]) {
    let Ok(mut data) = serde_json::from_slice::<si_domain::EventData>(bytes) else { return };
    data.normalise();
    let problems = data.validate(true);
    let _ = data.eligibility(&edition(), chrono::Utc::now());
    if problems.is_empty() {
        let form = crate::forms::EventForm::from_data(&data);
        assert!(form.to_data().is_ok(), "a valid event reads back from its own form");
    }
}

/// A body of `POST /api/v1/eligibility`.
pub fn eligibility_request(bytes: &[u8]) {
    let Ok(req) = serde_json::from_slice::<crate::api::catalogue::EligibilityRequest>(bytes) else { return };
    let _ = crate::api::catalogue::eligibility_of(req, &edition(), chrono::Utc::now());
}

fn edition() -> si_domain::Edition {
    let week = chrono::NaiveDate::from_ymd_opt(2024, 11, 18).expect("a date");
    si_domain::Edition::from_week(
        2024,
        13,
        "Fuzz",
        week,
        15,
        week - chrono::Duration::days(90),
        week - chrono::Duration::days(6),
    )
}

#[cfg(test)]
mod tests {
    /// The fuzzers' corpus (kept in the repository, grown by `scripts/fuzz.sh`) is replayed by every
    /// test run: an input that once failed stays a test.
    #[test]
    fn the_fuzz_corpus_replays() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let mut replayed = 0;
        for (target, run) in [
            ("query_string", (|b: &[u8]| super::query_string(&String::from_utf8_lossy(b))) as fn(&[u8])),
            ("event_body", super::event_body as fn(&[u8])),
            ("eligibility_request", super::eligibility_request as fn(&[u8])),
        ] {
            for entry in std::fs::read_dir(root.join(target)).unwrap() {
                run(&std::fs::read(entry.unwrap().path()).unwrap());
                replayed += 1;
            }
        }
        assert!(replayed >= 9, "{replayed} inputs");
    }
}
