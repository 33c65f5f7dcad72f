-- Format 1.3: the delta links a collection ended with, one per part that reads through a Graph delta query, so
-- `collect --since` can ask only for what changed. Opaque service state: not data, not in the fingerprint or the
-- seal, never printed.
CREATE TABLE delta_links (
    part TEXT PRIMARY KEY NOT NULL,
    link TEXT NOT NULL
) STRICT;
