-- unused-roles: role assignments (directory, Azure, app roles), and memberships and ownerships of groups that
-- carry access (groups holding such a role, directly or through groups they are members of), held by principals
-- that are disabled, or, when sign-in activity was collected (?2 = 1), that have not signed in since ?1 (an RFC
-- 3339 time) or never have.
WITH RECURSIVE carrying(id) AS (
    SELECT DISTINCT principal_id FROM grants WHERE relation IN ('directory_role', 'azure_role', 'app_role')
    UNION
    SELECT m.principal_id FROM grants m JOIN carrying c ON m.target_id = c.id
    JOIN principals gp ON gp.id = m.principal_id AND gp.kind = 'group'
    WHERE m.relation = 'member'
)
SELECT g.principal_id AS principal_id, coalesce(p.display_name, p.user_principal_name, g.principal_id) AS principal_name,
       coalesce(p.kind, 'unknown') AS principal_kind, g.relation AS relation, g.role_id AS role_id,
       CASE WHEN g.relation IN ('member', 'owner') THEN g.relation ELSE coalesce(g.role_name, g.role_id) END AS role_name,
       g.target_id AS target_id, coalesce(t.display_name, r.display_name, r.name, g.target_id) AS target_name,
       g.scope AS scope, g.state AS state,
       CASE
           WHEN p.account_enabled = 0 THEN 'disabled'
           WHEN p.kind = 'unknown' THEN 'principal no longer exists'
           WHEN ?2 = 1 AND p.kind = 'user' AND p.last_sign_in IS NULL AND p.last_non_interactive_sign_in IS NULL THEN 'never signed in'
           ELSE 'inactive since ' || max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, ''))
       END AS reason,
       coalesce(p.last_sign_in, p.last_non_interactive_sign_in) AS last_sign_in
FROM grant_role g
LEFT JOIN principals p ON p.id = g.principal_id
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
WHERE (g.relation IN ('directory_role', 'azure_role', 'app_role')
       OR (g.relation IN ('member', 'owner') AND g.target_id IN (SELECT id FROM carrying)))
  AND (p.account_enabled = 0
    OR p.kind = 'unknown' OR p.id IS NULL
    OR (?2 = 1 AND p.kind = 'user' AND max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, '')) < ?1))
ORDER BY 11, 2, 6
