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
    /// The point is the department's chef-lieu, not the commune itself.
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
                    approximate: f[7] == "1",
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
        Territory { regions, departments, communes, by_code, by_postal_code }
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
    use super::*;

    #[test]
    fn counts_match_spec() {
        let t = territory();
        assert_eq!(t.regions().len(), 18);
        assert_eq!(t.departments().len(), 101);
        assert!(t.communes().len() > 34_000);
        assert!(t.department("2A").is_some() && t.department("976").is_some());
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
