-- Full-text index over the folded, stemmed `search` column (FTS5, kept in step by triggers), and the
-- coordinates of each event's place for `near` searches. Coordinates of existing rows are filled by
-- the store right after this migration (they come from the territory data, in Rust).
ALTER TABLE events ADD COLUMN lat REAL;
ALTER TABLE events ADD COLUMN lon REAL;
CREATE INDEX events_geo ON events (lat, lon);

CREATE VIRTUAL TABLE events_fts USING fts5(search, content='events', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF search ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO events_fts (rowid, search) VALUES (new.id, new.search);
END;
INSERT INTO events_fts (events_fts) VALUES ('rebuild');
