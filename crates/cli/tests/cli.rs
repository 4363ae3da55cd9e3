//! The binary as an operator uses it: create the first administrator (password on standard input)
//! and other people, refuse bad input, print an API token, add generated events.

mod support;

use support::bin;

#[test]
fn user_and_token_creation() {
    let dir = std::env::temp_dir().join(format!("si-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}/cli.db", dir.display());

    let run = |args: &[&str], stdin: &str| support::run(&url, args, stdin);

    assert!(run(&["migrate"], "").status.success());
    let out =
        run(&["user", "create", "--email", "admin@dge.fr", "--role", "national_admin"], "une phrase assez longue\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Too short a password, an unknown role, a coordinator without region: refused.
    assert!(!run(&["user", "create", "--email", "x@dge.fr", "--role", "national_admin"], "court\n").status.success());
    // A common password is refused as on the site (one rule, in the domain).
    let out = run(&["user", "create", "--email", "x@dge.fr", "--role", "national_admin"], "password1234\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("trop courant"));
    assert!(
        !run(&["user", "create", "--email", "y@dge.fr", "--role", "roi"], "une phrase assez longue\n").status.success()
    );
    assert!(
        !run(&["user", "create", "--email", "z@dge.fr", "--role", "regional_coordinator"], "une phrase assez longue\n")
            .status
            .success()
    );
    let out = run(
        &[
            "user",
            "create",
            "--email",
            "orga@usine.fr",
            "--role",
            "organiser",
            "--organisation",
            "Forges de Lyon",
            "--department",
            "69",
        ],
        "une phrase assez longue\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The same email twice is refused.
    assert!(
        !run(&["user", "create", "--email", "admin@dge.fr", "--role", "national_admin"], "une phrase assez longue\n")
            .status
            .success()
    );

    let out = run(&["token", "create", "--email", "admin@dge.fr"], "");
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("si_") && token.len() > 40, "{token}");
    assert!(!run(&["token", "create", "--email", "personne@dge.fr"], "").status.success());

    let out = run(&["demo", "--events", "25"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A database that cannot be reached: one readable line naming it (without its password) within the
/// store's few seconds, no backtrace, a failing exit status.
#[test]
fn an_unreachable_database_is_one_clear_line() {
    let out = bin()
        .arg("migrate")
        .env("DATABASE_URL", "postgres://postgres:secret@127.0.0.1:1/nulle")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("semaine-industrie: cannot open the database postgres://postgres:***@127.0.0.1:1/nulle"),
        "{err}"
    );
    assert!(!err.contains("secret") && !err.contains("backtrace") && !err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
