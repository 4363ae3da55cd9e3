-- The review queue kept in memory by each node (app::queue::QueueCache) is checked against this
-- counter at every queue page: every move of an event that is or was out of draft (submission,
-- decision, change, withdrawal, edit of a submitted or labelled event) and the bulk load bump it in
-- their own transaction, so a reviewer never sees a queue older than their request.
INSERT INTO public_changes (kind, version) VALUES ('queue', 0);

-- Which event each bump of the queue counter moved (written with the bump): a node whose queue is a
-- few moves old reads these and updates the moved events alone instead of reading the whole queue.
-- A bump without its row (the bulk load) or rows already swept make it read the whole queue.
CREATE TABLE queue_moves (
    version BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL,
    organisation_id BIGINT NOT NULL
);

-- Likewise for the catalogue: which event each bump of the `labels` counter moved (a label, a
-- public status, an accepted change, a withdrawn label). A node applies these events to its
-- catalogue index instead of rebuilding it whole; a bump without its row (an edition, the bulk
-- load) or rows already swept make it rebuild.
CREATE TABLE catalogue_moves (
    version BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL
);
