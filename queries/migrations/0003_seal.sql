-- Format 1.2: the seal. One row: the sealed statement (canonical JSON of the fingerprint and of every `meta`,
-- `parts` and `request_stats` row), its SHA-256, and, when the collection was given a signing key, an SSHSIG
-- (namespace `azsnap`) over the statement's bytes. Not part of the fingerprint.
CREATE TABLE seal (
    id        INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    statement TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    signature TEXT
) STRICT;
