-- access --principal: everything ?1 holds, directly and through (nested) groups, with Azure role assignments
-- expanded to every resource below their scope. A grant is eligible when it or any membership on the way is.
WITH RECURSIVE
  chain(group_id, state, ids, path) AS (
    SELECT ?1, 'active', ?1, ''
    UNION ALL
    SELECT g.target_id, max(c.state, g.state), c.ids || ' ' || g.target_id,
           c.path || CASE WHEN c.path = '' THEN '' ELSE ' → ' END || coalesce(t.display_name, g.target_id)
    FROM chain c
    JOIN grants g ON g.principal_id = c.group_id AND g.relation = 'member'
    LEFT JOIN principals t ON t.id = g.target_id
    WHERE length(c.ids) < 1200 AND instr(c.ids, g.target_id) = 0
  ),
  held AS (
    SELECT g.relation, g.target_id, g.role_id, g.role_name, g.scope, max(g.state, c.state) AS state, g.end_at, c.path,
           c.ids
    FROM chain c CROSS JOIN grant_role g ON g.principal_id = c.group_id
  ),
  below(root, id, depth) AS (
    SELECT DISTINCT target_id, target_id, 0 FROM held WHERE relation = 'azure_role'
    UNION ALL
    SELECT b.root, r.id, b.depth + 1 FROM below b JOIN resources r ON r.parent_id = b.id WHERE b.depth < 16
  )
SELECT h.relation AS relation, h.role_id AS role_id, coalesce(h.role_name, nullif(h.role_id, '')) AS role,
       coalesce(b.id, h.target_id) AS target_id,
       coalesce(tp.display_name, tr.display_name, tr.name, b.id, h.target_id) AS target,
       coalesce(tp.kind, tr.kind, 'unknown') AS target_kind,
       h.scope AS scope, h.state AS state, h.end_at AS end_at, h.path AS via, h.ids AS via_ids,
       CASE WHEN b.depth > 0 THEN h.target_id END AS inherited_from,
       CASE WHEN b.depth > 0 THEN coalesce(ir.display_name, ir.name, h.target_id) END AS inherited_name
FROM held h
LEFT JOIN below b ON h.relation = 'azure_role' AND b.root = h.target_id
LEFT JOIN principals tp ON tp.id = coalesce(b.id, h.target_id)
LEFT JOIN resources tr ON tr.id = coalesce(b.id, h.target_id)
LEFT JOIN resources ir ON ir.id = h.target_id
ORDER BY h.relation, coalesce(b.depth, 0), 4, 3
