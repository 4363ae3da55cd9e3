-- What organisers report after their event (one report per event, replaced when corrected).
CREATE TABLE attendance_reports (
    event_id INTEGER PRIMARY KEY REFERENCES events(id),
    reported_by INTEGER REFERENCES users(id),
    reported_at TEXT NOT NULL,
    participants INTEGER NOT NULL,
    girls INTEGER NOT NULL,
    classes INTEGER NOT NULL,
    schools INTEGER NOT NULL,
    interviews INTEGER NOT NULL,
    by_audience TEXT NOT NULL
);

-- Anonymous answers to the three questions of the participants' questionnaire: no person, no
-- address, only the event and the day.
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id),
    before_score INTEGER NOT NULL CHECK (before_score BETWEEN 1 AND 5),
    after_score INTEGER NOT NULL CHECK (after_score BETWEEN 1 AND 5),
    career TEXT NOT NULL,
    answered_on TEXT NOT NULL
);
CREATE INDEX feedback_event ON feedback (event_id);

-- Background work done once across every process (a session's reminders, an event's report
-- request, a retention pass): the first to insert the key does it.
CREATE TABLE once_jobs (
    job TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
);
