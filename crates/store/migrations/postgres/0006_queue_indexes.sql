-- The review queue and duplicate detection read only these columns: covering indexes let them be
-- answered from the index. On SQLite this matters most: the columns after the (large) JSON content
-- of a row sit behind its overflow pages, which a plain scan reads for every row.
CREATE INDEX events_queue_cover ON events (moderation, change_submitted_at, submitted_at, id, organisation_id, edition,
    title, region, department, event_type, format, weak_signal, first_day, last_day);
CREATE INDEX events_org_brief ON events (organisation_id, moderation, edition, id, title, first_day, last_day);
DROP INDEX events_queue;
