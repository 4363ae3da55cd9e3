-- Bookings of sessions on the platform (registration mode `platform`). A session's seats are one
-- row: a booking is confirmed by one guarded statement (`confirmed + n <= capacity`), and the CHECK
-- below refuses any write that would overbook, whatever the code does.
CREATE TABLE session_seats (
    event_id INTEGER NOT NULL REFERENCES events(id),
    rank INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, rank),
    CHECK (confirmed >= 0 AND confirmed <= capacity)
);

-- One booking: a class (by its teacher) or a person. Only the hash of its secret link is kept. The
-- id orders arrivals: the waiting list is promoted in that order.
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id),
    rank INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    seats INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    uai TEXT,
    school TEXT,
    level TEXT,
    pupils INTEGER NOT NULL DEFAULT 0,
    adults INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    erased_at TEXT
);
CREATE INDEX bookings_session ON bookings (event_id, rank, status, id);
CREATE INDEX bookings_email ON bookings (email, event_id);

-- Files sent with an email (an .ics, a PDF confirmation): JSON [{"name", "content_type", "base64"}].
ALTER TABLE outbox ADD COLUMN attachments TEXT;
