//! The fixed code lists of SPEC.md (audiences, types, sectors, …) with their French labels.
//! Codes are part of the public contract; labels are what people read.

use serde::{Deserialize, Serialize};

/// Declares a closed code list: serialised as its code, parsed strictly, labelled in French.
macro_rules! code_list {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[doc = $label] #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code used in URLs, JSON and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The French label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses a code; `None` when it is not one of the list.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_list! {
    /// Target publics (the seed's list): an event must be open to at least one.
    Audience {
        Scolaires => "scolaires", "Scolaires";
        Jeunes => "jeunes", "Jeunes";
        Etudiants => "etudiants", "Étudiants";
        DemandeursEmploi => "demandeurs_emploi", "Demandeurs d'emploi";
        CommunauteEducative => "communaute_educative", "Communauté éducative";
        ProfessionnelsRh => "professionnels_rh", "Professionnels des ressources humaines";
        GrandPublic => "grand_public", "Grand public";
    }
}

code_list! {
    /// Kinds of event.
    EventType {
        VisiteEntreprise => "visite_entreprise", "Visite d'entreprise";
        PortesOuvertes => "portes_ouvertes", "Portes ouvertes";
        JobDating => "job_dating", "Job dating";
        ForumMetiers => "forum_metiers", "Forum des métiers";
        Webinaire => "webinaire", "Webinaire";
        InterventionClasse => "intervention_classe", "Intervention en classe";
        Atelier => "atelier", "Atelier";
        Exposition => "exposition", "Exposition";
        EscapeGame => "escape_game", "Escape game";
        Conference => "conference", "Conférence";
        Challenge => "challenge", "Challenge";
        VisiteVirtuelle => "visite_virtuelle", "Visite virtuelle";
        StageEnseignants => "stage_enseignants", "Stage pour enseignants";
        Autre => "autre", "Autre";
    }
}

code_list! {
    /// Industrial sectors.
    Sector {
        AeronautiqueSpatial => "aeronautique_spatial", "Aéronautique et spatial";
        Agroalimentaire => "agroalimentaire", "Agroalimentaire";
        AutomobileMobilites => "automobile_mobilites", "Automobile et mobilités";
        BoisPapier => "bois_papier", "Bois et papier";
        ChimieMateriaux => "chimie_materiaux", "Chimie et matériaux";
        Construction => "construction", "Construction";
        ElectroniqueNumerique => "electronique_numerique", "Électronique et numérique";
        Energie => "energie", "Énergie";
        EnvironnementRecyclage => "environnement_recyclage", "Environnement et recyclage";
        Ferroviaire => "ferroviaire", "Ferroviaire";
        LuxeModeTextile => "luxe_mode_textile", "Luxe, mode et textile";
        MecaniqueMetallurgie => "mecanique_metallurgie", "Mécanique et métallurgie";
        Naval => "naval", "Naval";
        PharmacieSante => "pharmacie_sante", "Pharmacie et santé";
        Plasturgie => "plasturgie", "Plasturgie";
        Autre => "autre", "Autre secteur";
    }
}

code_list! {
    /// Theme tags.
    Theme {
        Mixite => "mixite", "Mixité des métiers";
        TransitionEcologique => "transition_ecologique", "Transition écologique";
    }
}

code_list! {
    /// How people attend.
    Format {
        Presentiel => "presentiel", "En présentiel";
        EnLigne => "en_ligne", "En ligne";
        Hybride => "hybride", "Hybride";
    }
}

code_list! {
    /// Kinds of organisation.
    OrganisationKind {
        Entreprise => "entreprise", "Entreprise";
        Federation => "federation", "Fédération professionnelle";
        EtablissementScolaire => "etablissement_scolaire", "Établissement scolaire";
        EnseignementSuperieur => "enseignement_superieur", "Établissement d'enseignement supérieur";
        OrganismeFormation => "organisme_formation", "Organisme de formation (CFA compris)";
        PoleCompetitivite => "pole_competitivite", "Pôle de compétitivité";
        ServicePublicEmploi => "service_public_emploi", "Service public de l'emploi";
        Collectivite => "collectivite", "Collectivité territoriale";
        Administration => "administration", "Administration";
        ChambreConsulaire => "chambre_consulaire", "Chambre consulaire";
        Association => "association", "Association";
        Autre => "autre", "Autre";
    }
}

code_list! {
    /// Moderation state of an event.
    Moderation {
        Draft => "draft", "Brouillon";
        Submitted => "submitted", "Soumis, en cours d'instruction";
        ChangesRequested => "changes_requested", "Modifications demandées";
        Labelled => "labelled", "Labellisé";
        Refused => "refused", "Refusé";
        Withdrawn => "withdrawn", "Retiré";
    }
}

code_list! {
    /// What the audit trail records of an event's history.
    AuditAction {
        Create => "create", "Création";
        Update => "update", "Modification";
        Submit => "submit", "Soumission";
        Withdraw => "withdraw", "Retrait par l'organisateur";
        Label => "label", "Labellisation";
        Refuse => "refuse", "Refus";
        RequestChanges => "request_changes", "Demande de modifications";
        ChangeSubmit => "change_submit", "Modification envoyée à l'instruction";
        ChangeAccept => "change_accept", "Modification acceptée";
        ChangeRefuse => "change_refuse", "Modification refusée";
        Revoke => "revoke", "Retrait du label";
        Status => "status", "Statut public";
    }
}

