//! Email: letters in French (a plain-text and an HTML part each), queued in the store's outbox and
//! sent by a background worker with retries and back-off, so that an SMTP outage loses nothing and a
//! sent email is never sent again. Transports: SMTP (lettre, rustls), `.eml` files (the default for
//! `cargo run`: nothing leaves the machine), and memory (tests).

use sha2::Digest;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use si_store::{DynStore, NewEmail};
use tokio::sync::Notify;

/// A letter before rendering: a subject, paragraphs, a list, and buttons (label, absolute URL).
#[derive(Debug, Clone, Default)]
pub struct Letter {
    /// Subject and title.
    pub subject: String,
    /// Paragraphs of plain text.
    pub paragraphs: Vec<String>,
    /// A bulleted list (digests).
    pub items: Vec<String>,
    /// Links shown as buttons.
    pub links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "email/letter.html")]
struct LetterHtml<'a> {
    subject: &'a str,
    paragraphs: &'a [String],
    items: &'a [String],
    links: &'a [(String, String)],
    contact: &'a str,
}

impl Letter {
    /// The email for one recipient, with both parts rendered from the same content.
    pub fn to(&self, recipient: &str) -> NewEmail {
        let mut text = String::new();
        for p in &self.paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
        }
        for i in &self.items {
            text.push_str("- ");
            text.push_str(i);
            text.push('\n');
        }
        if !self.items.is_empty() {
            text.push('\n');
        }
        for (label, url) in &self.links {
            text.push_str(&format!("{label} : {url}\n"));
        }
        let contact = crate::contact_email();
        text.push_str(&format!(
            "\n-- \nSemaine de l'industrie – Direction générale des Entreprises\nMerci de ne pas répondre à ce message : pour toute question, écrivez à {contact}.\n"
        ));
        let html = LetterHtml {
            subject: &self.subject,
            paragraphs: &self.paragraphs,
            items: &self.items,
            links: &self.links,
            contact,
        }
        .render()
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "email template");
            String::new()
        });
        NewEmail {
            recipient: recipient.to_string(),
            subject: self.subject.clone(),
            text,
            html,
            attachments: Vec::new(),
        }
    }
}

/// Wakes the worker when something is queued, so that emails leave at once rather than at the next poll.
#[derive(Default)]
pub struct Mail {
    wake: Notify,
}

impl Mail {
    /// Queues letters and wakes the worker. A failure to queue is logged, never shown to the person
    /// whose action succeeded: the action is what matters, and the log says which email is missing.
    pub async fn send(&self, store: &DynStore, emails: Vec<NewEmail>) {
        if emails.is_empty() {
            return;
        }
        match store.enqueue_emails(&emails, Utc::now()).await {
            Ok(()) => self.wake.notify_one(),
            Err(e) => tracing::error!(error = %e, count = emails.len(), "could not queue emails"),
        }
    }

    /// Wakes the worker (tests, after queuing directly).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when letters were queued by this process since the worker last looked.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }
}

/// An email as the memory transport keeps it.
pub type Sent = NewEmail;

/// Where emails go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory.
    Files(PathBuf),
    /// A list in memory (tests).
    Memory(Arc<Mutex<Vec<Sent>>>),
}

