-- Login, password-link and sign-up limits shared by every node (token buckets): `tokens` left
-- (down to -1: a refused attempt costs a little more wait) at `at` (seconds since 1970).
CREATE TABLE throttle (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX throttle_at ON throttle (at);
