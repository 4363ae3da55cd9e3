//! French text folding for search and the industry-theme signal: lowercase, strip accents, then stem,
//! in that order, so that « Métallurgie » and « metallurgie », « visites guidées » and « visite » meet.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use frostem::{Algorithm, Stemmer};
use serde::Serialize;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::new(Algorithm::French));

/// Lowercases and strips French diacritics and ligatures.
pub fn strip_accents(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' | 'ý' => out.push('y'),
            'ñ' => out.push('n'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            other => out.push(other),
        }
    }
    out
}

/// Splits folded text into words (letters and digits), dropping elided articles (« l'usine » → usine).
fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| !matches!(*w, "l" | "d" | "j" | "qu" | "n" | "s" | "c" | "m" | "t"))
}

/// The stem of one already-folded word.
pub fn stem(word: &str) -> String {
    STEMMER.stem(word).into_owned()
}

/// The folded, stemmed terms of a text, in order.
pub fn terms(text: &str) -> Vec<String> {
    let folded = strip_accents(text);
    words(&folded).filter(|w| !STOP_WORDS.contains(w)).map(stem).collect()
}

/// The text as stored for search: its terms separated by spaces, each surrounded by spaces so that a
/// whole-term match is a plain substring match on either backend.
pub fn search_document(parts: &[&str]) -> String {
    let mut out = String::from(" ");
    for p in parts {
        for t in terms(p) {
            out.push_str(&t);
            out.push(' ');
        }
    }
    out
}

/// Words that a search treats as one: the trades of industry and what people type for them
/// (« soudage » finds « soudure »). Each group is folded and stemmed once; a query term whose stem
/// is in a group also matches the other stems of that group.
const SYNONYMS: &[&[&str]] = &[
    &["soudure", "soudage", "soudeur", "souder"],
    &["usinage", "usiner", "usineur", "fraisage", "fraiseur", "tournage", "tourneur", "décolletage"],
    &["chaudronnerie", "chaudronnier", "tôlerie", "tôlier"],
    &["métallurgie", "métallurgiste", "sidérurgie", "métal", "acier"],
    &["fonderie", "fondeur", "forge", "forgeron"],
    &["mécanique", "mécanicien"],
    &["électricité", "électricien", "électrique", "électrotechnique"],
    &["électronique", "électronicien"],
    &["robotique", "robot", "cobot", "roboticien"],
    &["automatisme", "automaticien", "automatisation"],
    &["maintenance", "dépannage"],
    &["informatique", "numérique", "digital", "logiciel"],
    &["aéronautique", "aviation", "avion", "aérospatial", "spatial"],
    &["automobile", "voiture", "véhicule"],
    &["ferroviaire", "train", "rail"],
    &["naval", "navire", "bateau"],
    &["plasturgie", "plastique", "plasturgiste"],
    &["agroalimentaire", "alimentaire", "agroalimentation"],
    &["pharmaceutique", "pharmacie", "médicament"],
    &["chimie", "chimique", "chimiste"],
    &["textile", "couture", "habillement", "confection"],
    &["bois", "menuiserie", "menuisier", "ébénisterie"],
    &["logistique", "entrepôt"],
    &["emploi", "recrutement", "embauche", "job"],
    &["apprentissage", "alternance", "apprenti", "alternant"],
    &["usine", "manufacture"],
    &["nucléaire", "atome", "atomique"],
];

/// For each stem, the other stems of its synonym group (single words only: a phrase would widen a
/// search by its first word alone).
static SYNONYM_STEMS: LazyLock<std::collections::BTreeMap<String, Vec<String>>> = LazyLock::new(|| {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for group in SYNONYMS {
        let stems: Vec<String> = group.iter().filter_map(|w| terms(w).into_iter().next()).collect();
        for s in &stems {
            let entry = out.entry(s.clone()).or_default();
            for other in &stems {
                if other != s && !entry.contains(other) {
                    entry.push(other.clone());
                }
            }
        }
    }
    out
});

/// A search query as both backends and the catalogue index read it: one entry per typed term, each
/// the list of stems that satisfy it (the typed stem first, then its synonyms), reduced to letters
/// and digits so that it can go into a full-text query as it is. Every entry must be satisfied; an
/// entry is satisfied by a word starting with any of its stems.
pub fn query_terms(q: &str) -> Vec<Vec<String>> {
    terms(q)
        .into_iter()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|t| !t.is_empty())
        .map(|t| {
            let mut alternatives = vec![t.clone()];
            if let Some(others) = SYNONYM_STEMS.get(&t) {
                alternatives.extend(others.iter().filter(|o| !o.starts_with(t.as_str())).cloned());
            }
            alternatives
        })
        .collect()
}

const STOP_WORDS: &[&str] = &[
    "le", "la", "les", "un", "une", "des", "du", "de", "et", "ou", "a", "au", "aux", "en", "pour", "par", "sur",
    "avec", "dans", "ce", "ces", "cette", "nos", "notre", "vos", "votre", "est", "sont", "qui", "que", "se",
];

