-- Every write to an event changes its version: a decision names the version the reviewer saw, and the
-- store applies it only if the event is still at that version (no change slips in behind a reviewer).
ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- API tokens have a name (shown to their owner), an expiry, and can be revoked one by one; the id
-- lets an owner designate a token without ever seeing its secret again.
ALTER TABLE api_tokens ADD COLUMN id INTEGER;
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT 'Jeton';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
UPDATE api_tokens SET id = rowid;
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
-- The queue reads the version with its rows: keep it answered from the covering index.
DROP INDEX events_queue_cover;
CREATE INDEX events_queue_cover ON events (moderation, change_submitted_at, submitted_at, id, organisation_id, edition,
    title, region, department, event_type, format, weak_signal, first_day, last_day, version);
