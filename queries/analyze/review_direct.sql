-- review: one row per grant as assigned (no expansion), for grants on ?1 and below (an ARM scope, or a directory
-- object id; NULL for all), in primary-key order (grouped by principal; a scan, no sort). Same columns as review.sql.
SELECT g.principal_id AS principal_id, coalesce(p.display_name, p.user_principal_name, g.principal_id) AS principal,
       p.user_principal_name AS upn,
       -- the facts identity::classify_facts reads, by these names
       coalesce(p.kind, 'unknown') AS kind, coalesce(p.origin, 'unresolved') AS origin, p.user_type AS user_type,
       p.mailbox_purpose AS mailbox_purpose, p.account_enabled AS account_enabled,
       p.service_principal_type AS service_principal_type, p.managed_identity_type AS managed_identity_type,
       p.app_owner_tenant_id AS owner_tenant, coalesce(json_extract(p.attrs, '$.firstParty'), 0) AS first_party,
       g.relation AS relation, g.target_id AS target_id,
       coalesce(tp.display_name, tr.display_name, tr.name, g.target_id) AS target, g.role_id AS role_id,
       coalesce(g.role_name, nullif(g.role_id, '')) AS role, g.scope AS scope, g.state AS state,
       coalesce(g.start_at, g.created_at) AS since, g.end_at AS until,
       nullif(max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, '')), '') AS last_sign_in,
       '' AS via, NULL AS via_group_id, g.principal_id AS holder_id, p.app_id AS app_id
FROM grant_role g
LEFT JOIN principals p ON p.id = g.principal_id
LEFT JOIN principals tp ON tp.id = g.target_id
LEFT JOIN resources tr ON tr.id = g.target_id
WHERE ?1 IS NULL OR g.target_id = ?1
   OR (substr(?1, 1, 1) = '/' AND substr(g.target_id, 1, length(?1) + 1) = ?1 || '/')
ORDER BY g.principal_id, g.relation, g.target_id, g.role_id, g.scope, g.state
