-- A person who signs up with the SIRET or UAI of an organisation that already has an account asks to
-- join it: the request waits here until a member accepts (organisation_id is then set) or declines.
ALTER TABLE users ADD COLUMN requested_organisation_id INTEGER REFERENCES organisations(id);
CREATE INDEX users_requested_organisation ON users (requested_organisation_id);
CREATE INDEX users_organisation ON users (organisation_id);

-- A change of address takes effect only when the link sent to the new address is followed.
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- How the SIRET or UAI was checked at sign-up: 'directory' (found open in the public directory) or
-- 'checksum' (the directory could not be reached: only its check digits were verified, which the
-- reviewer is shown).
ALTER TABLE organisations ADD COLUMN identifier_check TEXT;
ALTER TABLE organisations ADD COLUMN identifier_checked_at TEXT;
