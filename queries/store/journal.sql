-- The apply journal, append-only: one row per attempt at an action of a plan (identified by the SHA-256 of the plan
-- file), with who acted (the token's tenant, object and application ids), the service's request id and host. A
-- re-run adds rows (`skipped` for what an earlier run did); no row is ever changed or removed.
CREATE TABLE IF NOT EXISTS attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    plan_sha256 TEXT NOT NULL,
    action_id   TEXT NOT NULL,
    operation   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('done', 'skipped', 'failed', 'refused')),
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor_tid   TEXT,
    actor_oid   TEXT,
    actor_appid TEXT,
    request_id  TEXT,
    host        TEXT,
    approved_by TEXT,
    reviewed_by TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS attempts_by_action ON attempts (plan_sha256, action_id, seq);
CREATE TRIGGER IF NOT EXISTS attempts_are_not_updated BEFORE UPDATE ON attempts
BEGIN SELECT RAISE(ABORT, 'the apply journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS attempts_are_not_deleted BEFORE DELETE ON attempts
BEGIN SELECT RAISE(ABORT, 'the apply journal is append-only'); END;
-- One seal per run: a statement over every attempt up to the run's last row (and the seal before it), its SHA-256,
-- and, with `apply --signing-key`, an SSHSIG over the statement.
CREATE TABLE IF NOT EXISTS seals (
    run_id    TEXT PRIMARY KEY NOT NULL,
    last_seq  INTEGER NOT NULL,
    statement TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    signature TEXT
) STRICT;
