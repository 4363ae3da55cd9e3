-- What organisers report after their event (one report per event, replaced when corrected).
CREATE TABLE attendance_reports (
    event_id BIGINT PRIMARY KEY REFERENCES events(id),
    reported_by BIGINT REFERENCES users(id),
    reported_at TIMESTAMPTZ NOT NULL,
    participants BIGINT NOT NULL,
    girls BIGINT NOT NULL,
    classes BIGINT NOT NULL,
    schools BIGINT NOT NULL,
    interviews BIGINT NOT NULL,
    by_audience TEXT NOT NULL
);

-- Anonymous answers to the three questions of the participants' questionnaire: no person, no
-- address, only the event and the day.
CREATE TABLE feedback (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events(id),
    before_score BIGINT NOT NULL CHECK (before_score BETWEEN 1 AND 5),
    after_score BIGINT NOT NULL CHECK (after_score BETWEEN 1 AND 5),
    career TEXT NOT NULL,
    answered_on DATE NOT NULL
);
CREATE INDEX feedback_event ON feedback (event_id);

-- Background work done once across every process (a session's reminders, an event's report
-- request, a retention pass): the first to insert the key does it.
CREATE TABLE once_jobs (
    job TEXT PRIMARY KEY,
    done_at TIMESTAMPTZ NOT NULL
);
