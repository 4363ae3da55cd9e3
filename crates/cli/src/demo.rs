//! The demo data set: the 2024 edition filled with realistic labelled events across all regions, an
//! edition open today marked as a demonstration, and one account per role (README.md gives them).
//! Generation is deterministic (seeded), so benchmarks are reproducible.

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use si_domain::event::{Contact, Location, Registration, Safety, SessionInput};
use si_domain::identifiers::{Uai, complete_siret};
use si_domain::territory::{Commune, territory};
use si_domain::{
    Audience, Edition, EventData, EventType, Format, OrganisationKind, RegistrationMode, Role, Sector, Theme,
};
use si_store::{DynStore, NewOrganisation, NewUser, Transition};

/// Demo accounts: (email, password, role, region). The passwords are public: demo only.
pub const ACCOUNTS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin@demo.semaine-industrie.fr", "demo-admin-2024", Role::NationalAdmin, None),
    ("coordination.ara@demo.semaine-industrie.fr", "demo-coordination-2024", Role::RegionalCoordinator, Some("84")),
    ("organisateur@demo.semaine-industrie.fr", "demo-organisateur-2024", Role::Organiser, None),
];

/// How many labelled 2024 events the demo carries.
const DEMO_EVENTS: usize = 3_000;

/// How many labelled events the demo's open edition carries.
const OPEN_EDITION_EVENTS: usize = 400;

/// SplitMix64: small, fast, and good enough to spread demo data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Communes drawn in proportion to the square root of their population, so that cities dominate
/// without erasing rural France; only communes with their own coordinates.
struct CommunePicker {
    communes: Vec<&'static Commune>,
    cumulative: Vec<f64>,
}

impl CommunePicker {
    fn new() -> CommunePicker {
        let communes: Vec<&Commune> =
            territory().communes().iter().filter(|c| !c.approximate && c.population >= 2_000).collect();
        let mut total = 0.0;
        let cumulative = communes
            .iter()
            .map(|c| {
                total += f64::from(c.population).sqrt();
                total
            })
            .collect();
        CommunePicker { communes, cumulative }
    }
    fn pick(&self, rng: &mut Rng) -> &'static Commune {
        let total = *self.cumulative.last().expect("communes");
        let x = (rng.next() as f64 / u64::MAX as f64) * total;
        let i = self.cumulative.partition_point(|&c| c < x).min(self.communes.len() - 1);
        self.communes[i]
    }
    fn in_region(&self, region: &str, rng: &mut Rng) -> &'static Commune {
        let list: Vec<&&Commune> = self.communes.iter().filter(|c| c.region == region).collect();
        list[rng.below(list.len())]
    }
}

const COMPANY_STEMS: &[&str] = &[
    "Forges",
    "Mécanique",
    "Aérostructures",
    "Chaudronnerie",
    "Plasturgie",
    "Fonderie",
    "Usinage",
    "Électronique",
    "Textiles",
    "Papeteries",
    "Laboratoires",
    "Composites",
    "Robotique",
    "Verrerie",
    "Ateliers",
    "Câbleries",
];
const COMPANY_SUFFIXES: &[&str] =
    &["Industrie", "Précision", "Technologies", "et Fils", "Systèmes", "Process", "Atlantique", "Innovation"];
const SCHOOL_NAMES: &[&str] = &[
    "Jules Verne",
    "Marie Curie",
    "Louis Armand",
    "Gustave Eiffel",
    "Blaise Pascal",
    "Simone Veil",
    "Nicolas Appert",
    "Irène Joliot-Curie",
    "Denis Papin",
    "Sophie Germain",
];

