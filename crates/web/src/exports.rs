//! Machine-readable forms of events: schema.org JSON-LD for search engines, iCalendar (RFC 5545) for
//! calendars, CSV for spreadsheets and open data. All built from [`EventView`], like the pages.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};
use si_domain::{Audience, Edition};

use crate::views::EventView;

/// The instant of a local date-time in a zone (the earlier one in an autumn overlap).
fn instant(local: &str, tz: &str) -> Option<DateTime<chrono_tz::Tz>> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").ok()?;
    let tz: chrono_tz::Tz = tz.parse().ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(naive + chrono::Duration::hours(1))).earliest())
}

fn audience_labels(e: &EventView) -> String {
    e.audiences.iter().filter_map(|a| Audience::parse(a)).map(|a| a.label()).collect::<Vec<_>>().join(", ")
}

/// schema.org `Event`s, one per session, as Google's event rich results expect.
pub fn json_ld(e: &EventView, edition: Option<&Edition>, public_url: &str) -> String {
    let status = match e.public_status.as_str() {
        "postponed" => "https://schema.org/EventPostponed",
        "moved_online" => "https://schema.org/EventMovedOnline",
        "cancelled" => "https://schema.org/EventCancelled",
        _ => "https://schema.org/EventScheduled",
    };
    let mode = match e.format.as_deref() {
        Some("en_ligne") => "https://schema.org/OnlineEventAttendanceMode",
        Some("hybride") => "https://schema.org/MixedEventAttendanceMode",
        _ => "https://schema.org/OfflineEventAttendanceMode",
    };
    let place = e.location.commune.as_ref().map(|commune| {
        let mut p = json!({
            "@type": "Place",
            "name": if e.location.venue.is_empty() { commune.clone() } else { e.location.venue.clone() },
            "address": {
                "@type": "PostalAddress",
                "streetAddress": e.location.address,
                "postalCode": e.location.postal_code,
                "addressLocality": commune,
                "addressRegion": e.location.region.as_deref().map(|r| si_domain::territory::territory().region_name(r)),
                "addressCountry": "FR"
            }
        });
        if let (Some(lat), Some(lon)) = (e.location.lat, e.location.lon) {
            p["geo"] = json!({"@type": "GeoCoordinates", "latitude": lat, "longitude": lon});
        }
        p
    });
    let virtual_location = e.online_url.as_ref().map(|u| json!({"@type": "VirtualLocation", "url": u}));
    let location = match (place, virtual_location) {
        (Some(p), Some(v)) => json!([p, v]),
        (Some(p), None) => p,
        (None, Some(v)) => v,
        (None, None) => Value::Null,
    };
    let availability =
        if e.public_status == "full" { "https://schema.org/SoldOut" } else { "https://schema.org/InStock" };
    let super_event = edition.map(|ed| {
        json!({
            "@type": "Event",
            "name": format!("Semaine de l'industrie {}", ed.year),
            "startDate": ed.week_start.to_string(),
            "endDate": ed.week_end.to_string(),
            "url": public_url,
            "organizer": {"@type": "GovernmentOrganization", "name": "Direction générale des Entreprises"}
        })
    });
    let base = public_url.trim_end_matches('/');
    let organizer_url = format!("{base}/evenements?organisation={}", e.organisation.id);
    let mut offers =
        json!({"@type": "Offer", "price": 0, "priceCurrency": "EUR", "availability": availability, "url": e.url});
    // Registrations open with the edition's labelling: the first day anyone can see the event.
    if let Some(ed) = edition {
        offers["validFrom"] = json!(si_domain::dates::rfc3339_paris(ed.opens_at));
    }
    let events: Vec<Value> = e
        .sessions
        .iter()
        .filter_map(|s| {
            let start = instant(&s.start, &s.timezone)?;
            let end = instant(&s.end, &s.timezone)?;
            let mut ev = json!({
                "@context": "https://schema.org",
                "@type": "Event",
                "name": e.title,
                "description": e.summary,
                "startDate": start.to_rfc3339(),
                "endDate": end.to_rfc3339(),
                "eventAttendanceMode": mode,
                "eventStatus": status,
                "location": location,
                "isAccessibleForFree": true,
                "offers": offers,
                "organizer": {"@type": "Organization", "name": e.organisation.name, "url": organizer_url},
                "image": [format!("{base}/static/evenement.png")],
                "audience": {"@type": "Audience", "audienceType": audience_labels(e)},
                "url": e.url,
                "inLanguage": "fr"
            });
            if let Some(label) = &e.label_number {
                ev["identifier"] = json!(label);
            }
            if let Some(sup) = &super_event {
                ev["superEvent"] = sup.clone();
            }
            Some(ev)
        })
        .collect();
    script_json(&serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()))
}

