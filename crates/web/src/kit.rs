//! The label kit: an SVG badge « Événement labellisé Semaine de l'industrie <year> » with a QR code
//! to the event's public page, and a one-page PDF attestation. The PDF is written by hand (PDF 1.4,
//! the standard Helvetica fonts in WinAnsi encoding, the QR code as filled squares): a page of text
//! needs neither a font file nor an SVG renderer, so the kit costs no build time and no assets.

use qrcodegen::{QrCode, QrCodeEcc};

/// What the kit says about an event.
pub struct KitFacts {
    /// Edition year.
    pub year: i32,
    /// Edition number (13 for 2024).
    pub edition_number: i32,
    /// Event title.
    pub title: String,
    /// Organisation name.
    pub organisation: String,
    /// Where and when, one line each.
    pub details: Vec<String>,
    /// `SI-<year>-<5 digits>`.
    pub label_number: String,
    /// Date of the decision, in French.
    pub decided_on: String,
    /// Public page of the event.
    pub url: String,
    /// The edition is a demonstration: the kit says so, so that it is never taken for a real label.
    pub demo: bool,
}

/// What every document of a demonstration edition says.
pub const DEMO_MARK: &str = "DÉMONSTRATION – SANS VALEUR";

/// The QR code of a URL as a square matrix of dark modules.
fn qr(url: &str) -> Option<QrCode> {
    QrCode::encode_text(url, QrCodeEcc::Medium).ok()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A QR code of `url` as an inline SVG image of `px` pixels, named for screen readers by `label`.
pub fn qr_svg(url: &str, px: u32, label: &str) -> String {
    let Some(code) = qr(url) else { return String::new() };
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{} {}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    let full = size + 8;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {full} {full}" role="img" aria-label="{label}"><rect width="{full}" height="{full}" fill="#ffffff"/><path d="{path}" fill="#000000"/></svg>"##,
        label = xml_escape(label)
    )
}

/// The badge, 240 × 320, with the QR code in its lower part.
pub fn badge_svg(f: &KitFacts) -> String {
    let mut path = String::new();
    let mut size = 0;
    if let Some(code) = qr(&f.url) {
        size = code.size();
        for y in 0..size {
            for x in 0..size {
                if code.get_module(x, y) {
                    path.push_str(&format!("M{x} {y}h1v1h-1z"));
                }
            }
        }
    }
    // The QR code (plus its 4-module quiet zone) is scaled into a 140-unit square.
    let quiet = 4;
    let scale = 140.0 / f64::from(size + 2 * quiet).max(1.0);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320" role="img" aria-labelledby="t d">
<title id="t">Événement labellisé Semaine de l'industrie {year}</title>
<desc id="d">{title} – label {label}. Le code QR mène à {url}</desc>
<rect width="240" height="320" rx="12" fill="#ffffff" stroke="#000091" stroke-width="4"/>
<rect x="2" y="2" width="236" height="92" rx="10" fill="#000091"/>
<text x="120" y="34" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="17" font-weight="700" fill="#ffffff">Événement labellisé</text>
<text x="120" y="58" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="15" fill="#ffffff">Semaine de l'industrie</text>
<text x="120" y="82" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="20" font-weight="700" fill="#ffffff">{year}</text>
<g transform="translate(50 108) scale({scale:.4})"><rect width="{full}" height="{full}" fill="#ffffff"/><path transform="translate({quiet} {quiet})" d="{path}" fill="#000000"/></g>
<text x="120" y="274" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="14" font-weight="700" fill="#161616">{label}</text>
{footer}
</svg>
"##,
        footer = if f.demo {
            format!(
                r##"<text x="120" y="298" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="12" font-weight="700" fill="#ce0500">{DEMO_MARK}</text>"##
            )
        } else {
            r##"<text x="120" y="298" text-anchor="middle" font-family="Marianne, Arial, sans-serif" font-size="11" fill="#3a3a3a">Direction générale des Entreprises</text>"##.to_string()
        },
        year = f.year,
        title = xml_escape(&f.title),
        label = xml_escape(&f.label_number),
        url = xml_escape(&f.url),
        full = size + 2 * quiet,
    )
}

