//! National identifiers of organisations, parsed once so the rest of the code can trust them.

use std::fmt;

/// A company establishment number: 14 digits passing the Luhn check (La Poste's rule excepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

/// La Poste's SIREN: its establishments do not pass Luhn; their digit sum is a multiple of 5.
const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    /// Parses a SIRET typed with or without spaces.
    pub fn parse(input: &str) -> Result<Siret, String> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err("Indiquez le numéro SIRET de l'établissement (14 chiffres).".into());
        }
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "Le numéro SIRET doit compter exactement 14 chiffres (vous en avez saisi {}).",
                digits.chars().filter(char::is_ascii_digit).count()
            ));
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0
        } else {
            luhn(&digits)
        };
        if !valid {
            return Err("Ce numéro SIRET n'existe pas : vérifiez qu'aucun chiffre n'a été inversé ou oublié.".into());
        }
        Ok(Siret(digits))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Luhn check over a string of ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The letters a UAI's check character is drawn from (no I, O, Q).
const UAI_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A school identifier: 7 digits and a check letter (the number modulo 23 indexes the letters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uai(String);

impl Uai {
    /// Parses a UAI, accepting a lowercase letter.
    pub fn parse(input: &str) -> Result<Uai, String> {
        let s = input.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(
                "Indiquez le numéro UAI de l'établissement (7 chiffres et une lettre, par exemple 0750655E).".into()
            );
        }
        // Check the shape before splitting: a non-ASCII character would make the split panic.
        if s.len() != 8 || !s.is_ascii() {
            return Err("Le numéro UAI s'écrit avec 7 chiffres suivis d'une lettre, par exemple 0750655E.".into());
        }
        let (num, letter) = s.split_at(7);
        if !num.bytes().all(|b| b.is_ascii_digit()) || !letter.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err("Le numéro UAI s'écrit avec 7 chiffres suivis d'une lettre, par exemple 0750655E.".into());
        }
        let n: u32 = num.parse().map_err(|_| "Numéro UAI illisible.".to_string())?;
        let expected = UAI_LETTERS[(n % 23) as usize] as char;
        if !letter.starts_with(expected) {
            return Err("Ce numéro UAI n'est pas valide : la lettre ne correspond pas aux chiffres.".into());
        }
        Ok(Uai(s))
    }

    /// The 8 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check letter of a 7-digit number (used by tests and demo data).
    pub fn check_letter(number: u32) -> char {
        UAI_LETTERS[(number % 23) as usize] as char
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes a valid SIRET from its first 13 digits by computing the Luhn key (demo data, tests).
pub fn complete_siret(first13: &str) -> String {
    (0..10).map(|k| format!("{first13}{k}")).find(|s| luhn(s)).expect("one Luhn key always exists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_identifiers() {
        assert!(Siret::parse("110 020 013 00014").is_ok());
        assert!(Siret::parse("11002001300011").is_err());
        // La Poste: not Luhn-valid, but its digit sum is a multiple of 5.
        assert!(Siret::parse("35600000000047").is_ok());
        assert!(!luhn("35600000000047"));
        assert!(Siret::parse("35600000000048").is_err());
        assert!(Siret::parse("1234").unwrap_err().contains("14 chiffres"));
        assert!(Uai::parse("0750655E").is_ok());
        assert!(Uai::parse("0750655e").is_ok());
        assert!(Uai::parse("0750655F").is_err());
        assert!(Uai::parse("750655E").is_err());
    }

    proptest! {
        #[test]
        fn completed_sirets_parse(first in "[0-9]{13}") {
            let s = complete_siret(&first);
            prop_assert!(Siret::parse(&s).is_ok() || s.starts_with(LA_POSTE_SIREN));
        }

        #[test]
        fn one_changed_digit_breaks_a_siret(first in "[1-9][0-9]{12}", pos in 0usize..14, delta in 1u8..10) {
            let s = complete_siret(&first);
            prop_assume!(!s.starts_with(LA_POSTE_SIREN));
            let mut b = s.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(Siret::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }

        #[test]
        fn uai_letter_round_trips(n in 0u32..10_000_000) {
            let s = format!("{n:07}{}", Uai::check_letter(n));
            prop_assert!(Uai::parse(&s).is_ok());
            let wrong = format!("{n:07}{}", Uai::check_letter(n + 1));
            prop_assert!(Uai::parse(&wrong).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Siret::parse(&s);
            let _ = Uai::parse(&s);
        }
    }
}
