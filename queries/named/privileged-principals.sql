-- Principals holding a privileged directory or Azure role, directly or through (nested) groups, active or eligible
-- (eligible when the role or any membership on the way is).
WITH RECURSIVE
  member_of(principal_id, group_id, state, ids, path) AS (
    SELECT g.principal_id, g.target_id, g.state, g.target_id, coalesce(t.display_name, g.target_id)
    FROM grants g LEFT JOIN principals t ON t.id = g.target_id WHERE g.relation = 'member'
    UNION ALL
    SELECT m.principal_id, g.target_id, max(m.state, g.state), m.ids || ' ' || g.target_id,
           m.path || ' > ' || coalesce(t.display_name, g.target_id)
    FROM member_of m JOIN grants g ON g.principal_id = m.group_id AND g.relation = 'member'
    LEFT JOIN principals t ON t.id = g.target_id
    WHERE length(m.ids) < 1200 AND instr(m.ids, g.target_id) = 0
  ),
  holders(principal_id, via_id, via_state, via) AS (
    SELECT id, id, 'active', '' FROM principals
    UNION ALL
    SELECT principal_id, group_id, state, path FROM member_of
  )
SELECT coalesce(p.display_name, p.user_principal_name, h.principal_id) AS principal,
       coalesce(p.kind, 'unknown') AS kind,
       coalesce(d.name, g.role_id) AS role,
       max(g.state, h.via_state) AS state,
       g.scope,
       CASE WHEN h.via = '' THEN 'direct' ELSE 'via ' || h.via END AS through,
       h.principal_id AS principal_id
FROM holders h
JOIN grants g ON g.principal_id = h.via_id AND g.relation IN ('directory_role', 'azure_role')
JOIN json_each(:privileged_roles) pr ON pr.value = g.role_id
LEFT JOIN principals p ON p.id = h.principal_id
LEFT JOIN role_definitions d ON d.id = g.role_id AND d.resource_id = ''
    AND d.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' ELSE 'azure' END
WHERE coalesce(p.kind, 'unknown') <> 'group' OR h.via = ''
ORDER BY role, principal, g.scope