/// A PDF string literal in WinAnsi encoding, bytes above ASCII written as octal escapes so that the
/// file stays 7-bit. Characters outside WinAnsi become « ? ».
fn pdf_text(s: &str) -> String {
    let mut out = String::from("(");
    for c in s.chars() {
        let byte: u8 = match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
                continue;
            }
            ' '..='~' => {
                out.push(c);
                continue;
            }
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '\u{202F}' => 0xA0,
            '€' => 0x80,
            '…' => 0x85,
            'Œ' => 0x8C,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'œ' => 0x9C,
            _ => b'?',
        };
        out.push_str(&format!("\\{byte:03o}"));
    }
    out.push(')');
    out
}

/// Splits a text into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The attestation: one A4 page.
pub fn attestation_pdf(f: &KitFacts) -> Vec<u8> {
    let mut c = String::new();
    // Blue band with the service name.
    c.push_str("0 0 0.569 rg 0 762 595 80 re f\n");
    let mut text = |font: &str, size: f64, x: f64, y: f64, s: &str, colour: &str| {
        c.push_str(&format!("{colour} rg BT /{font} {size} Tf {x} {y} Td {} Tj ET\n", pdf_text(s)));
    };
    text("F2", 13.0, 50.0, 812.0, "RÉPUBLIQUE FRANÇAISE", "1 1 1");
    text("F1", 12.0, 50.0, 790.0, "Direction générale des Entreprises – Semaine de l'industrie", "1 1 1");
    text("F2", 24.0, 50.0, 710.0, "Attestation de labellisation", "0 0 0.569");
    if f.demo {
        text("F2", 16.0, 50.0, 735.0, &format!("{DEMO_MARK} : édition de démonstration"), "0.808 0.020 0");
    }
    let edition = format!("Semaine de l'industrie {} – {}e édition", f.year, f.edition_number);
    text("F1", 14.0, 50.0, 684.0, &edition, "0.086 0.086 0.086");
    let mut y = 640.0;
    text("F1", 12.0, 50.0, y, "La Direction générale des Entreprises atteste que l'événement", "0.086 0.086 0.086");
    y -= 26.0;
    for line in wrap(&f.title, 52) {
        text("F2", 16.0, 50.0, y, &line, "0.086 0.086 0.086");
        y -= 20.0;
    }
    y -= 6.0;
    text("F1", 12.0, 50.0, y, &format!("organisé par {}", f.organisation), "0.086 0.086 0.086");
    y -= 18.0;
    for d in &f.details {
        for line in wrap(d, 80) {
            text("F1", 11.0, 50.0, y, &line, "0.23 0.23 0.23");
            y -= 15.0;
        }
    }
    y -= 14.0;
    text("F1", 12.0, 50.0, y, "est labellisé « Semaine de l'industrie » sous le numéro", "0.086 0.086 0.086");
    y -= 28.0;
    text("F2", 22.0, 50.0, y, &f.label_number, "0 0 0.569");
    y -= 26.0;
    text("F1", 12.0, 50.0, y, &format!("Décision du {}.", f.decided_on), "0.086 0.086 0.086");
    // The QR code, bottom right, with the address beside it.
    pdf_qr(&mut c, &f.url, (425.0, 80.0), 120.0);
    let mut text = |font: &str, size: f64, x: f64, y: f64, s: &str| {
        c.push_str(&format!("0.23 0.23 0.23 rg BT /{font} {size} Tf {x} {y} Td {} Tj ET\n", pdf_text(s)));
    };
    text("F1", 10.0, 50.0, 150.0, "Page publique de l'événement :");
    for (i, line) in wrap(&f.url, 60).iter().enumerate() {
        text("F1", 10.0, 50.0, 135.0 - 13.0 * i as f64, line);
    }
    text(
        "F1",
        9.0,
        50.0,
        60.0,
        "Document produit par la plateforme de la Semaine de l'industrie. Le numéro de label se vérifie",
    );
    text("F1", 9.0, 50.0, 48.0, "sur la page publique de l'événement.");

    pdf_page(&c, &format!("Attestation {}", f.label_number))
}

/// Draws the QR code of `url` as filled squares, its lower left corner at `at`, `side` points wide.
fn pdf_qr(c: &mut String, url: &str, at: (f64, f64), side: f64) {
    let Some(code) = qr(url) else { return };
    let size = code.size();
    let module = side / f64::from(size);
    c.push_str("0 0 0 rg\n");
    for yy in 0..size {
        for xx in 0..size {
            if code.get_module(xx, yy) {
                let px = at.0 + f64::from(xx) * module;
                let py = at.1 + f64::from(size - 1 - yy) * module;
                c.push_str(&format!("{px:.2} {py:.2} {module:.3} {module:.3} re\n"));
            }
        }
    }
    c.push_str("f\n");
}

