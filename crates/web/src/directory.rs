//! The public directories that say whether an organisation is what its number claims: the company
//! directory (API Recherche d'entreprises, fed by INSEE's Sirene) for a SIRET, the Education
//! ministry's school directory (Annuaire de l'éducation, data.education.gouv.fr) for a UAI. Each sits
//! behind a configurable base URL; when a directory cannot be reached (or is switched off), the
//! sign-up goes on in a degraded mode: only the number's check digits are verified, and the reviewer
//! is told.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{TtlCache, Weigh};
use crate::outbound;

/// The company directory's production address.
pub const SIRET_DIRECTORY: &str = "https://recherche-entreprises.api.gouv.fr";
/// The school directory's production address.
pub const UAI_DIRECTORY: &str = "https://data.education.gouv.fr";

/// What a directory says of a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Listed and open, with its name and address as the directory gives them.
    Open { name: String, address: String },
    /// Listed, but closed.
    Closed { name: String },
    /// Not listed.
    Unknown,
    /// No answer (unreachable, timeout, error, unreadable, or no directory configured): the check
    /// digits are all that was verified.
    Unavailable,
}

impl Weigh for Lookup {
    fn weight(&self) -> usize {
        match self {
            Lookup::Open { name, address } => name.len() + address.len(),
            Lookup::Closed { name } => name.len(),
            _ => 0,
        }
    }
}

/// The two directories and a short memory of their answers (a sign-up form asks twice: when the
/// number is typed, then at submission).
pub struct Directories {
    siret: String,
    uai: String,
    answers: TtlCache<Lookup>,
}

impl Directories {
    /// Directories at these base URLs; an empty URL switches that check off (degraded mode).
    pub fn new(siret: &str, uai: &str) -> Directories {
        Directories {
            siret: siret.trim_end_matches('/').to_string(),
            uai: uai.trim_end_matches('/').to_string(),
            answers: TtlCache::new(Duration::from_secs(600), 10_000, 4 * 1024 * 1024),
        }
    }

    /// Checks a SIRET (14 digits, check digits already verified).
    pub async fn siret(&self, siret: &str) -> Lookup {
        if self.siret.is_empty() {
            return Lookup::Unavailable;
        }
        let url = format!("{}/search?q={siret}&page=1&per_page=1", self.siret);
        self.remembered(&format!("siret:{siret}"), &url, |v| read_siret(v, siret)).await
    }

    /// Checks a UAI (already normalised and verified).
    pub async fn uai(&self, uai: &str) -> Lookup {
        if self.uai.is_empty() {
            return Lookup::Unavailable;
        }
        let filter = crate::forms::urlencode(&format!("identifiant_de_l_etablissement=\"{uai}\""));
        let url = format!(
            "{}/api/explore/v2.1/catalog/datasets/fr-en-annuaire-education/records?where={filter}&limit=1",
            self.uai
        );
        self.remembered(&format!("uai:{uai}"), &url, |v| read_uai(v, uai)).await
    }

    async fn remembered(&self, key: &str, url: &str, read: impl Fn(&serde_json::Value) -> Option<Lookup>) -> Lookup {
        if let Some(known) = self.answers.get(key) {
            return (*known).clone();
        }
        let answer = match outbound::get(url).await {
            Ok(a) if a.status == 200 => a.json().ok().and_then(|v| read(&v)),
            Ok(a) => {
                tracing::warn!(status = a.status, url, "directory answered with an error");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, url, "directory unreachable");
                None
            }
        };
        let lookup = answer.unwrap_or(Lookup::Unavailable);
        // Only definite answers are remembered: a directory back up is asked again at once.
        if lookup != Lookup::Unavailable {
            self.answers.put(key.to_string(), Arc::new(lookup.clone()));
        }
        lookup
    }
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("").trim().to_string()
}

/// Reads a Recherche d'entreprises answer: the establishment with this SIRET among the matching ones.
fn read_siret(v: &serde_json::Value, siret: &str) -> Option<Lookup> {
    let results = v.get("results")?.as_array()?;
    for company in results {
        let name = text(company, "nom_complet");
        let places = company.get("matching_etablissements").and_then(|m| m.as_array()).cloned().unwrap_or_default();
        let head = company.get("siege").cloned().into_iter();
        for place in places.iter().cloned().chain(head) {
            if text(&place, "siret") != siret {
                continue;
            }
            let address = text(&place, "adresse");
            return Some(match text(&place, "etat_administratif").as_str() {
                "A" => Lookup::Open { name, address },
                _ => Lookup::Closed { name },
            });
        }
    }
    Some(Lookup::Unknown)
}

/// Reads an Annuaire de l'éducation answer (Opendatasoft Explore v2.1 records).
fn read_uai(v: &serde_json::Value, uai: &str) -> Option<Lookup> {
    let results = v.get("results")?.as_array()?;
    let Some(school) = results.iter().find(|r| text(r, "identifiant_de_l_etablissement").eq_ignore_ascii_case(uai))
    else {
        return Some(Lookup::Unknown);
    };
    let name = text(school, "nom_etablissement");
    let address =
        [text(school, "adresse_1"), format!("{} {}", text(school, "code_postal"), text(school, "nom_commune"))]
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
    // The dataset lists open schools; a closing one says so in `etat`.
    Some(match text(school, "etat").to_uppercase().as_str() {
        "" | "OUVERT" => Lookup::Open { name, address },
        _ => Lookup::Closed { name },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_company_directory() {
        let v = json!({"results": [{"siren": "110020013", "nom_complet": "FORGES DE LYON",
            "siege": {"siret": "11002001300014", "etat_administratif": "A", "adresse": "1 RUE X 69001 LYON"},
            "matching_etablissements": [{"siret": "11002001300022", "etat_administratif": "F", "adresse": "2 RUE Y"}]}],
            "total_results": 1});
        assert_eq!(
            read_siret(&v, "11002001300014"),
            Some(Lookup::Open { name: "FORGES DE LYON".into(), address: "1 RUE X 69001 LYON".into() })
        );
        assert_eq!(read_siret(&v, "11002001300022"), Some(Lookup::Closed { name: "FORGES DE LYON".into() }));
        assert_eq!(read_siret(&v, "11002001300030"), Some(Lookup::Unknown));
        assert_eq!(read_siret(&json!({"results": []}), "11002001300014"), Some(Lookup::Unknown));
        assert_eq!(read_siret(&json!({"erreur": "x"}), "11002001300014"), None, "unreadable is not « unknown »");
    }

    #[test]
    fn reads_the_school_directory() {
        let v = json!({"total_count": 1, "results": [{"identifiant_de_l_etablissement": "0690001A",
            "nom_etablissement": "Lycée La Martinière", "adresse_1": "41 rue Antoine Lumière", "code_postal": "69008",
            "nom_commune": "Lyon", "etat": "OUVERT"}]});
        assert_eq!(
            read_uai(&v, "0690001A"),
            Some(Lookup::Open {
                name: "Lycée La Martinière".into(),
                address: "41 rue Antoine Lumière, 69008 Lyon".into()
            })
        );
        assert_eq!(read_uai(&json!({"total_count": 0, "results": []}), "0690001A"), Some(Lookup::Unknown));
        assert_eq!(read_uai(&json!([1, 2]), "0690001A"), None);
    }
}