impl Transport {
    /// From a URL: `smtp://host:port` (plain, for a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://…` (TLS), or `file://DIR`.
    pub fn from_url(url: &str) -> anyhow::Result<Transport> {
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)?;
            return Ok(Transport::Files(PathBuf::from(dir)));
        }
        if url.starts_with("smtp://") || url.starts_with("smtps://") {
            let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(Duration::from_secs(20))).build();
            return Ok(Transport::Smtp(t));
        }
        anyhow::bail!("MAIL_URL must start with smtp://, smtps:// or file:// (got {url:?})")
    }

    /// A memory transport and the list it fills.
    pub fn memory() -> (Transport, Arc<Mutex<Vec<Sent>>>) {
        let list = Arc::new(Mutex::new(Vec::new()));
        (Transport::Memory(list.clone()), list)
    }

    async fn send(&self, from: &Mailbox, id: i64, email: &NewEmail) -> Result<(), String> {
        let message = || -> Result<Message, String> {
            let to: Mailbox = email.recipient.parse().map_err(|e| format!("adresse invalide : {e}"))?;
            let body = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
            let body = if email.attachments.is_empty() {
                body
            } else {
                // The letter first, then its files (an .ics, a PDF confirmation).
                let mut mixed = MultiPart::mixed().multipart(body);
                for a in &email.attachments {
                    let ct = ContentType::parse(&a.content_type).map_err(|e| e.to_string())?;
                    mixed =
                        mixed.singlepart(lettre::message::Attachment::new(a.name.clone()).body(a.bytes.clone(), ct));
                }
                mixed
            };
            // A Message-ID of our own, stable across retries (the same letter sent twice after a
            // lost acknowledgement is recognised as one by the recipient's software), unique across
            // deployments (the outbox id alone is not): the letter's hash, at the sender's domain.
            let digest = sha2::Sha256::digest(format!("{}\n{}\n{}", email.recipient, email.subject, email.text));
            let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let domain = from.email.domain().to_string();
            Message::builder()
                .message_id(Some(format!("<si.{id}.{hash}@{domain}>")))
                .date_now()
                .from(from.clone())
                .to(to)
                .subject(email.subject.clone())
                .multipart(body)
                .map_err(|e| e.to_string())
        };
        match self {
            Transport::Smtp(t) => t.send(message()?).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Files(dir) => {
                let bytes = message()?.formatted();
                let path = dir.join(format!("{id:08}.eml"));
                tokio::fs::write(&path, bytes).await.map_err(|e| e.to_string())
            }
            Transport::Memory(list) => {
                message()?;
                list.lock().map_err(|_| "poisoned".to_string())?.push(email.clone());
                Ok(())
            }
        }
    }
}

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The sender.
    pub from: String,
    /// First retry delay; doubled at each failure up to an hour.
    pub backoff: Duration,
    /// How long a claimed email is reserved to this worker.
    pub lease: Duration,
    /// How often the outbox is read when nothing wakes the worker (retries become due, other processes queue).
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            from: "Semaine de l'industrie <ne-pas-repondre@semaine-industrie.gouv.fr>".into(),
            backoff: Duration::from_secs(30),
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(5),
        }
    }
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// The delay before attempt `attempts + 1`: `backoff × 2^attempts`, at most an hour.
pub fn retry_delay(backoff: Duration, attempts: i64) -> Duration {
    let factor = 1u32 << attempts.clamp(0, 16) as u32;
    (backoff * factor).min(Duration::from_secs(3600))
}

/// Sends every email due now; returns how many were sent. Each is marked sent right after the
/// transport accepted it, so a later pass never sends it again.
pub async fn deliver_due(store: &DynStore, transport: &Transport, cfg: &WorkerConfig) -> anyhow::Result<usize> {
    let from: Mailbox = cfg.from.parse()?;
    let mut sent = 0;
    loop {
        let now = Utc::now();
        let Some(job) = store.claim_email(now, now + chrono(cfg.lease)).await? else {
            return Ok(sent);
        };
        match transport.send(&from, job.id, &job.email).await {
            Ok(()) => {
                store.email_sent(job.id, Utc::now()).await?;
                sent += 1;
            }
            Err(error) => {
                let retry_at: DateTime<Utc> = Utc::now() + chrono(retry_delay(cfg.backoff, job.attempts));
                tracing::warn!(id = job.id, attempts = job.attempts + 1, %error, %retry_at, "email not sent, will retry");
                store.email_failed(job.id, &error, retry_at).await?;
                // The transport is likely down: leave the rest for the next pass rather than fail them all now.
                return Ok(sent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        let b = Duration::from_secs(30);
        assert_eq!(retry_delay(b, 0), Duration::from_secs(30));
        assert_eq!(retry_delay(b, 3), Duration::from_secs(240));
        assert_eq!(retry_delay(b, 40), Duration::from_secs(3600));
    }

    #[test]
    fn a_letter_has_both_parts_with_the_same_content() {
        let l = Letter {
            subject: "Événement labellisé".into(),
            paragraphs: vec!["Bonjour, <b>pas du HTML</b>".into()],
            items: vec!["un".into()],
            links: vec![("Attestation".into(), "https://example.fr/a?b=1&c=2".into())],
        };
        let e = l.to("a@example.fr");
        assert!(e.text.contains("Bonjour, <b>pas du HTML</b>"));
        assert!(e.text.contains("Attestation : https://example.fr/a?b=1&c=2"));
        assert!(!e.html.contains("<b>pas du HTML") && e.html.contains("pas du HTML"), "{}", e.html);
        assert!(e.html.contains("lang=\"fr\""));
        assert!(e.html.contains("- un") || e.html.contains("<li"));
    }
}
