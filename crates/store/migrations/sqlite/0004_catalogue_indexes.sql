-- Indexes that answer the public catalogue's filters without reading the (large) event rows:
-- place filters and near searches within an edition's labelled events.
CREATE INDEX events_public_geo ON events (moderation, edition, lat, lon);
CREATE INDEX events_public_place ON events (moderation, edition, region, department, event_type, format);