/// Words and jobs of industry. Each entry is folded and stemmed once, so that any inflection matches.
const INDUSTRY_LEXICON: &[&str] = &[
    "industrie",
    "industriel",
    "usine",
    "manufacture",
    "fabrication",
    "fabriquer",
    "production",
    "produire",
    "atelier",
    "site",
    "métier",
    "technicien",
    "ingénieur",
    "ingénierie",
    "opérateur",
    "soudure",
    "soudeur",
    "usinage",
    "usineur",
    "chaudronnerie",
    "chaudronnier",
    "tôlerie",
    "fonderie",
    "forge",
    "métallurgie",
    "métal",
    "acier",
    "aluminium",
    "mécanique",
    "mécanicien",
    "mécatronique",
    "maintenance",
    "robot",
    "robotique",
    "cobot",
    "automatisme",
    "automaticien",
    "électronique",
    "électrotechnique",
    "électricien",
    "plasturgie",
    "plastique",
    "composite",
    "matériau",
    "chimie",
    "chimique",
    "pharmaceutique",
    "aéronautique",
    "spatial",
    "automobile",
    "ferroviaire",
    "naval",
    "navire",
    "énergie",
    "nucléaire",
    "hydrogène",
    "agroalimentaire",
    "alimentaire",
    "textile",
    "logistique",
    "assemblage",
    "montage",
    "procédé",
    "qualité",
    "laboratoire",
    "innovation",
    "numérique",
    "usinage",
    "cnc",
    "impression",
    "additive",
    "prototype",
    "recyclage",
    "décarbonation",
    "apprentissage",
    "apprenti",
    "alternance",
    "cfa",
    "recrutement",
    "emploi",
    "entreprise",
    "verre",
    "papeterie",
    "bois",
    "ciment",
    "béton",
    "conditionnement",
    "chaîne",
    "ligne",
    "équipementier",
    "sous-traitant",
    "fabricant",
    "machine",
    "outillage",
    "moule",
    "pièce",
    "composant",
    "semi-conducteur",
    "batterie",
    "moteur",
    "turbine",
    "avion",
    "satellite",
];

static LEXICON_STEMS: LazyLock<BTreeSet<String>> =
    LazyLock::new(|| INDUSTRY_LEXICON.iter().flat_map(|w| terms(w)).collect());

/// The industry-theme signal shown to reviewers: never a refusal by itself, only a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndustrySignal {
    /// Distinct lexicon stems found.
    pub score: usize,
    /// The words of the text that matched, as written (lowercased), in order of first appearance.
    pub matched: Vec<String>,
    /// Fewer than [`IndustrySignal::STRONG`] distinct matches: the reviewer should look closely.
    pub weak: bool,
}

impl IndustrySignal {
    /// Distinct matches from which the signal is no longer weak.
    pub const STRONG: usize = 2;
}

/// Computes the signal over a title and a description.
pub fn industry_signal(title: &str, description: &str) -> IndustrySignal {
    let mut seen = BTreeSet::new();
    let mut matched = Vec::new();
    for text in [title, description] {
        let lower = text.to_lowercase();
        for original in lower.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()) {
            for t in terms(original) {
                if LEXICON_STEMS.contains(&t) && seen.insert(t) && !matched.iter().any(|m| m == original) {
                    matched.push(original.to_string());
                }
            }
        }
    }
    let score = seen.len();
    IndustrySignal { score, matched, weak: score < IndustrySignal::STRONG }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_accent_insensitive_and_stemmed() {
        assert_eq!(terms("Métallurgie"), terms("metallurgie"));
        assert_eq!(terms("visites guidées"), terms("visite guidee"));
        assert_eq!(terms("l'usine")[0], terms("usines")[0]);
        assert_eq!(strip_accents("Œuvre ÉCOLE"), "oeuvre ecole");
    }

    #[test]
    fn search_document_holds_whole_terms() {
        let doc = search_document(&["Visite de l'usine", "Soudure"]);
        assert!(doc.contains(&format!(" {} ", terms("visites")[0])));
        assert!(doc.starts_with(' ') && doc.ends_with(' '));
    }

    #[test]
    fn a_trade_is_found_by_its_other_names() {
        let q = query_terms("soudage");
        assert_eq!(q.len(), 1);
        assert!(q[0].contains(&terms("soudure")[0]), "{q:?}");
        let doc = search_document(&["Atelier soudure à l'arc"]);
        let hit = |q: &str| {
            query_terms(q).iter().all(|alts| alts.iter().any(|a| doc.split(' ').any(|w| w.starts_with(a.as_str()))))
        };
        assert!(hit("soudage"));
        assert!(hit("Soudeur"));
        assert!(hit("soudure arc"));
        assert!(!hit("usinage"));
        // A word outside the lexicon is itself only; every term must still match.
        assert_eq!(query_terms("Lyon"), vec![vec![terms("lyon")[0].clone()]]);
        assert!(!hit("soudage robotique"));
        // The other way round, and through accents and plurals.
        let doc = search_document(&["Découverte des métiers de l'usinage"]);
        assert!(query_terms("fraiseurs").iter().all(|alts| alts.iter().any(|a| doc.contains(&format!(" {a}")))));
        // Every group's words fold to distinct, non-empty stems.
        for group in SYNONYMS {
            for w in *group {
                assert_eq!(terms(w).len(), 1, "{w}");
            }
        }
    }

    #[test]
    fn industry_signal_names_the_words_it_matched() {
        let s = industry_signal("Visite de l'usine de soudure", "Découvrez nos métiers de technicien.");
        assert!(!s.weak, "{s:?}");
        assert!(s.matched.contains(&"usine".to_string()));
        assert!(s.matched.contains(&"soudure".to_string()));
        assert!(s.matched.contains(&"métiers".to_string()));
        let weak = industry_signal("Goûter de Noël", "Un moment convivial avec les familles.");
        assert!(weak.weak);
        assert_eq!(weak.score, 0);
    }
}
