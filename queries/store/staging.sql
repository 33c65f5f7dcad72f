-- Staging tables of a snapshot being written: facts that arrive apart from the rows they concern. TEMP tables
-- live only while the writer's connection is open, so they never reach the finished file.
CREATE TEMP TABLE sign_ins (
    id                           TEXT PRIMARY KEY NOT NULL,
    last_sign_in                 TEXT,
    last_non_interactive_sign_in TEXT,
    last_successful_sign_in      TEXT
);
CREATE TEMP TABLE mailboxes (
    id      TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL
);
CREATE TEMP TABLE excluded (
    id TEXT PRIMARY KEY NOT NULL
);
