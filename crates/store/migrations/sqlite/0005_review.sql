-- Review at national scale (SQLite). Keep in step with ../postgres/0005_review.sql.
-- Change control: a labelled event keeps its published content in `data` while a material change
-- waits for review in `pending_data`.
ALTER TABLE events ADD COLUMN pending_data TEXT;
ALTER TABLE events ADD COLUMN change_submitted_at TEXT;
-- When the label was granted (decided_at moves with later decisions on changes).
ALTER TABLE events ADD COLUMN labelled_at TEXT;
-- Derived at every write, so that the queue never parses the content of 8,000 submissions.
ALTER TABLE events ADD COLUMN weak_signal BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX events_queue ON events (moderation, submitted_at);
CREATE INDEX events_pending ON events (change_submitted_at);
UPDATE events SET labelled_at = decided_at WHERE moderation = 'labelled';

ALTER TABLE users ADD COLUMN revoked_at TEXT;

CREATE TABLE edition_regions (
    year INTEGER NOT NULL REFERENCES editions(year) ON DELETE CASCADE,
    region TEXT NOT NULL,
    week_start DATE NOT NULL,
    week_end DATE NOT NULL,
    eligible_from DATE NOT NULL,
    eligible_to DATE NOT NULL,
    PRIMARY KEY (year, region)
);

CREATE TABLE reason_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

CREATE TABLE password_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- One row per day whose coordinator digest was queued: several processes never send it twice.
CREATE TABLE digest_runs (
    day TEXT PRIMARY KEY,
    at TEXT NOT NULL
);

INSERT INTO reason_templates (title, body) VALUES
    ('Hors période', 'Les dates de l''événement sont en dehors de la période éligible de l''édition.'),
    ('Public interne', 'L''événement est réservé au personnel de l''organisation : il doit être ouvert à au moins un public cible (scolaires, jeunes, étudiants, demandeurs d''emploi, communauté éducative, professionnels RH ou grand public).'),
    ('Événement payant', 'La participation doit être gratuite pour tous les participants.'),
    ('Thème industriel insuffisant', 'La description ne montre pas assez en quoi l''événement fait découvrir l''industrie, ses métiers ou ses formations. Précisez le programme (visite d''atelier, rencontre avec des professionnels, démonstration…).'),
    ('Doublon', 'Cet événement semble déjà déposé par votre organisation pour les mêmes dates. Complétez plutôt l''événement existant (une séance par créneau).'),
    ('Informations incomplètes', 'Merci de préciser le lieu exact, les horaires et les modalités d''inscription.');
