-- What the `places` filter reads without opening an event's content: its seats per session and the
-- largest group it takes (events booked on the platform only), and how many sessions it has.
-- Filled for every event by the reindexing that follows this migration.
ALTER TABLE events ADD COLUMN seats_capacity INTEGER;
ALTER TABLE events ADD COLUMN seats_max_group INTEGER;
ALTER TABLE events ADD COLUMN session_count INTEGER NOT NULL DEFAULT 0;
