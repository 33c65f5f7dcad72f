-- The apply journal: one row per action outcome, per plan (identified by the SHA-256 of the plan file).
CREATE TABLE IF NOT EXISTS outcomes (
    plan_sha256 TEXT NOT NULL,
    action_id   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('done', 'skipped', 'failed', 'refused')),
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (plan_sha256, action_id)
) STRICT;