/// JSON made safe inside an HTML `<script>` element: `<`, `>` and `&` only occur inside JSON strings,
/// where their `\u` escapes mean the same, so neither `</script>` nor `<!--` can change how the HTML
/// parser reads the element.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Escapes iCalendar TEXT (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, every line
/// break (CRLF, LF or a bare CR) written `\n`, and other control characters, which TEXT may not hold,
/// dropped. Nothing typed can end the content line.
pub fn ical_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A quoted iCalendar parameter value (RFC 5545 §3.1: QSAFE-CHAR is any character but controls and
/// DQUOTE): quotes become apostrophes, controls spaces.
pub fn ical_param(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c == '"' {
                '\''
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("\"{v}\"")
}

/// A URI value: no control character or space can appear in one.
fn ical_uri(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect()
}

/// Folds a content line at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1).
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// One calendar item per session: stable UID, SEQUENCE that grows with every change, STATUS, so that
/// subscribers see changes and cancellations.
pub struct CalendarItem<'a> {
    /// The event.
    pub event: &'a EventView,
    /// Last change of the event.
    pub updated_at: DateTime<Utc>,
    /// Its edition is a demonstration: the summary says so.
    pub demo: bool,
}

/// An iCalendar document (CRLF line ends, folded lines, escaped text; times in UTC since VTIMEZONE
/// blocks are not emitted).
pub fn ical(name: &str, items: &[CalendarItem<'_>]) -> String {
    let mut out = ical_head(name);
    ical_events(items, &ical_stamp(), &mut out);
    out.push_str(ICAL_TAIL);
    out
}

/// The end of every calendar.
pub const ICAL_TAIL: &str = "END:VCALENDAR\r\n";

/// The `DTSTAMP` of a calendar being written (one for the whole document, even when it is streamed).
pub fn ical_stamp() -> String {
    utc(Utc::now())
}

/// The lines before the first event.
pub fn ical_head(name: &str) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//DGE//Semaine de l'industrie//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        fold(l, &mut out);
    }
    fold(&format!("X-WR-CALNAME:{}", ical_text(name)), &mut out);
    out
}

/// One `VEVENT` per session of each event, appended to `out`.
pub fn ical_events(items: &[CalendarItem<'_>], stamp: &str, out: &mut String) {
    // Minutes since 2024 grow with every change and fit the 32-bit integers some clients use.
    let epoch = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().expect("valid date");
    for item in items {
        let e = item.event;
        let sequence = ((item.updated_at - epoch).num_minutes()).max(0);
        let status = match e.public_status.as_str() {
            "cancelled" => "CANCELLED",
            "postponed" => "TENTATIVE",
            _ => "CONFIRMED",
        };
        let location = match (&e.location.commune, &e.online_url) {
            (Some(c), _) => {
                [e.location.venue.as_str(), e.location.address.as_str(), &format!("{} {c}", e.location.postal_code)]
                    .iter()
                    .filter(|s| !s.trim().is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            (None, Some(u)) => u.clone(),
            (None, None) => String::new(),
        };
        for s in &e.sessions {
            let (Some(start), Some(end)) = (instant(&s.start, &s.timezone), instant(&s.end, &s.timezone)) else {
                continue;
            };
            fold("BEGIN:VEVENT", out);
            fold(&format!("UID:{}@semaine-industrie.gouv.fr", s.id), out);
            fold(&format!("DTSTAMP:{stamp}"), out);
            fold(&format!("LAST-MODIFIED:{}", utc(item.updated_at)), out);
            fold(&format!("SEQUENCE:{sequence}"), out);
            fold(&format!("STATUS:{status}"), out);
            fold(&format!("DTSTART:{}", utc(start.with_timezone(&Utc))), out);
            fold(&format!("DTEND:{}", utc(end.with_timezone(&Utc))), out);
            let mark = if item.demo { "[Démonstration] " } else { "" };
            fold(&format!("SUMMARY:{mark}{}", ical_text(&e.title)), out);
            fold(
                &format!("DESCRIPTION:{}", ical_text(&format!("{}\n\n{}\n\n{}", e.summary, e.description, e.url))),
                out,
            );
            if !location.is_empty() {
                fold(&format!("LOCATION:{}", ical_text(&location)), out);
            }
            if let (Some(lat), Some(lon)) = (e.location.lat, e.location.lon) {
                fold(&format!("GEO:{lat:.5};{lon:.5}"), out);
            }
            fold(&format!("URL:{}", ical_uri(&e.url)), out);
            fold(&format!("ORGANIZER;CN={}:{}", ical_param(&e.organisation.name), ical_uri(&organizer_uri(e))), out);
            fold("END:VEVENT", out);
        }
    }
}

fn organizer_uri(e: &EventView) -> String {
    if e.contact.email.is_empty() { e.url.clone() } else { format!("mailto:{}", e.contact.email) }
}

/// Columns of the CSV export, described by `schema.json` (Table Schema).
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "numero_label",
    "edition",
    "titre",
    "resume",
    "type",
    "publics",
    "secteurs",
    "thematiques",
    "format",
    "debut",
    "fin",
    "fuseau_horaire",
    "lieu",
    "adresse",
    "code_postal",
    "commune",
    "code_commune",
    "departement",
    "region",
    "latitude",
    "longitude",
    "lien_en_ligne",
    "organisation",
    "type_organisation",
    "accessible_pmr",
    "statut",
    "statut_libelle",
    "url",
    "demonstration",
];

/// A spreadsheet cell that cannot be read as a formula by Excel or LibreOffice.
pub(crate) fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The CSV writer of every export: `;` separators as French spreadsheets expect, and CRLF line ends
/// (RFC 4180).
pub(crate) fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::from("\u{feff}".as_bytes()))
}

