-- Disabled accounts (users and service principals) that still hold roles, app roles, ownerships or memberships.
SELECT coalesce(p.display_name, p.user_principal_name, p.id) AS principal,
       p.kind,
       g.relation,
       coalesce(t.display_name, r.display_name, r.name, g.target_id) AS target,
       coalesce(g.role_name, nullif(g.role_id, '')) AS role,
       g.state,
       p.id AS principal_id
FROM principals p
JOIN grant_role g ON g.principal_id = p.id
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
WHERE p.account_enabled = 0
ORDER BY principal, g.relation, target
