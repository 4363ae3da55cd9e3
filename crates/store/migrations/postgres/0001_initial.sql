-- Initial schema (PostgreSQL). Keep in step with ../sqlite/0001_initial.sql: same tables, same columns.
CREATE TABLE editions (
    year BIGINT PRIMARY KEY,
    number BIGINT NOT NULL,
    theme TEXT NOT NULL,
    demo BOOLEAN NOT NULL DEFAULT FALSE,
    week_start DATE NOT NULL,
    week_end DATE NOT NULL,
    eligible_from DATE NOT NULL,
    eligible_to DATE NOT NULL,
    opens_at TIMESTAMPTZ NOT NULL,
    deadline TIMESTAMPTZ NOT NULL,
    last_label BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE organisations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    department TEXT NOT NULL,
    identifier TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    region TEXT,
    organisation_id BIGINT REFERENCES organisations(id),
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    edition BIGINT NOT NULL REFERENCES editions(year),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    created_by BIGINT REFERENCES users(id),
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
    submitted_at TIMESTAMPTZ,
    decided_at TIMESTAMPTZ,
    decision_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_public ON events (moderation, edition, first_day);
CREATE INDEX events_org ON events (organisation_id);
CREATE INDEX events_region ON events (region, moderation);

CREATE TABLE event_codes (
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (event_id, kind, code)
);
CREATE INDEX event_codes_lookup ON event_codes (kind, code, event_id);

CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events(id),
    at TIMESTAMPTZ NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    reason TEXT
);
CREATE INDEX audit_event ON audit (event_id, id);