/// CSV as French spreadsheets open it: UTF-8 with a BOM, `;` separators, one line per session.
/// Free text goes through [`cell`]; numbers, dates, codes and the platform's own addresses cannot
/// start a formula and are written as they are, so that their Table Schema types hold (a guarded
/// `'-0.76` is no number).
pub fn csv(events: &[EventView], demo_editions: &[i32]) -> Vec<u8> {
    let mut out = csv_head();
    out.extend(csv_rows(events, demo_editions));
    out
}

/// The BOM and the header line.
pub fn csv_head() -> Vec<u8> {
    let mut w = csv_writer();
    let _ = w.write_record(CSV_COLUMNS);
    w.into_inner().unwrap_or_default()
}

/// The lines of these events, without the header (an export is streamed in slices of events); the
/// events of `demo_editions` say they are demonstration data.
pub fn csv_rows(events: &[EventView], demo_editions: &[i32]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for e in events {
        for s in &e.sessions {
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            let row = [
                e.id.to_string(),
                opt(&e.label_number),
                e.edition.to_string(),
                cell(&e.title),
                cell(&e.summary),
                opt(&e.event_type),
                e.audiences.join("|"),
                e.sectors.join("|"),
                e.themes.join("|"),
                opt(&e.format),
                s.start.clone(),
                s.end.clone(),
                s.timezone.clone(),
                cell(&e.location.venue),
                cell(&e.location.address),
                e.location.postal_code.clone(),
                cell(&opt(&e.location.commune)),
                opt(&e.location.commune_code),
                opt(&e.location.department),
                opt(&e.location.region),
                num(e.location.lat),
                num(e.location.lon),
                cell(&opt(&e.online_url)),
                cell(&e.organisation.name),
                e.organisation.kind.clone(),
                e.accessible.map(|b| b.to_string()).unwrap_or_default(),
                si_domain::PublicStatus::parse(&e.public_status)
                    .map_or(e.public_status.as_str(), |s| s.open_data_code())
                    .to_string(),
                crate::views::status_label(&e.public_status).to_string(),
                e.url.clone(),
                demo_editions.contains(&e.edition).to_string(),
            ];
            let _ = w.write_record(&row);
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_respects_octets_and_characters() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "é".repeat(60)), &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert!(out.ends_with("\r\n"));
        assert_eq!(ical_text("a;b,c\nd\\"), "a\\;b\\,c\\nd\\\\");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+33 1 23"), "'+33 1 23");
        assert_eq!(cell("Forges"), "Forges");
    }
}
