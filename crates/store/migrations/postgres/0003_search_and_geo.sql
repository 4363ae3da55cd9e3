-- Full-text index over the folded, stemmed `search` column ('simple' configuration: the folding and
-- stemming are done in Rust, identically for both backends), and the coordinates of each event's
-- place for `near` searches (filled by the store right after this migration).
ALTER TABLE events ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE events ADD COLUMN lon DOUBLE PRECISION;
CREATE INDEX events_geo ON events (lat, lon);
CREATE INDEX events_search ON events USING GIN (to_tsvector('simple', search));
