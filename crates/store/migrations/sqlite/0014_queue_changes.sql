-- The review queue kept in memory by each node (app::queue::QueueCache) is checked against this
-- counter at every queue page: every move of an event that is or was out of draft (submission,
-- decision, change, withdrawal, edit of a submitted or labelled event) and the bulk load bump it in
-- their own transaction, so a reviewer never sees a queue older than their request.
INSERT INTO public_changes (kind, version) VALUES ('queue', 0);
