-- Delegated permission grants (OAuth2 consents): which client may act as whom, on which API, with which scopes.
SELECT coalesce(c.display_name, g.principal_id) AS client,
       coalesce(api.display_name, g.target_id) AS api,
       g.role_id AS scopes,
       CASE WHEN g.scope = '/' THEN 'all users (admin consent)'
            ELSE 'one user: ' || coalesce(u.user_principal_name, substr(g.scope, 8)) END AS consent_for,
       g.created_at,
       g.principal_id AS client_id
FROM grants g
LEFT JOIN principals c ON c.id = g.principal_id
LEFT JOIN principals api ON api.id = g.target_id
LEFT JOIN principals u ON g.scope LIKE '/users/%' AND u.id = substr(g.scope, 8)
WHERE g.relation = 'delegated'
ORDER BY g.scope <> '/', client, api
