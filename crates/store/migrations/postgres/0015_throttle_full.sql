-- When each shared bucket is whole again (seconds since 1970): the worker deletes the rows of whole
-- buckets every minute, so the table holds only buckets in use, whatever the number of sources a
-- flood comes from between two sweeps of idle rows. Rows already there: whole an hour after their
-- last attempt at the latest (the longest period of a shared limit).
ALTER TABLE throttle ADD COLUMN full_at DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE throttle SET full_at = at + 3600;
CREATE INDEX throttle_full_at ON throttle (full_at);
DROP INDEX throttle_at;
