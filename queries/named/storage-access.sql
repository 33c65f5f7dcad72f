-- Azure role assignments on storage accounts and blob containers, and on the scopes above them (which the
-- storage inherits), one row per storage resource and assignment.
WITH RECURSIVE
  up(resource_id, scope_id, depth) AS (
    SELECT id, id, 0 FROM resources WHERE kind IN ('storage_account', 'container')
    UNION ALL
    SELECT up.resource_id, r.parent_id, up.depth + 1
    FROM up JOIN resources r ON r.id = up.scope_id
    WHERE r.parent_id IS NOT NULL AND r.kind <> 'tenant' AND up.depth < 16
  )
SELECT coalesce(s.display_name, s.name, s.id) AS storage,
       s.kind,
       coalesce(p.display_name, p.user_principal_name, g.principal_id) AS principal,
       coalesce(p.kind, 'unknown') AS principal_kind,
       coalesce(g.role_name, g.role_id) AS role,
       g.state,
       CASE WHEN up.depth = 0 THEN 'assigned here' ELSE 'inherited from ' || g.scope END AS how,
       s.id AS storage_id
FROM up
JOIN resources s ON s.id = up.resource_id
JOIN grant_role g ON g.target_id = up.scope_id AND g.relation = 'azure_role'
LEFT JOIN principals p ON p.id = g.principal_id
ORDER BY s.id, up.depth, role, principal