struct Template {
    kind: EventType,
    title: &'static str,
    summary: &'static str,
    description: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        kind: EventType::VisiteEntreprise,
        title: "Visite de l'usine {org} à {commune}",
        summary: "Découvrez nos ateliers de production et les métiers de la fabrication.",
        description: "Visite guidée des ateliers : usinage, assemblage et contrôle qualité.\nÉchanges avec des techniciens, des opérateurs et des ingénieurs sur leur parcours et leurs métiers.",
    },
    Template {
        kind: EventType::PortesOuvertes,
        title: "Portes ouvertes : les métiers de l'industrie chez {org}",
        summary: "Une journée pour découvrir notre site industriel et nos formations en alternance.",
        description: "Démonstrations de robotique et de maintenance, présentation des métiers et des parcours en apprentissage.\nRencontre avec nos apprentis et nos tuteurs.",
    },
    Template {
        kind: EventType::JobDating,
        title: "Job dating industrie à {commune}",
        summary: "Rencontrez en dix minutes les entreprises industrielles qui recrutent près de chez vous.",
        description: "Entretiens courts avec des recruteurs de l'industrie : postes d'opérateur, de technicien de maintenance, de soudeur et de conducteur de ligne.\nApportez votre CV.",
    },
    Template {
        kind: EventType::ForumMetiers,
        title: "Forum des métiers de l'industrie – {commune}",
        summary: "Entreprises, centres de formation et CFA présentent les métiers et les formations de l'industrie.",
        description: "Stands des entreprises industrielles du territoire, ateliers de découverte de la soudure et de l'impression 3D, conseils d'orientation.",
    },
    Template {
        kind: EventType::InterventionClasse,
        title: "Des ingénieurs et techniciens en classe avec {org}",
        summary: "Des professionnels de l'industrie viennent présenter leurs métiers aux élèves.",
        description: "Intervention d'une heure : présentation d'un site industriel, d'un produit fabriqué en France et des métiers qui y contribuent.\nTemps d'échange avec les élèves.",
    },
    Template {
        kind: EventType::Atelier,
        title: "Atelier découverte : soudure et fabrication additive",
        summary: "Essayez-vous aux gestes de l'industrie avec nos formateurs.",
        description: "Atelier pratique encadré : simulateur de soudure, impression 3D, programmation d'un robot collaboratif.\nÉquipements de protection fournis.",
    },
    Template {
        kind: EventType::Webinaire,
        title: "Webinaire : l'industrie de demain et ses métiers",
        summary: "Une heure en ligne pour comprendre la transition écologique de l'industrie et les métiers qui recrutent.",
        description: "Présentation par des professionnels de l'industrie : décarbonation des procédés, recyclage, métiers de la maintenance et de l'énergie.\nQuestions en direct.",
    },
    Template {
        kind: EventType::Conference,
        title: "Conférence : femmes et industrie, des parcours inspirants",
        summary: "Des ingénieures, techniciennes et cheffes d'atelier racontent leur métier.",
        description: "Table ronde sur la mixité des métiers industriels, suivie d'échanges avec le public et de la présentation des formations.",
    },
    Template {
        kind: EventType::EscapeGame,
        title: "Escape game « Sauvez la ligne de production »",
        summary: "Résolvez les énigmes de l'usine pour relancer la production.",
        description: "Jeu d'équipe dans un atelier reconstitué : maintenance, qualité et logistique industrielle au programme.",
    },
    Template {
        kind: EventType::Exposition,
        title: "Exposition : 100 ans d'industrie à {commune}",
        summary: "L'histoire industrielle du territoire et ses métiers d'aujourd'hui.",
        description: "Exposition de pièces, machines et photographies, avec des visites commentées par d'anciens et de nouveaux salariés de l'industrie.",
    },
    Template {
        kind: EventType::StageEnseignants,
        title: "Immersion en entreprise pour les enseignants chez {org}",
        summary: "Une journée dans notre usine pour mieux orienter vos élèves vers l'industrie.",
        description: "Découverte des ateliers, rencontre avec les services ressources humaines et production, présentation des métiers et des besoins en compétences.",
    },
    Template {
        kind: EventType::VisiteVirtuelle,
        title: "Visite virtuelle de la fonderie {org}",
        summary: "Visitez notre site industriel en réalité virtuelle, depuis votre classe.",
        description: "Visite à 360° de la fonderie et de l'atelier d'usinage, commentée en direct par nos techniciens.",
    },
    Template {
        kind: EventType::Challenge,
        title: "Challenge inter-lycées : concevoir un produit industriel",
        summary: "Des équipes de lycéens relèvent un défi de conception et de fabrication.",
        description: "Les équipes conçoivent un prototype avec l'appui d'ingénieurs, puis le présentent à un jury d'industriels.",
    },
];

