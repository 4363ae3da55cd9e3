//! The `semaine-industrie` binary: serve the platform, migrate, manage people and tokens, generate
//! demo data. Thin on purpose: the work is in the library crates.

mod demo;

use std::io::Read;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use si_domain::{OrganisationKind, Role};
use si_store::{DynStore, NewOrganisation, NewUser};
use si_web::{AppState, WebConfig};

/// The default embedded database, created on first run.
const DEFAULT_DATABASE_URL: &str = "sqlite://data/semaine-industrie.db";

#[derive(Parser)]
#[command(name = "semaine-industrie", version, about = "Plateforme de labellisation de la Semaine de l'industrie")]
struct Cli {
    /// sqlite://PATH (embedded, created if missing) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    database_url: String,
    /// Log lines as `text` (for people) or `json` (one object per line, with the request id, for a
    /// log collector).
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the platform.
    Serve {
        /// Where emails go: smtp://host:port (a local relay), smtp://user:pass@host:587?tls=required,
        /// smtps://…, or file://DIR (.eml files, nothing leaves the machine).
        #[arg(long, env = "MAIL_URL", default_value = "file://data/courriels", hide_env_values = true)]
        mail_url: String,
        /// Sender of the platform's emails.
        #[arg(
            long,
            env = "MAIL_FROM",
            default_value = "Semaine de l'industrie <ne-pas-repondre@semaine-industrie.gouv.fr>"
        )]
        mail_from: String,
        /// Address to listen on.
        #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Fills an empty database with the demo data set.
        #[arg(long)]
        demo: bool,
        /// The official deployment: refuses to start with settings that are only safe on a
        /// developer's machine (demo data, no public https address, emails written to files).
        #[arg(long, env = "PRODUCTION")]
        production: bool,
        /// Public address of the site, for absolute links.
        #[arg(long, env = "PUBLIC_URL")]
        public_url: Option<String>,
        /// The team's address, shown on the legal pages, the accessibility statement and in every email.
        #[arg(long, env = "CONTACT_EMAIL", default_value = si_web::DEFAULT_CONTACT_EMAIL)]
        contact_email: String,
        /// Map tiles URL template ({z}, {x}, {y}); "" for a map without tiles.
        #[arg(long, env = "TILE_URL", default_value = si_web::DEFAULT_TILE_URL)]
        tile_url: String,
        /// Seconds public answers are kept in memory (0: none, every request reaches the database).
        #[arg(long, env = "CACHE_SECONDS", default_value_t = 60)]
        cache_seconds: u64,
        /// Months after an edition's week when its booking contacts are erased (counts kept).
        #[arg(long, env = "BOOKING_RETENTION_MONTHS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=36))]
        booking_retention_months: u32,
        /// Requests come through a reverse proxy on this machine that appends the client's address
        /// to `X-Forwarded-For` (same as --trusted-proxies 127.0.0.1,::1).
        #[arg(long, env = "BEHIND_PROXY")]
        behind_proxy: bool,
        /// The reverse proxies (addresses or networks, comma-separated: 10.0.0.0/8, 192.0.2.10)
        /// whose `X-Forwarded-For` gives the client's address; from any other peer it is ignored.
        #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: String,
        /// Company directory (API Recherche d'entreprises) that checks SIRET numbers at sign-up;
        /// "" to check only their check digits (the reviewer is told).
        #[arg(long, env = "SIRET_DIRECTORY_URL", default_value = si_web::directory::SIRET_DIRECTORY)]
        siret_directory_url: String,
        /// School directory (Annuaire de l'éducation) that checks UAI numbers; "" for check characters only.
        #[arg(long, env = "UAI_DIRECTORY_URL", default_value = si_web::directory::UAI_DIRECTORY)]
        uai_directory_url: String,
        /// ProConnect for coordinators and administrators: the provider's discovery URL
        /// (…/.well-known/openid-configuration). Unset: login by password only.
        #[arg(long, env = "OIDC_DISCOVERY_URL")]
        oidc_discovery_url: Option<String>,
        /// The platform's client id at the provider.
        #[arg(long, env = "OIDC_CLIENT_ID")]
        oidc_client_id: Option<String>,
        /// The client secret (prefer the environment variable: a command line is visible to others).
        #[arg(long, env = "OIDC_CLIENT_SECRET", hide_env_values = true)]
        oidc_client_secret: Option<String>,
        /// The bearer token Prometheus sends to read `/metrics`; unset, only local clients read it.
        #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
    },
    /// Applies database migrations.
    Migrate,
    /// Writes a consistent copy of the SQLite database to FILE while the platform runs (PostgreSQL:
    /// pg_dump, see docs/OPERATIONS.md).
    Backup {
        /// A new file (never overwritten).
        file: std::path::PathBuf,
    },
    /// Puts a backup made by `backup` in place of the SQLite database. Stop the service first.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Manages people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Adds generated labelled events to the 2024 edition, and submissions awaiting review to the
    /// edition open now (benchmarks).
    Demo {
        /// How many labelled events.
        #[arg(long, default_value_t = 0)]
        events: u32,
        /// How many submissions awaiting review.
        #[arg(long, default_value_t = 0)]
        submitted: u32,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates a person; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// organiser, regional_coordinator or national_admin.
        #[arg(long)]
        role: String,
        /// INSEE region code (regional coordinators).
        #[arg(long)]
        region: Option<String>,
        /// Organisation to create or join (organisers).
        #[arg(long)]
        organisation: Option<String>,
        /// Department of a new organisation.
        #[arg(long, default_value = "75")]
        department: String,
        /// Kind of a new organisation.
        #[arg(long, default_value = "autre")]
        kind: String,
        /// Display name (the email's local part by default).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Prints a new API token for a person.
    Create {
        #[arg(long)]
        email: String,
        /// The token's name, shown to its owner in « Jetons d'API ».
        #[arg(long, default_value = "Ligne de commande")]
        name: String,
        /// Days of validity.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(i64).range(1..=730))]
        days: i64,
    },
}

