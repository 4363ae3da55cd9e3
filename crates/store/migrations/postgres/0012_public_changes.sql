-- What the public sees changes (labels, public statuses, accepted changes, revocations, editions;
-- seats of booked sessions): each such write bumps a counter in its own transaction, and every node
-- polls the two counters to refresh its catalogue index and caches (several nodes, one truth).
CREATE TABLE public_changes (kind TEXT PRIMARY KEY, version BIGINT NOT NULL DEFAULT 0);
INSERT INTO public_changes (kind, version) VALUES ('labels', 0), ('seats', 0);

-- Submissions and decisions per hour (monitoring: /metrics) read the audit trail by time.
CREATE INDEX audit_at ON audit (at);
