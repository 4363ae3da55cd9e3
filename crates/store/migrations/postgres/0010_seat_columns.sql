-- What the `places` filter reads without opening an event's content: its seats per session and the
-- largest group it takes (events booked on the platform only), and how many sessions it has.
-- Filled for every event by the reindexing that follows this migration.
ALTER TABLE events ADD COLUMN seats_capacity BIGINT;
ALTER TABLE events ADD COLUMN seats_max_group BIGINT;
ALTER TABLE events ADD COLUMN session_count BIGINT NOT NULL DEFAULT 0;