/// Errors end the process with one readable line (the chain of causes), never a backtrace.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("semaine-industrie: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("semaine-industrie: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    // Restoring replaces the database file: this process must not hold it open.
    if let Command::Restore { file } = &cli.command {
        si_store::restore_sqlite(&cli.database_url, file).await?;
        eprintln!("Base restaurée depuis {}. Redémarrez le service.", file.display());
        return Ok(());
    }
    let shown = redact_url(&cli.database_url);
    let store = si_store::connect(&cli.database_url)
        .await
        .with_context(|| format!("cannot open the database {shown} (is it running and reachable?)"))?;
    store.migrate().await?;
    match cli.command {
        Command::Serve {
            mail_url,
            mail_from,
            bind,
            demo,
            production,
            public_url,
            contact_email,
            tile_url,
            cache_seconds,
            booking_retention_months,
            behind_proxy,
            trusted_proxies,
            siret_directory_url,
            uai_directory_url,
            oidc_discovery_url,
            oidc_client_id,
            oidc_client_secret,
            metrics_token,
        } => {
            let oidc = match (oidc_discovery_url, oidc_client_id, oidc_client_secret) {
                (None, None, None) => None,
                (Some(discovery_url), Some(client_id), Some(client_secret)) => {
                    Some(si_web::oidc::OidcConfig { discovery_url, client_id, client_secret })
                }
                _ => bail!("ProConnect needs OIDC_DISCOVERY_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together"),
            };
            if production {
                let problems = production_problems(demo, public_url.as_deref(), &mail_url);
                if !problems.is_empty() {
                    bail!("refusing to start in production mode (PRODUCTION):\n  - {}", problems.join("\n  - "));
                }
            }
            if demo {
                demo::fill_if_empty(&store).await?;
            }
            if public_url.is_none() {
                eprintln!(
                    "Attention : sans --public-url (PUBLIC_URL), les liens des courriels, des QR codes des kits \
                     de label, du plan du site et des flux pointent vers http://{bind}, l'adresse locale."
                );
            }
            if !si_domain::event::is_email(&contact_email) {
                bail!("CONTACT_EMAIL is not an email address: {contact_email:?}");
            }
            let config = WebConfig {
                contact_email,
                public_url: public_url.clone().unwrap_or_else(|| format!("http://{bind}")),
                secure_cookies: public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
                tile_url,
                cache_ttl: std::time::Duration::from_secs(cache_seconds),
                proxies: {
                    let mut p = si_web::auth::ProxyTrust::parse(&trusted_proxies)
                        .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: {e}"))?;
                    if behind_proxy {
                        p.extend(si_web::auth::ProxyTrust::loopback());
                    }
                    p
                },
                siret_directory: siret_directory_url,
                uai_directory: uai_directory_url,
                oidc,
                booking_retention_months,
                metrics_token,
            };
            let transport = si_web::mail::Transport::from_url(&mail_url)
                .with_context(|| format!("cannot use MAIL_URL {mail_url:?}"))?;
            let mail = si_web::mail::WorkerConfig { from: mail_from, ..si_web::mail::WorkerConfig::default() };
            serve(store, bind, config, transport, mail).await
        }
        Command::Migrate => {
            eprintln!("Migrations appliquées.");
            Ok(())
        }
        Command::Backup { file } => {
            let path = file.to_str().context("the backup path must be valid UTF-8")?;
            store.backup(path).await?;
            eprintln!("Sauvegarde écrite : {}", file.display());
            Ok(())
        }
        Command::Restore { .. } => unreachable!("handled before the database is opened"),
        Command::User {
            command: UserCommand::Create { email, role, region, organisation, department, kind, name },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            create_user(&store, &email, &role, region, organisation, &department, &kind, name, password).await
        }
        Command::Token { command: TokenCommand::Create { email, name, days } } => {
            let user = store.user_by_email(&email).await?.with_context(|| format!("no account with email {email}"))?;
            if let Err(m) = si_domain::input::single_line("Le nom", &name) {
                bail!("{m}");
            }
            let state = AppState::new(store, WebConfig::default());
            let token = si_web::auth::create_api_token(&state, user.id, &name, days)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("{token}");
            Ok(())
        }
        Command::Demo { events, submitted } => {
            if events > 0 {
                let n = demo::add_events(&store, 2024, events as usize, 0x5eed).await?;
                eprintln!("{n} événements labellisés ajoutés à l'édition 2024.");
            }
            if submitted > 0 {
                let n = demo::add_submissions(&store, submitted as usize, 0x5ab).await?;
                eprintln!("{n} demandes en attente d'instruction ajoutées à l'édition ouverte.");
            }
            Ok(())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn create_user(
    store: &DynStore,
    email: &str,
    role: &str,
    region: Option<String>,
    organisation: Option<String>,
    department: &str,
    kind: &str,
    name: Option<String>,
    password: String,
) -> anyhow::Result<()> {
    let role = Role::parse(role)
        .with_context(|| format!("unknown role {role:?}: organiser, regional_coordinator or national_admin"))?;
    if let Some(problem) = si_domain::input::password_problem(&password) {
        bail!("the password read from standard input is refused: {problem}");
    }
    if !si_domain::event::is_email(email) {
        bail!("invalid email {email:?}");
    }
    let region = match role {
        Role::RegionalCoordinator => {
            let r = region.context("--region is required for a regional coordinator")?;
            if si_domain::territory::territory().region(&r).is_none() {
                bail!("unknown region code {r:?} (INSEE codes: 84, 11, 93, …)");
            }
            Some(r)
        }
        _ => None,
    };
    let organisation_id = match role {
        Role::Organiser => {
            let name = organisation.context("--organisation is required for an organiser")?;
            match store.organisation_by_name(&name).await? {
                Some(o) => Some(o.id),
                None => {
                    let kind =
                        OrganisationKind::parse(kind).with_context(|| format!("unknown organisation kind {kind:?}"))?;
                    if si_domain::territory::territory().department(department).is_none() {
                        bail!("unknown department {department:?}");
                    }
                    let o = store
                        .create_organisation(&NewOrganisation {
                            name,
                            kind,
                            department: department.to_string(),
                            identifier: None,
                        })
                        .await?;
                    Some(o.id)
                }
            }
        }
        _ => None,
    };
    let password_hash = tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await?;
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let user = store
        .create_user(&NewUser { email: email.to_string(), name, password_hash, role, region, organisation_id })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The operator who creates an account vouches for its address.
    store.mark_email_verified(user.id, &[], chrono::Utc::now()).await?;
    eprintln!("Compte créé : {} ({})", user.email, user.role.label());
    Ok(())
}

async fn serve(
    store: DynStore,
    bind: SocketAddr,
    config: WebConfig,
    transport: si_web::mail::Transport,
    mail: si_web::mail::WorkerConfig,
) -> anyhow::Result<()> {
    let state = AppState::new(store, config);
    // Stopping (SIGTERM from systemd or an orchestrator, Ctrl-C by hand): the server stops accepting
    // and answers what is in flight, then the worker ends between two emails.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // The outbox worker: emails leave in the background, with retries, whatever the SMTP server does.
    let worker = tokio::spawn(si_web::worker::run_worker(state.clone(), transport, mail, stopped(stop_rx.clone())));
    // Changes made through other nodes reach this one's index and caches.
    tokio::spawn(si_web::worker::follow_public_changes(state.clone()));
    // Build the catalogue index now, so that the first visitor does not wait for it.
    let warm = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.catalogue.index(&warm.store).await {
            tracing::error!(error = %e, "catalogue index not built");
        }
    });
    // Expired public answers leave memory even when nobody asks for new ones.
    let caches = state.caches.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            every.tick().await;
            caches.sweep();
        }
    });
    let app = si_web::router(state);
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!("Semaine de l'industrie : http://{}", listener.local_addr()?);
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
        tracing::info!("stopping: no new connections, answering those in flight");
    };
    si_web::server::serve(listener, app, si_web::server::ServerLimits::default(), shutdown).await?;
    let _ = stop_tx.send(true);
    if tokio::time::timeout(std::time::Duration::from_secs(15), worker).await.is_err() {
        tracing::warn!("the outbox worker did not stop within 15 s; its lease expires on its own");
    }
    tracing::info!("stopped");
    Ok(())
}

