//! What typed text may hold, and how long it may be: the limits every form, API body and command line
//! share (and how long one-time links live, `links`), and the characters refused at input (control characters anywhere but line breaks in
//! multi-line fields; nothing invisible in a single-line field, which ends up in email headers,
//! iCalendar parameters and CSV cells). Also the passwords refused as too common (ANSSI guidance).

/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest name of a person or organisation.
pub const NAME_MAX: usize = 200;
/// Shortest password: ANSSI recommends long passphrases rather than complexity rules.
pub const PASSWORD_MIN: usize = 12;
/// Longest password (what is hashed stays bounded).
pub const PASSWORD_MAX: usize = 256;
/// Longest reason of a decision or of a label withdrawal.
pub const REASON_MAX: usize = 2_000;
/// Longest name of an API token.
pub const TOKEN_NAME_MAX: usize = 100;
/// Live API tokens one person may hold.
pub const TOKENS_MAX: usize = 20;

/// How long the one-time links live: an invitation (a coordinator's or a colleague's), the
/// confirmation of a new organiser's address or of a new address, a password reset.
pub mod links {
    /// An invitation to choose a password.
    pub const INVITATION_DAYS: i64 = 7;
    /// The confirmation of a new organiser's address.
    pub const VERIFY_HOURS: i64 = 24;
    /// The confirmation of a new address.
    pub const EMAIL_CHANGE_HOURS: i64 = 24;
    /// A password reset.
    pub const RESET_MINUTES: i64 = 60;
}

/// Bidirectional overrides and isolates: they reorder what a reader sees (« RTL override » spoofing).
const BIDI_CONTROLS: &[char] =
    &['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'];

/// The first character a field may not hold: any control character (NUL, bare CR, escape…), except
/// line breaks and tabs in a multi-line field; in a single-line field also line breaks, tabs and
/// bidirectional overrides.
pub fn forbidden_char(s: &str, multiline: bool) -> Option<char> {
    s.chars().find(|&c| {
        if multiline && matches!(c, '\n' | '\r' | '\t') {
            return false;
        }
        c.is_control() || (!multiline && BIDI_CONTROLS.contains(&c))
    })
}

/// The French message for a field holding a forbidden character, `what` being « Le titre », …
pub fn forbidden_char_message(what: &str, c: char) -> String {
    let name = match c {
        '\n' | '\r' => "un retour à la ligne".to_string(),
        '\t' => "une tabulation".to_string(),
        '\0' => "un caractère nul".to_string(),
        c => format!("un caractère invisible (U+{:04X})", c as u32),
    };
    format!("{what} contient {name}, qui n'y est pas permis : retirez-le.")
}

/// Checks a single-line field: `Err` with the French message.
pub fn single_line(what: &str, s: &str) -> Result<(), String> {
    forbidden_char(s, false).map_or(Ok(()), |c| Err(forbidden_char_message(what, c)))
}

/// What is wrong with a person's or an organisation's name, if anything: empty (`if_empty` says what
/// to write), longer than [`NAME_MAX`], or holding a control character. One rule for every form.
pub fn name_problem(name: &str, if_empty: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some(if_empty.to_string())
    } else if name.chars().count() > NAME_MAX {
        Some(format!("Le nom ne doit pas dépasser {NAME_MAX} caractères."))
    } else {
        single_line("Le nom", name).err()
    }
}

/// Checks a multi-line field: `Err` with the French message.
pub fn multi_line(what: &str, s: &str) -> Result<(), String> {
    forbidden_char(s, true).map_or(Ok(()), |c| Err(forbidden_char_message(what, c)))
}