fn organisation(rng: &mut Rng, commune: &Commune, i: usize) -> NewOrganisation {
    let roll = rng.below(10);
    if roll < 6 {
        let name = format!("{} {} {}", rng.pick(COMPANY_STEMS), commune.name, rng.pick(COMPANY_SUFFIXES));
        let siren_base = format!("{:08}{:05}", 30_000_000 + (rng.next() % 60_000_000), i % 100_000);
        NewOrganisation {
            name,
            kind: OrganisationKind::Entreprise,
            department: commune.department.clone(),
            identifier: Some(complete_siret(&siren_base[..13])),
        }
    } else if roll < 8 {
        let n = (rng.next() % 10_000_000) as u32;
        let kind_name = if rng.chance(50) { "Lycée professionnel" } else { "Collège" };
        NewOrganisation {
            name: format!("{kind_name} {} – {}", rng.pick(SCHOOL_NAMES), commune.name),
            kind: OrganisationKind::EtablissementScolaire,
            department: commune.department.clone(),
            identifier: Some(format!("{n:07}{}", Uai::check_letter(n))),
        }
    } else if roll < 9 {
        NewOrganisation {
            name: format!("CFA de l'industrie – {}", commune.name),
            kind: OrganisationKind::OrganismeFormation,
            department: commune.department.clone(),
            identifier: None,
        }
    } else {
        NewOrganisation {
            name: format!("Fédération des industries – {}", territory().department_name(&commune.department)),
            kind: OrganisationKind::Federation,
            department: commune.department.clone(),
            identifier: None,
        }
    }
}

fn event(rng: &mut Rng, edition: &Edition, org_name: &str, commune: &Commune) -> EventData {
    let t = rng.pick(TEMPLATES);
    let fill = |s: &str| s.replace("{org}", org_name).replace("{commune}", &commune.name);
    let mut title = fill(t.title);
    if title.chars().count() > 140 {
        title = title.chars().take(137).collect::<String>() + "…";
    }
    let format = if t.kind == EventType::Webinaire || t.kind == EventType::VisiteVirtuelle {
        Format::EnLigne
    } else if rng.chance(5) {
        Format::Hybride
    } else {
        Format::Presentiel
    };
    // Most events fall in the week itself, some in the tolerance window.
    let day = if rng.chance(80) {
        edition.week_start + Duration::days(rng.below(5) as i64)
    } else {
        let span = (edition.eligible_to - edition.eligible_from).num_days();
        edition.eligible_from + Duration::days(rng.below(span as usize + 1) as i64)
    };
    let (h1, h2) = *rng.pick(&[(9, 12), (14, 17), (10, 16), (8, 11), (13, 15)]);
    let mut sessions = vec![SessionInput { start: format!("{day}T{h1:02}:00"), end: format!("{day}T{h2:02}:00") }];
    if rng.chance(20) {
        let next = day + Duration::days(1);
        if next <= edition.eligible_to {
            sessions.push(SessionInput { start: format!("{next}T{h1:02}:00"), end: format!("{next}T{h2:02}:00") });
        }
    }
    let mut audiences: Vec<Audience> = (0..1 + rng.below(3)).map(|_| *rng.pick(Audience::ALL)).collect();
    audiences.sort();
    audiences.dedup();
    let sectors = vec![*rng.pick(&Sector::ALL[..15])];
    let mut themes = Vec::new();
    if rng.chance(25) {
        themes.push(Theme::Mixite);
    }
    if rng.chance(30) {
        themes.push(Theme::TransitionEcologique);
    }
    let located = format != Format::EnLigne;
    let pc = commune.postal_codes.first().cloned().unwrap_or_default();
    let mut data = EventData {
        title,
        summary: fill(t.summary),
        description: fill(t.description),
        event_type: Some(t.kind),
        sectors,
        audiences,
        themes,
        format: Some(format),
        location: if located {
            Location {
                venue: org_name.to_string(),
                address: format!("{} rue de l'Industrie", 1 + rng.below(120)),
                postal_code: pc,
                commune_code: commune.code.clone(),
                lat: None,
                lon: None,
            }
        } else {
            Location::default()
        },
        online_url: if located && format == Format::Presentiel {
            String::new()
        } else {
            "https://visio.exemple.fr/semaine-industrie".into()
        },
        sessions,
        free: Some(true),
        industry_objective: Some(true),
        accessible: Some(rng.chance(60)),
        safety: Safety {
            min_age: (t.kind == EventType::VisiteEntreprise).then_some(14),
            protective_equipment: t.kind == EventType::VisiteEntreprise,
            id_required: t.kind == EventType::VisiteEntreprise && rng.chance(50),
            photos_forbidden: t.kind == EventType::VisiteEntreprise,
        },
        registration: if rng.chance(50) {
            Registration {
                mode: RegistrationMode::External,
                url: "https://inscription.exemple.fr/semaine-industrie".into(),
                ..Registration::default()
            }
        } else if t.kind == EventType::VisiteEntreprise {
            // Site visits take class bookings on the platform (no draw: the demo stays the same).
            Registration {
                mode: RegistrationMode::Platform,
                capacity: Some(35),
                waitlist: true,
                closes_hours_before: 48,
                ..Registration::default()
            }
        } else {
            Registration::default()
        },
        contact: Contact { email: "contact@exemple.fr".into(), phone: String::new() },
    };
    data.normalise();
    data
}