/// A one-page A4 PDF of a content stream (fonts F1 Helvetica and F2 Helvetica-Bold, WinAnsi).
fn pdf_page(c: &str, title: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{c}endstream", c.len()),
        format!("<< /Title {} /Producer (semaine-industrie) >>", pdf_text(title)),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// What a booking confirmation says.
pub struct BookingFacts {
    /// Edition year.
    pub year: i32,
    /// Event title.
    pub title: String,
    /// Organisation name.
    pub organisation: String,
    /// The session, in French.
    pub session: String,
    /// Where, one line.
    pub place: String,
    /// The booking's reference (`R-…`).
    pub reference: String,
    /// Who comes, one line each (school, class, pupils and adults, contact).
    pub party: Vec<String>,
    /// « Confirmée » or « Sur liste d'attente ».
    pub status: String,
    /// The site's safety rules, one line each.
    pub safety: Vec<String>,
    /// The event's public page.
    pub url: String,
    /// The edition is a demonstration: the confirmation says so, so that no school plans an outing on it.
    pub demo: bool,
}

/// The booking confirmation: one A4 page for the school's outing file (the date, the place, who
/// comes, the organiser, the safety rules), with the QR code of the event's page.
pub fn booking_pdf(f: &BookingFacts) -> Vec<u8> {
    let mut c = String::new();
    c.push_str("0 0 0.569 rg 0 762 595 80 re f\n");
    let mut text = |font: &str, size: f64, x: f64, y: f64, s: &str, colour: &str| {
        c.push_str(&format!("{colour} rg BT /{font} {size} Tf {x} {y} Td {} Tj ET\n", pdf_text(s)));
    };
    let ink = "0.086 0.086 0.086";
    text("F2", 13.0, 50.0, 812.0, "RÉPUBLIQUE FRANÇAISE", "1 1 1");
    text("F1", 12.0, 50.0, 790.0, &format!("Semaine de l'industrie {}", f.year), "1 1 1");
    text("F2", 22.0, 50.0, 715.0, "Confirmation de réservation", "0 0 0.569");
    if f.demo {
        text("F2", 14.0, 50.0, 740.0, &format!("{DEMO_MARK} : édition de démonstration"), "0.808 0.020 0");
    }
    text("F1", 12.0, 50.0, 692.0, &format!("Référence {} – {}", f.reference, f.status), ink);
    let mut y = 655.0;
    for line in wrap(&f.title, 52) {
        text("F2", 15.0, 50.0, y, &line, ink);
        y -= 19.0;
    }
    let mut lines: Vec<(bool, String)> = vec![
        (false, format!("Organisé par {}", f.organisation)),
        (false, f.session.clone()),
        (false, f.place.clone()),
        (true, "Participants".into()),
    ];
    lines.extend(f.party.iter().map(|p| (false, p.clone())));
    if !f.safety.is_empty() {
        lines.push((true, "Consignes de sécurité".into()));
        lines.extend(f.safety.iter().map(|s| (false, s.clone())));
    }
    for (heading, line) in lines {
        if heading {
            y -= 8.0;
            text("F2", 12.0, 50.0, y, &line, ink);
            y -= 17.0;
            continue;
        }
        for part in wrap(&line, 80) {
            text("F1", 11.0, 50.0, y, &part, "0.23 0.23 0.23");
            y -= 15.0;
        }
    }
    pdf_qr(&mut c, &f.url, (445.0, 60.0), 100.0);
    let mut text = |size: f64, y: f64, s: &str| {
        c.push_str(&format!("0.23 0.23 0.23 rg BT /F1 {size} Tf 50 {y} Td {} Tj ET\n", pdf_text(s)));
    };
    text(10.0, 130.0, "Page de l'événement :");
    for (i, line) in wrap(&f.url, 60).iter().enumerate() {
        text(10.0, 115.0 - 13.0 * i as f64, line);
    }
    text(9.0, 60.0, "Document produit par la plateforme de la Semaine de l'industrie, à joindre au dossier de sortie.");
    pdf_page(&c, &format!("Réservation {}", f.reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> KitFacts {
        KitFacts {
            year: 2024,
            edition_number: 13,
            title: "Visite de l'atelier (soudure) & œuvres – « découverte »".into(),
            organisation: "Forges <de> Lyon".into(),
            details: vec!["Lyon (69)".into()],
            label_number: "SI-2024-00042".into(),
            decided_on: "14 novembre 2024".into(),
            url: "https://semaine-industrie.example/evenements/42".into(),
            demo: false,
        }
    }

    #[test]
    fn a_demonstration_kit_says_so_on_every_document() {
        let demo = KitFacts { demo: true, ..facts() };
        let pdf = String::from_utf8(attestation_pdf(&demo)).unwrap();
        assert!(pdf.contains(r"(D\311MONSTRATION \226 SANS VALEUR : \351dition de d\351monstration)"), "{pdf}");
        assert!(badge_svg(&demo).contains(DEMO_MARK));
        let real = String::from_utf8(attestation_pdf(&facts())).unwrap();
        assert!(!real.contains("MONSTRATION") && !badge_svg(&facts()).contains(DEMO_MARK));
    }

    #[test]
    fn pdf_strings_are_winansi_and_escaped() {
        assert_eq!(pdf_text("a(b)c\\"), "(a\\(b\\)c\\\\)");
        assert_eq!(pdf_text("é"), "(\\351)");
        assert_eq!(pdf_text("œ€"), "(\\234\\200)");
        assert_eq!(pdf_text("→"), "(\\077)");
    }

    #[test]
    fn the_attestation_is_a_well_formed_pdf() {
        let pdf = String::from_utf8(attestation_pdf(&facts())).unwrap();
        assert!(pdf.starts_with("%PDF-1.4\n") && pdf.ends_with("%%EOF\n"));
        // Every cross-reference entry points at the start of its object.
        let start: usize = pdf.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[start..].starts_with("xref\n0 8\n"));
        for (i, line) in pdf[start..].lines().skip(3).take(7).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(pdf[offset..].starts_with(&format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
        // The stream length is exact.
        let start = pdf.find(">>\nstream\n").unwrap() + ">>\nstream\n".len();
        let stream = &pdf[start..pdf.find("endstream").unwrap()];
        assert!(pdf.contains(&format!("/Length {}", stream.len())));
        assert!(pdf.contains("(SI-2024-00042)"));
        // The title, wrapped over two lines: parentheses escaped, œ, – and « » in WinAnsi.
        assert!(pdf.contains("(Visite de l'atelier \\(soudure\\) & \\234uvres \\226 \\253)"), "{pdf}");
        assert!(pdf.contains("(d\\351couverte \\273)"));
    }

    #[test]
    fn the_booking_confirmation_is_a_well_formed_pdf() {
        let f = BookingFacts {
            year: 2026,
            title: "Visite (ateliers) & soudure".into(),
            organisation: "Forges".into(),
            session: "jeudi 19 novembre 2026, de 9 h 00 à 12 h 00".into(),
            place: "1 rue de l'Industrie, 69001 Lyon".into(),
            reference: "R-42".into(),
            party: vec!["Collège Jean Moulin (0750655E)".into(), "28 élèves et 3 accompagnateurs".into()],
            status: "Confirmée".into(),
            safety: vec!["Âge minimum : 14 ans".into()],
            url: "https://semaine-industrie.example/evenements/42".into(),
            demo: false,
        };
        let pdf = String::from_utf8(booking_pdf(&f)).unwrap();
        assert!(!pdf.contains("MONSTRATION"), "a real edition's confirmation has no mark");
        let demo = String::from_utf8(booking_pdf(&BookingFacts { demo: true, ..f })).unwrap();
        assert!(demo.contains(r"(D\311MONSTRATION \226 SANS VALEUR : \351dition de d\351monstration)"), "{demo}");
        assert!(pdf.starts_with("%PDF-1.4\n") && pdf.ends_with("%%EOF\n"));
        let start: usize = pdf.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        for (i, line) in pdf[start..].lines().skip(3).take(7).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(pdf[offset..].starts_with(&format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
        assert!(pdf.contains("(Visite \\(ateliers\\) & soudure)"), "escaped");
        assert!(pdf.contains("(28 \\351l\\350ves et 3 accompagnateurs)"));
    }

    #[test]
    fn the_badge_is_escaped_svg_with_a_qr_code() {
        let svg = badge_svg(&facts());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("Semaine de l'industrie 2024"));
        assert!(svg.contains("Forges") || svg.contains("&lt;") || !svg.contains("<de>"));
        assert!(!svg.contains("<de>"));
        assert!(svg.matches("h1v1h-1z").count() > 200, "QR modules drawn");
    }
}
