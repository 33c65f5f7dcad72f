-- Snapshot format 1.0: the tables every snapshot has. Written once, when a snapshot is created; never edited after
-- it ships (add a new numbered file instead). Column meanings are documented in docs/snapshot-format.md.

-- Key/value metadata: format version, tool version, tenant, times, options, completeness, fingerprint.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- How each part of the collection ended (complete, skipped, unavailable, denied, failed).
CREATE TABLE parts (
    name    TEXT PRIMARY KEY NOT NULL,
    status  TEXT NOT NULL CHECK (status IN ('complete', 'skipped', 'unavailable', 'denied', 'failed')),
    detail  TEXT,
    objects INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Requests made per service, for comparing collections and tools.
CREATE TABLE request_stats (
    service   TEXT PRIMARY KEY NOT NULL,
    requests  INTEGER NOT NULL,
    pages     INTEGER NOT NULL,
    throttled INTEGER NOT NULL,
    retried   INTEGER NOT NULL,
    failed    INTEGER NOT NULL,
    bytes     INTEGER NOT NULL
) STRICT;

-- Users, groups, service principals, managed identities and other directory objects. Booleans are 0/1/NULL;
-- NULL means the service did not say. Times are RFC 3339 UTC text.
CREATE TABLE principals (
    id                           TEXT PRIMARY KEY NOT NULL,
    kind                         TEXT NOT NULL CHECK (kind IN ('user', 'group', 'service_principal',
                                     'managed_identity', 'device', 'contact', 'unknown')),
    origin                       TEXT NOT NULL CHECK (origin IN ('collected', 'external', 'unresolved')),
    display_name                 TEXT,
    user_principal_name          TEXT,
    mail                         TEXT,
    user_type                    TEXT,
    account_enabled              INTEGER CHECK (account_enabled IN (0, 1)),
    on_premises_sync             INTEGER CHECK (on_premises_sync IN (0, 1)),
    created_at                   TEXT,
    mailbox_purpose              TEXT,
    last_sign_in                 TEXT,
    last_non_interactive_sign_in TEXT,
    last_successful_sign_in      TEXT,
    security_enabled             INTEGER CHECK (security_enabled IN (0, 1)),
    mail_enabled                 INTEGER CHECK (mail_enabled IN (0, 1)),
    group_types                  TEXT,
    membership_rule              TEXT,
    is_assignable_to_role        INTEGER CHECK (is_assignable_to_role IN (0, 1)),
    app_id                       TEXT,
    service_principal_type       TEXT,
    app_owner_tenant_id          TEXT,
    managed_identity_type        TEXT,
    managed_identity_resource_id TEXT,
    attrs                        TEXT
) STRICT;

CREATE INDEX principals_by_kind ON principals (kind);
CREATE INDEX principals_by_upn ON principals (user_principal_name);
CREATE INDEX principals_by_app_id ON principals (app_id);

-- The tenant, management groups, subscriptions, resource groups, storage accounts, containers and other Azure
-- resources. ARM ids are stored lower-case in id (they compare case-insensitively) and as spelled in arm_id.
CREATE TABLE resources (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('tenant', 'management_group', 'subscription', 'resource_group',
                        'storage_account', 'container', 'user_assigned_identity', 'other')),
    name            TEXT,
    display_name    TEXT,
    parent_id       TEXT,
    arm_id          TEXT,
    subscription_id TEXT,
    location        TEXT,
    state           TEXT,
    attrs           TEXT
) STRICT;

CREATE INDEX resources_by_parent ON resources (parent_id);
CREATE INDEX resources_by_kind ON resources (kind);

-- Directory roles, Azure RBAC roles and app roles. App role ids are only unique per defining service principal
-- (every app has the all-zero default-access role), hence resource_id in the key; it is '' for other kinds.
CREATE TABLE role_definitions (
    kind              TEXT NOT NULL CHECK (kind IN ('directory', 'azure', 'app')),
    resource_id       TEXT NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT,
    description       TEXT,
    builtin           INTEGER CHECK (builtin IN (0, 1)),
    enabled           INTEGER CHECK (enabled IN (0, 1)),
    permissions       TEXT,
    assignable_scopes TEXT,
    PRIMARY KEY (kind, resource_id, id)
) STRICT;

-- One row per real assignment. Nested-group and inherited-scope access is derived at query time, not stored.
-- role_id and scope are '' (not NULL) when they do not apply, so the meaning key below is unique.
CREATE TABLE grants (
    principal_id    TEXT NOT NULL,
    principal_type  TEXT,
    relation        TEXT NOT NULL CHECK (relation IN ('member', 'owner', 'directory_role', 'app_role',
                        'azure_role', 'delegated')),
    target_id       TEXT NOT NULL,
    role_id         TEXT NOT NULL,
    scope           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'eligible')),
    assignment_type TEXT,
    member_type     TEXT,
    start_at        TEXT,
    end_at          TEXT,
    created_at      TEXT,
    source_id       TEXT,
    condition       TEXT,
    PRIMARY KEY (principal_id, relation, target_id, role_id, scope, state)
) STRICT, WITHOUT ROWID;

CREATE INDEX grants_by_target ON grants (target_id, relation);
CREATE INDEX grants_by_role ON grants (role_id);
