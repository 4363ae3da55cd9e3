-- Initial schema (SQLite). Keep in step with ../postgres/0001_initial.sql: same tables, same columns.
CREATE TABLE editions (
    year INTEGER PRIMARY KEY,
    number INTEGER NOT NULL,
    theme TEXT NOT NULL,
    demo BOOLEAN NOT NULL DEFAULT 0,
    week_start DATE NOT NULL,
    week_end DATE NOT NULL,
    eligible_from DATE NOT NULL,
    eligible_to DATE NOT NULL,
    opens_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    last_label INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    department TEXT NOT NULL,
    identifier TEXT UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    region TEXT,
    organisation_id INTEGER REFERENCES organisations(id),
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    edition INTEGER NOT NULL REFERENCES editions(year),
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    created_by INTEGER REFERENCES users(id),
    data TEXT NOT NULL,
    moderation TEXT NOT NULL,
    public_status TEXT NOT NULL DEFAULT 'scheduled',
    label_number TEXT UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    region TEXT,
    department TEXT,
    commune_code TEXT,
    event_type TEXT,
    format TEXT,
    accessible BOOLEAN,
    first_day DATE,
    last_day DATE,
    search TEXT NOT NULL DEFAULT '',
    submitted_at TEXT,
    decided_at TEXT,
    decision_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX events_public ON events (moderation, edition, first_day);
CREATE INDEX events_org ON events (organisation_id);
CREATE INDEX events_region ON events (region, moderation);

CREATE TABLE event_codes (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (event_id, kind, code)
);
CREATE INDEX event_codes_lookup ON event_codes (kind, code, event_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id),
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    reason TEXT
);
CREATE INDEX audit_event ON audit (event_id, id);
