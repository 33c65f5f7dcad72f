-- Disabled accounts (users and service principals) that still hold roles, app roles, ownerships or memberships.
SELECT coalesce(p.display_name, p.user_principal_name, p.id) AS principal,
       p.kind,
       g.relation,
       coalesce(t.display_name, r.display_name, r.name, g.target_id) AS target,
       coalesce(d.name, nullif(g.role_id, '')) AS role,
       g.state,
       p.id AS principal_id
FROM principals p
JOIN grants g ON g.principal_id = p.id
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
LEFT JOIN role_definitions d ON d.id = g.role_id
    AND d.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND d.resource_id = CASE WHEN g.relation IN ('directory_role', 'azure_role') THEN '' ELSE g.target_id END
WHERE p.account_enabled = 0
ORDER BY principal, g.relation, target