/// When a demo event was submitted: between the opening and the deadline, most of them in the last
/// three weeks, as organisers do.
fn submission_instant(rng: &mut Rng, edition: &Edition) -> chrono::DateTime<Utc> {
    let span = (edition.deadline - edition.opens_at).num_seconds().max(1) as u64;
    let last_weeks = (21 * 86_400).min(span);
    let offset = if rng.chance(60) { span - (rng.next() % last_weeks) } else { rng.next() % span };
    edition.opens_at + Duration::seconds(offset as i64)
}

/// Adds `n` labelled events (and their organisations) to an edition; returns how many.
pub async fn add_events(store: &DynStore, year: i32, n: usize, seed: u64) -> anyhow::Result<usize> {
    let edition = store.edition(year).await?.ok_or_else(|| anyhow::anyhow!("edition {year} missing"))?;
    let picker = CommunePicker::new();
    // Deterministic for a given database: the same seed, shifted by what the edition already holds.
    let existing = store.count_labelled(year).await?;
    let mut rng = Rng(seed ^ existing.wrapping_mul(0x9E37_79B9));
    let regions: Vec<String> = territory().regions().iter().map(|r| r.code.clone()).collect();
    let mut done = 0;
    // Organisations by slot: their ids once created, a chunk's new ones in one transaction.
    let mut ids: Vec<i64> = Vec::new();
    let mut orgs: Vec<(usize, String, &'static Commune)> = Vec::new();
    while done < n {
        let chunk = (n - done).min(5_000);
        let mut new_orgs: Vec<NewOrganisation> = Vec::new();
        let mut planned = Vec::with_capacity(chunk);
        for i in 0..chunk {
            let k = done + i;
            // Every region gets events, then communes follow population.
            let commune = if k < regions.len() * 3 {
                picker.in_region(&regions[k % regions.len()], &mut rng)
            } else {
                picker.pick(&mut rng)
            };
            let reuse = !orgs.is_empty() && rng.chance(60);
            let (slot, org_name, commune) = if reuse {
                // An organisation's events take place around its own town.
                rng.pick(&orgs).clone()
            } else {
                let new = organisation(&mut rng, commune, k);
                let slot = ids.len() + new_orgs.len();
                orgs.push((slot, new.name.clone(), commune));
                let name = new.name.clone();
                new_orgs.push(new);
                (slot, name, commune)
            };
            let submitted = submission_instant(&mut rng, &edition);
            planned.push((slot, event(&mut rng, &edition, &org_name, commune), submitted));
        }
        ids.extend(store.create_organisations(&new_orgs).await?.into_iter().map(|o| o.id));
        let batch: Vec<(i64, EventData, chrono::DateTime<Utc>)> =
            planned.into_iter().map(|(slot, data, at)| (ids[slot], data, at)).collect();
        store.insert_labelled(year, &batch).await?;
        done += chunk;
    }
    // Fresh statistics once the whole load is in, so that the planner picks the catalogue indexes.
    store.analyze().await?;
    Ok(done)
}

/// An edition open today: labelling opened a month ago, the deadline is in three weeks, the week
/// follows. Marked as a demonstration.
pub fn demo_edition(today: NaiveDate) -> Edition {
    let mut week_start = today + Duration::days(28);
    while week_start.weekday() != Weekday::Mon {
        week_start += Duration::days(1);
    }
    let year = week_start.year();
    let mut e = Edition::from_week(
        year,
        13 + (year - 2024),
        "Édition de démonstration : avec l'industrie, fabrique ton avenir !",
        week_start,
        15,
        today - Duration::days(30),
        week_start - Duration::days(6),
    );
    e.demo = true;
    e
}

/// Fills an empty database with the demo data set; does nothing when people or events exist.
pub async fn fill_if_empty(store: &DynStore) -> anyhow::Result<()> {
    if store.user_by_email(ACCOUNTS[0].0).await?.is_some() || store.count_labelled(2024).await? > 0 {
        tracing::info!("demo data already present");
        return Ok(());
    }
    tracing::info!("filling the database with demo data (a minute on a small machine)");
    let today = Utc::now().with_timezone(&si_domain::dates::PARIS).date_naive();
    let demo = demo_edition(today);
    if store.edition(demo.year).await?.is_none() {
        store.upsert_edition(&demo).await?;
    }
    let org = store
        .create_organisation(&NewOrganisation {
            name: "Forges de Démonstration".into(),
            kind: OrganisationKind::Entreprise,
            department: "69".into(),
            identifier: Some(complete_siret("9999999900001")),
        })
        .await?;
    let mut organiser_id = 0;
    let mut admin_id = 0;
    for (email, password, role, region) in ACCOUNTS {
        let hash = {
            let p = password.to_string();
            tokio::task::spawn_blocking(move || password_auth::generate_hash(p)).await?
        };
        let name = match role {
            Role::NationalAdmin => "Administration DGE",
            Role::RegionalCoordinator => "Coordination Auvergne-Rhône-Alpes",
            Role::Organiser => "Camille Martin",
        };
        let u = store
            .create_user(&NewUser {
                email: email.to_string(),
                name: name.into(),
                password_hash: hash,
                role: *role,
                region: region.map(str::to_string),
                organisation_id: (*role == Role::Organiser).then_some(org.id),
            })
            .await?;
        // Demonstration accounts are as if their address had been confirmed.
        store.mark_email_verified(u.id, &[], chrono::Utc::now()).await?;
        if *role == Role::Organiser {
            organiser_id = u.id;
        }
        if *role == Role::NationalAdmin {
            admin_id = u.id;
        }
    }
    add_events(store, 2024, DEMO_EVENTS, 0x5eed).await?;
    // The previous edition, so that statistics have something to compare with. Its dates are those
    // of the 2023 week (20–26 November); it is marked as demonstration data.
    let d = |m, day| NaiveDate::from_ymd_opt(2023, m, day).expect("valid date");
    let mut e2023 =
        Edition::from_week(2023, 12, "Édition 2023 (données de démonstration)", d(11, 20), 15, d(9, 15), d(11, 14));
    e2023.demo = true;
    if store.edition(2023).await?.is_none() {
        store.upsert_edition(&e2023).await?;
        add_events(store, 2023, DEMO_EVENTS * 2 / 3, 0x2023).await?;
    }
    // The edition open now looks alive: labelled events across the regions, whose site visits take
    // class bookings on the platform (their week is ahead, so they can be booked in a demonstration).
    if store.count_labelled(demo.year).await? == 0 {
        add_events(store, demo.year, OPEN_EDITION_EVENTS, 0x0b00_c1a5).await?;
    }
    // A few submissions awaiting review in the open edition, and a draft, for the demo accounts.
    let mut rng = Rng(7);
    let picker = CommunePicker::new();
    let edition = store.edition(demo.year).await?.unwrap_or(demo);
    for i in 0..4 {
        let commune = if i % 2 == 0 { picker.in_region("84", &mut rng) } else { picker.pick(&mut rng) };
        let data = event(&mut rng, &edition, &org.name, commune);
        let id = store.create_event(edition.year, org.id, organiser_id, &data).await?;
        if i < 3 {
            let t = Transition::submit(id, organiser_id, Utc::now());
            store.transition(&t).await?;
        }
    }
    // What a coordinator's queue shows on a busy day: a submission past its 4-working-day due date,
    // and a labelled event whose organiser changed the title (a change to review, before/after).
    let commune = picker.in_region("84", &mut rng);
    let mut late = event(&mut rng, &edition, &org.name, commune);
    late.title = format!("{} (reçue il y a huit jours)", late.title);
    let id = store.create_event(edition.year, org.id, organiser_id, &late).await?;
    let t = Transition::submit(id, organiser_id, Utc::now() - Duration::days(8));
    store.transition(&t).await?;
    let commune = picker.in_region("84", &mut rng);
    let data = event(&mut rng, &edition, &org.name, commune);
    let id = store.create_event(edition.year, org.id, organiser_id, &data).await?;
    let t = Transition::submit(id, organiser_id, Utc::now() - Duration::days(3));
    let version = store.transition(&t).await?.version;
    store.decide(id, admin_id, si_store::Decision::Label, None, Utc::now() - Duration::days(2), version).await?;
    let mut changed = data.clone();
    changed.title = format!("{} – nouvelle date", data.title);
    if let Some(s) = changed.sessions.first_mut() {
        s.start = s.start.replacen("T09", "T14", 1).replacen("T10", "T14", 1);
    }
    store.update_event(id, organiser_id, &changed).await?;
    tracing::info!("demo data ready");
    Ok(())
}

/// Adds `n` submissions awaiting review to the edition open now (benchmarks of the review queue):
/// across every region, received over the last three weeks (so that some are overdue), by
/// organisations that submit a few each, some of them twice (possible duplicates). Returns how many.
pub async fn add_submissions(store: &DynStore, n: usize, seed: u64) -> anyhow::Result<usize> {
    let now = Utc::now();
    let edition = store
        .editions()
        .await?
        .into_iter()
        .find(|e| e.is_open_at(now))
        .ok_or_else(|| anyhow::anyhow!("no edition is open for labelling now (serve --demo creates one)"))?;
    let picker = CommunePicker::new();
    let mut rng = Rng(seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
    let regions: Vec<String> = territory().regions().iter().map(|r| r.code.clone()).collect();
    let mut orgs: Vec<(i64, String, &'static Commune)> = Vec::new();
    let mut last: Option<(i64, EventData)> = None;
    // Generated submissions are recorded as made by one generated account (the audit trail names a person).
    const ROBOT: &str = "soumissions-generees@demo.semaine-industrie.fr";
    let actor = match store.user_by_email(ROBOT).await? {
        Some(u) => u.id,
        None => {
            store
                .create_user(&NewUser {
                    email: ROBOT.into(),
                    name: "Soumissions générées".into(),
                    password_hash: "!".into(),
                    role: Role::Organiser,
                    region: None,
                    organisation_id: None,
                })
                .await?
                .id
        }
    };
    for k in 0..n {
        let commune = if k < regions.len() * 3 {
            picker.in_region(&regions[k % regions.len()], &mut rng)
        } else {
            picker.pick(&mut rng)
        };
        let (org_id, org_name, commune) = if !orgs.is_empty() && rng.chance(50) {
            rng.pick(&orgs).clone()
        } else {
            let mut new = organisation(&mut rng, commune, 900_000 + k);
            let created = match store.create_organisation(&new).await {
                Ok(o) => o,
                Err(si_store::StoreError::Conflict(_)) => {
                    new.identifier = None;
                    store.create_organisation(&new).await?
                }
                Err(e) => return Err(e.into()),
            };
            orgs.push((created.id, created.name.clone(), commune));
            (created.id, created.name, commune)
        };
        // One in fifty repeats the organisation's previous submission: what duplicate detection is for.
        let data = match &last {
            Some((org, data)) if *org == org_id && rng.chance(2) => data.clone(),
            _ => event(&mut rng, &edition, &org_name, commune),
        };
        let at = now - Duration::seconds((rng.next() % (21 * 86_400)) as i64);
        let at = at.max(edition.opens_at);
        let id = store.create_event(edition.year, org_id, actor, &data).await?;
        let t = Transition::submit(id, actor, at);
        store.transition(&t).await?;
        last = Some((org_id, data));
    }
    Ok(n)
}