/// What makes settings unsafe for the official deployment, one sentence each (empty: safe).
fn production_problems(demo: bool, public_url: Option<&str>, mail_url: &str) -> Vec<String> {
    let mut out = Vec::new();
    if demo {
        out.push("--demo fills the database with fictitious events: remove it".to_string());
    }
    match public_url {
        None => out.push(
            "PUBLIC_URL is not set: emails, QR codes, the sitemap and feeds would point to the local address".into(),
        ),
        Some(u) if !u.starts_with("https://") => out.push(format!(
            "PUBLIC_URL {u:?} is not https: session cookies would travel in clear (no Secure flag, no HSTS)"
        )),
        Some(_) => {}
    }
    if mail_url.starts_with("file://") {
        out.push(format!(
            "MAIL_URL {mail_url:?} writes emails to files: nobody would receive them (smtp:// or smtps://)"
        ));
    }
    out
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn production_mode_names_each_unsafe_setting() {
        use super::production_problems;
        assert!(production_problems(false, Some("https://semaine-industrie.gouv.fr"), "smtp://relais:25").is_empty());
        let all = production_problems(true, Some("http://10.0.0.4:8080"), "file://data/courriels");
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("--demo") && all[1].contains("not https") && all[2].contains("MAIL_URL"));
        assert!(production_problems(false, None, "smtps://u:p@relais")[0].contains("PUBLIC_URL is not set"));
    }
}
