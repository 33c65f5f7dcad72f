-- access --resource: everyone who holds access on ?1 — grants on it, Azure role assignments on the scopes above
-- it (management groups, subscription, resource group, account), and the (nested) members of any group holding
-- one of those. A grant is eligible when it or any membership on the way is.
WITH RECURSIVE
  up(id, depth) AS (
    SELECT ?1, 0
    UNION ALL
    SELECT r.parent_id, up.depth + 1 FROM up JOIN resources r ON r.id = up.id
    WHERE r.parent_id IS NOT NULL AND r.kind <> 'tenant' AND up.depth < 16
  ),
  direct AS (
    SELECT g.*, up.depth FROM up CROSS JOIN grant_role g ON g.target_id = up.id
    WHERE up.depth = 0 OR g.relation = 'azure_role'
  ),
  holders(principal_id, relation, target_id, role_id, role_name, scope, state, end_at, depth, ids, path) AS (
    SELECT principal_id, relation, target_id, role_id, role_name, scope, state, end_at, depth, principal_id, ''
    FROM direct
    UNION ALL
    SELECT m.principal_id, h.relation, h.target_id, h.role_id, h.role_name, h.scope, max(h.state, m.state), h.end_at, h.depth,
           h.ids || ' ' || m.principal_id,
           coalesce(t.display_name, h.principal_id) || CASE WHEN h.path = '' THEN '' ELSE ' → ' || h.path END
    FROM holders h
    JOIN grants m ON m.target_id = h.principal_id AND m.relation = 'member'
    LEFT JOIN principals t ON t.id = h.principal_id
    WHERE length(h.ids) < 1200 AND instr(h.ids, m.principal_id) = 0
  )
SELECT h.principal_id AS principal_id, coalesce(p.display_name, p.user_principal_name, h.principal_id) AS principal,
       coalesce(p.kind, 'unknown') AS principal_kind, h.relation AS relation, h.role_id AS role_id,
       coalesce(h.role_name, nullif(h.role_id, '')) AS role, h.target_id AS held_at,
       coalesce(tp.display_name, tr.display_name, tr.name, h.target_id) AS held_at_name,
       h.scope AS scope, h.state AS state, h.end_at AS end_at, h.path AS via, h.ids AS via_ids, h.depth AS depth,
       coalesce(p.user_principal_name, p.app_id, '') AS principal_detail
FROM holders h
LEFT JOIN principals p ON p.id = h.principal_id
LEFT JOIN principals tp ON tp.id = h.target_id
LEFT JOIN resources tr ON tr.id = h.target_id
ORDER BY h.relation, h.depth, 6, 2
