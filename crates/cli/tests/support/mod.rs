//! What the tests of the binary share: a small HTTP/1.1 client, a `serve` process waited for until
//! ready (and killed when dropped), the command line run with a password on standard input.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_semaine-industrie"))
}

/// One HTTP/1.1 exchange (`Connection: close`); the status and the body (chunks joined).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) =
        text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other(format!("no head: {text:?}")))?;
    let status: u16 =
        head.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| std::io::Error::other("status"))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let (mut out, mut rest) = (String::new(), rest);
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

pub fn get_json(port: u16, path: &str, token: Option<&str>) -> Value {
    let (s, b) = http(port, "GET", path, token, None).unwrap();
    assert_eq!(s, 200, "GET {path}: {b}");
    serde_json::from_str(&b).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Node {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Node {
    pub fn start(url: &str, dir: &Path, name: &str, demo: bool) -> Node {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let mut cmd = bin();
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("MAIL_URL", format!("file://{}", dir.join(format!("mail-{name}")).display()))
            .env("TILE_URL", "")
            .env("SIRET_DIRECTORY_URL", "")
            .env("UAI_DIRECTORY_URL", "")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if demo {
            cmd.arg("--demo");
        }
        let node = Node { child: cmd.spawn().unwrap(), port, log };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(180) {
            if matches!(http(port, "GET", "/readyz", None, None), Ok((200, _))) {
                return node;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("node {name} not ready: {}", std::fs::read_to_string(&node.log).unwrap_or_default());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary run on the database of `url` with `stdin` (a password) on its standard input.
pub fn run(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = bin()
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// [`run`], which must succeed; its standard output.
pub fn cli(url: &str, args: &[&str], stdin: &str) -> String {
    let out = run(url, args, stdin);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The year of the edition open now (the demo data has one) and a day of its week.
pub fn open_edition(port: u16) -> (i64, chrono::NaiveDate) {
    let editions = get_json(port, "/api/v1/editions", None);
    let now = chrono::Utc::now();
    let open = editions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            let t = |k: &str| chrono::DateTime::parse_from_rfc3339(e[k].as_str().unwrap()).unwrap();
            t("opens_at") <= now && now <= t("deadline")
        })
        .expect("the demo has an edition open now")
        .clone();
    let day = chrono::NaiveDate::parse_from_str(open["week_start"].as_str().unwrap(), "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1);
    (open["year"].as_i64().unwrap(), day)
}

/// A complete, eligible event of that edition, as the API takes it.
pub fn event(year: i64, day: chrono::NaiveDate, title: &str) -> Value {
    serde_json::json!({
        "edition": year, "title": title,
        "summary": "Découvrez nos ateliers de forge.",
        "description": "Visite guidée des ateliers de forge et de soudure, rencontre avec des techniciens.",
        "type": "visite_entreprise", "sectors": ["mecanique_metallurgie"], "audiences": ["scolaires"],
        "themes": [], "format": "presentiel",
        "location": {"venue": "Forge", "address": "1 rue de l'Enclume", "postal_code": "69003", "commune_code": ""},
        "online_url": "", "sessions": [{"start": format!("{day}T09:00"), "end": format!("{day}T12:00")}],
        "free": true, "industry_objective": true, "accessible": true,
        "registration": {"mode": "none"}, "contact": {"email": "contact@forges.fr", "phone": ""}
    })
}

/// An organiser of « Forges du Rhône » made by the command line; their API token.
pub fn organiser(url: &str, email: &str) -> String {
    cli(
        url,
        &[
            "user",
            "create",
            "--email",
            email,
            "--role",
            "organiser",
            "--organisation",
            "Forges du Rhône",
            "--department",
            "69",
            "--kind",
            "entreprise",
        ],
        "une phrase de passe assez longue\n",
    );
    cli(url, &["token", "create", "--email", email], "")
}
