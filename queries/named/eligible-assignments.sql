-- PIM eligibility (directory roles, Azure roles, group membership and ownership), soonest end first; `days`
-- limits the list to those ending within that many days of the collection (0 = all).
-- param: days integer = 0
SELECT coalesce(p.display_name, p.user_principal_name, g.principal_id) AS principal,
       g.relation,
       coalesce((SELECT r.role_name FROM grant_role r WHERE r.principal_id = g.principal_id AND r.relation = g.relation
                 AND r.target_id = g.target_id AND r.role_id = g.role_id AND r.scope = g.scope AND r.state = g.state),
                t.display_name, nullif(g.role_id, ''), g.target_id) AS role_or_group,
       g.scope,
       g.start_at,
       coalesce(g.end_at, 'permanent') AS end_at,
       g.principal_id
FROM grants g
LEFT JOIN principals p ON p.id = g.principal_id
LEFT JOIN principals t ON t.id = g.target_id
WHERE g.state = 'eligible'
  AND (:days = 0 OR (g.end_at IS NOT NULL AND julianday(g.end_at) - julianday(:as_of) <= :days))
ORDER BY g.end_at IS NULL, g.end_at, principal
