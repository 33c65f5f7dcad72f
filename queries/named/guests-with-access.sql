-- Guest users and what they hold: roles, app roles, ownerships and group memberships.
SELECT coalesce(p.display_name, p.user_principal_name) AS guest,
       p.user_principal_name AS upn,
       g.relation,
       coalesce(t.display_name, r.display_name, r.name, g.target_id) AS target,
       coalesce(g.role_name, nullif(g.role_id, '')) AS role,
       g.state,
       p.account_enabled AS enabled,
       p.last_sign_in,
       p.id AS principal_id
FROM principals p
JOIN grant_role g ON g.principal_id = p.id
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
WHERE p.kind = 'user' AND p.user_type = 'Guest'
ORDER BY guest, g.relation, target
