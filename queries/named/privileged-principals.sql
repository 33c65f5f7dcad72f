-- Principals holding a privileged directory or Azure role, directly or through (nested) groups, active or eligible
-- (eligible when the role or any membership on the way is).
WITH RECURSIVE
  privileged AS (
    SELECT g.* FROM json_each(:privileged_roles) pr CROSS JOIN grant_role g ON g.role_id = pr.value
    WHERE g.relation IN ('directory_role', 'azure_role')
  ),
  holders(principal_id, relation, role_id, role_name, scope, state, ids, via) AS (
    SELECT principal_id, relation, role_id, role_name, scope, state, principal_id, '' FROM privileged
    UNION ALL
    SELECT m.principal_id, h.relation, h.role_id, h.role_name, h.scope, max(h.state, m.state), h.ids || ' ' || m.principal_id,
           coalesce(t.display_name, h.principal_id) || CASE WHEN h.via = '' THEN '' ELSE ' > ' || h.via END
    FROM holders h
    JOIN grants m ON m.target_id = h.principal_id AND m.relation = 'member'
    LEFT JOIN principals t ON t.id = h.principal_id
    WHERE length(h.ids) < 1200 AND instr(h.ids, m.principal_id) = 0
  )
SELECT coalesce(p.display_name, p.user_principal_name, h.principal_id) AS principal,
       coalesce(p.kind, 'unknown') AS kind,
       coalesce(h.role_name, h.role_id) AS role,
       h.state,
       h.scope,
       CASE WHEN h.via = '' THEN 'direct' ELSE 'via ' || h.via END AS through,
       h.principal_id AS principal_id
FROM holders h
LEFT JOIN principals p ON p.id = h.principal_id
WHERE coalesce(p.kind, 'unknown') <> 'group' OR h.via = ''
ORDER BY role, principal, h.scope