/// Passwords people choose most often that are long enough to pass the length rule (from the public
/// lists of leaked passwords, French ones included). Compared without case.
const COMMON: &[&str] = &[
    "password1234",
    "password12345",
    "password123456",
    "motdepasse123",
    "motdepasse1234",
    "motdepasse2024",
    "motdepasse2025",
    "motdepasse2026",
    "azertyuiop123",
    "azertyuiopqsd",
    "azertyuiopqsdf",
    "azertyuiopqsdfghjklm",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "1234567890ab",
    "123456789abc",
    "abcdefghijkl",
    "abcdef123456",
    "abc123456789",
    "iloveyou1234",
    "soleil123456",
    "bonjour12345",
    "jetaime12345",
    "administrateur",
    "administrator",
    "semainedelindustrie",
    "semaineindustrie",
    "changeme1234",
    "welcome12345",
    "bienvenue123",
    "bienvenue1234",
];

/// Why a password is refused (too short, too long, too common, too simple), in French; `None` if it
/// is acceptable.
pub fn password_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Some(format!(
            "Choisissez un mot de passe d'au moins {PASSWORD_MIN} caractères (une phrase facile à retenir convient)."
        ));
    }
    if n > PASSWORD_MAX {
        return Some(format!("Le mot de passe ne doit pas dépasser {PASSWORD_MAX} caractères."));
    }
    let lower = password.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let digits_only = lower.chars().all(|c| c.is_ascii_digit());
    let sequence = is_sequence(&lower);
    if COMMON.contains(&lower.as_str()) || distinct.len() < 5 || digits_only || sequence {
        return Some(
            "Ce mot de passe est trop courant ou trop simple pour protéger votre compte : choisissez une phrase de plusieurs mots, facile à retenir pour vous seul."
                .into(),
        );
    }
    None
}

/// Consecutive characters (`abcdefghijkl`, `987654321098`), the first thing guessing tools try.
fn is_sequence(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 1 && b.windows(2).all(|w| w[1].wrapping_sub(w[0]) == 1 || (w[0] == b'9' && w[1] == b'0'))
        || b.windows(2).all(|w| w[0].wrapping_sub(w[1]) == 1 || (w[0] == b'0' && w[1] == b'9'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_name() {
        assert_eq!(name_problem("  ", "Indiquez le nom.").as_deref(), Some("Indiquez le nom."));
        assert!(name_problem(&"é".repeat(NAME_MAX), "x").is_none(), "the bound counts characters, not bytes");
        assert!(name_problem(&"é".repeat(NAME_MAX + 1), "x").unwrap().contains("200 caractères"));
        assert!(name_problem("Forges\r\nEND:VEVENT", "x").is_some());
        assert!(name_problem("Forges de Lyon – Saint-Étienne", "x").is_none());
    }

    #[test]
    fn control_characters_are_refused_where_they_could_break_a_format() {
        let hostile = ["a\r\nBEGIN:VEVENT", "a\rb", "a\0b", "a\u{1b}[31m", "a\u{202E}txt.exe", "a\tb", "a\u{85}b"];
        for s in hostile {
            assert!(single_line("Le titre", s).is_err(), "{s:?} accepted on one line");
        }
        assert!(multi_line("La description", "ligne 1\r\nligne 2\n\tpuce").is_ok());
        assert!(multi_line("La description", "a\0b").is_err());
        assert!(multi_line("La description", "a\u{1b}b").is_err());
        assert!(single_line("Le titre", "Visite de l'usine « Ateliers » – 2024 ✓ عربي").is_ok());
        assert_eq!(
            single_line("Le titre", "a\nb").unwrap_err(),
            "Le titre contient un retour à la ligne, qui n'y est pas permis : retirez-le."
        );
    }

    #[test]
    fn common_and_simple_passwords_are_refused() {
        for p in
            ["aaaaaaaaaaaa", "password1234", "PASSWORD1234", "123456789012", "abcdefghijkl", "ababababababab", "court"]
        {
            assert!(password_problem(p).is_some(), "{p} accepted");
        }
        for p in ["une longue phrase secrète", "mot de passe de test", "Cheval-Agrafe-Batterie-7"] {
            assert_eq!(password_problem(p), None, "{p} refused");
        }
        assert!(password_problem(&"x".repeat(PASSWORD_MAX + 1)).is_some());
    }
}
