-- review: one row per grant for an access-review sheet. ?1 limits it to grants on that target and below (an ARM
-- scope, or a directory object id; NULL for all). With ?2 = 1 the rows are effective: members of groups (nested)
-- get a row for each grant the group holds, and, for an ARM ?1, assignments on the scopes above it are included.
-- ?3 and ?4 (JSON arrays, or NULL for every grant) keep only grants of these role ids, and memberships and
-- ownerships of these groups: the privileged ones, before they are expanded.
WITH RECURSIVE
  up(id, depth) AS (
    SELECT ?1, 0 WHERE ?1 IS NOT NULL AND ?2 = 1
    UNION ALL
    SELECT r.parent_id, up.depth + 1 FROM up JOIN resources r ON r.id = up.id
    WHERE r.parent_id IS NOT NULL AND r.kind <> 'tenant' AND up.depth < 16
  ),
  scoped AS (
    -- (the role's name looked up by the grant's key: filtering `grant_role` itself would lose the target index)
    SELECT g.*, (SELECT r.role_name FROM grant_role r WHERE r.principal_id = g.principal_id AND r.relation = g.relation
             AND r.target_id = g.target_id AND r.role_id = g.role_id AND r.scope = g.scope AND r.state = g.state) AS role_name
    FROM grants g
    WHERE (?1 IS NULL OR g.target_id = ?1
       OR (substr(?1, 1, 1) = '/' AND substr(g.target_id, 1, length(?1) + 1) = ?1 || '/'))
      AND (?3 IS NULL OR g.role_id IN (SELECT value FROM json_each(?3))
       OR (g.relation IN ('member', 'owner') AND g.target_id IN (SELECT value FROM json_each(?4))))
    UNION ALL
    SELECT g.*, (SELECT r.role_name FROM grant_role r WHERE r.principal_id = g.principal_id AND r.relation = g.relation
             AND r.target_id = g.target_id AND r.role_id = g.role_id AND r.scope = g.scope AND r.state = g.state) AS role_name
    FROM up CROSS JOIN grants g ON g.target_id = up.id AND g.relation = 'azure_role'
    WHERE up.depth > 0 AND (?3 IS NULL OR g.role_id IN (SELECT value FROM json_each(?3)))
  ),
  holders(principal_id, holder_id, relation, target_id, role_id, role_name, scope, state, start_at, end_at,
          created_at, ids, via, via_id) AS (
    SELECT principal_id, principal_id, relation, target_id, role_id, role_name, scope, state, start_at, end_at,
           created_at, principal_id, '', NULL
    FROM scoped
    UNION ALL
    SELECT m.principal_id, h.holder_id, h.relation, h.target_id, h.role_id, h.role_name, h.scope, max(h.state, m.state),
           h.start_at, h.end_at, h.created_at, h.ids || ' ' || m.principal_id,
           coalesce(t.display_name, h.principal_id) || CASE WHEN h.via = '' THEN '' ELSE ' → ' || h.via END,
           h.principal_id
    FROM holders h
    JOIN grants m ON m.target_id = h.principal_id AND m.relation = 'member'
    LEFT JOIN principals t ON t.id = h.principal_id
    WHERE ?2 = 1 AND length(h.ids) < 1200 AND instr(h.ids, m.principal_id) = 0
  )
SELECT h.principal_id AS principal_id, coalesce(p.display_name, p.user_principal_name, h.principal_id) AS principal,
       p.user_principal_name AS upn,
       -- the facts identity::classify_facts reads, by these names
       coalesce(p.kind, 'unknown') AS kind, coalesce(p.origin, 'unresolved') AS origin, p.user_type AS user_type,
       p.mailbox_purpose AS mailbox_purpose, p.account_enabled AS account_enabled,
       p.service_principal_type AS service_principal_type, p.managed_identity_type AS managed_identity_type,
       p.app_owner_tenant_id AS owner_tenant, coalesce(json_extract(p.attrs, '$.firstParty'), 0) AS first_party,
       h.relation AS relation, h.target_id AS target_id,
       coalesce(tp.display_name, tr.display_name, tr.name, h.target_id) AS target, h.role_id AS role_id,
       coalesce(h.role_name, nullif(h.role_id, '')) AS role, h.scope AS scope, h.state AS state,
       coalesce(h.start_at, h.created_at) AS since, h.end_at AS until,
       nullif(max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, '')), '') AS last_sign_in,
       h.via AS via, h.via_id AS via_group_id, h.holder_id AS holder_id, p.app_id AS app_id
FROM holders h
LEFT JOIN principals p ON p.id = h.principal_id
LEFT JOIN principals tp ON tp.id = h.target_id
LEFT JOIN resources tr ON tr.id = h.target_id
ORDER BY h.principal_id, h.relation, h.target_id, h.role_id, h.scope, h.via