code_list! {
    /// Public status of a labelled event.
    PublicStatus {
        Scheduled => "scheduled", "Programmé";
        Postponed => "postponed", "Reporté";
        MovedOnline => "moved_online", "Passé en ligne";
        Full => "full", "Complet";
        Cancelled => "cancelled", "Annulé";
    }
}

impl PublicStatus {
    /// The status in the open-data CSV, a French code like every other code of that file (`type`,
    /// `publics`, `format`…): its French label without accents, spaces as `_`. The JSON API keeps
    /// SPEC.md's codes ([`PublicStatus::code`]) and gives the label beside them.
    pub fn open_data_code(self) -> &'static str {
        match self {
            PublicStatus::Scheduled => "programme",
            PublicStatus::Postponed => "reporte",
            PublicStatus::MovedOnline => "passe_en_ligne",
            PublicStatus::Full => "complet",
            PublicStatus::Cancelled => "annule",
        }
    }
}

code_list! {
    /// How people register.
    RegistrationMode {
        None => "none", "Accès libre, sans inscription";
        External => "external", "Inscription auprès de l'organisateur (lien, courriel ou téléphone)";
        Platform => "platform", "Inscription sur la plateforme";
    }
}

code_list! {
    /// The level of a class that books a visit (French school system), for the organiser's list and
    /// the attendance report.
    ClassLevel {
        College => "college", "Collège (6e à 3e)";
        Seconde => "seconde", "Lycée : seconde";
        Premiere => "premiere", "Lycée : première";
        Terminale => "terminale", "Lycée : terminale";
        Cap => "cap", "CAP";
        BacPro => "bac_pro", "Baccalauréat professionnel";
        Bts => "bts", "BTS ou BUT";
        Superieur => "superieur", "Enseignement supérieur (autre)";
        Apprentissage => "apprentissage", "Centre de formation d'apprentis";
        Autre => "autre", "Autre";
    }
}

code_list! {
    /// Where a booking stands.
    BookingStatus {
        Confirmed => "confirmed", "Confirmée";
        Waitlisted => "waitlisted", "Sur liste d'attente";
        Cancelled => "cancelled", "Annulée";
    }
}

code_list! {
    /// Roles of people on the platform.
    Role {
        Organiser => "organiser", "Organisateur";
        RegionalCoordinator => "regional_coordinator", "Coordinateur régional";
        NationalAdmin => "national_admin", "Administrateur national";
    }
}

impl OrganisationKind {
    /// Which identifier this kind of organisation must give.
    pub fn identifier_kind(self) -> Option<IdentifierKind> {
        match self {
            OrganisationKind::Entreprise => Some(IdentifierKind::Siret),
            OrganisationKind::EtablissementScolaire => Some(IdentifierKind::Uai),
            _ => None,
        }
    }
}

/// The national identifiers an organisation may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierKind {
    /// 14-digit establishment number of a company.
    Siret,
    /// Identifier of a school (Unité administrative immatriculée).
    Uai,
}

/// Parses a list of codes, reporting the first unknown one.
pub fn parse_codes<T>(codes: &[String], parse: fn(&str) -> Option<T>) -> Result<Vec<T>, String>
where
    T: Ord,
{
    let mut out = Vec::with_capacity(codes.len());
    for c in codes {
        match parse(c.trim()) {
            Some(v) => out.push(v),
            None => return Err(c.clone()),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_parse_and_serde() {
        for a in Audience::ALL {
            assert_eq!(Audience::parse(a.code()), Some(*a));
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.code()));
        }
        assert_eq!(EventType::ALL.len(), 14);
        assert_eq!(Sector::ALL.len(), 16);
        assert_eq!(OrganisationKind::ALL.len(), 12);
        assert_eq!(Audience::parse("salaries"), None);
    }

    /// The CSV's status codes are the site's words, readable without the API's table: the label
    /// without accents, lower case, spaces as `_`; each distinct.
    #[test]
    fn open_data_status_codes_are_the_french_words() {
        let mut seen = std::collections::HashSet::new();
        for s in PublicStatus::ALL {
            let folded = crate::text::strip_accents(&s.label().to_lowercase()).replace(' ', "_");
            assert_eq!(s.open_data_code(), folded);
            assert!(seen.insert(s.open_data_code()));
        }
    }

    #[test]
    fn parse_codes_reports_the_unknown_code() {
        let ok = parse_codes(&["jeunes".into(), "scolaires".into(), "jeunes".into()], Audience::parse);
        assert_eq!(ok.unwrap(), vec![Audience::Scolaires, Audience::Jeunes]);
        let err = parse_codes(&["jeunes".into(), "martiens".into()], Audience::parse);
        assert_eq!(err.unwrap_err(), "martiens");
    }
}
