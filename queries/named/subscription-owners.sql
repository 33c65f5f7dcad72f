-- Who can administer each subscription: Owner, User Access Administrator and Role Based Access Control
-- Administrator assignments on the subscription or inherited from a management group above it.
WITH RECURSIVE
  up(subscription_id, scope_id, depth) AS (
    SELECT id, id, 0 FROM resources WHERE kind = 'subscription'
    UNION ALL
    SELECT up.subscription_id, r.parent_id, up.depth + 1
    FROM up JOIN resources r ON r.id = up.scope_id
    WHERE r.parent_id IS NOT NULL AND r.kind IN ('subscription', 'management_group') AND up.depth < 16
  )
SELECT coalesce(s.display_name, s.name, s.id) AS subscription,
       coalesce(p.display_name, p.user_principal_name, g.principal_id) AS principal,
       coalesce(p.kind, 'unknown') AS kind,
       coalesce(d.name, g.role_id) AS role,
       g.state,
       CASE WHEN up.depth = 0 THEN 'assigned here' ELSE 'inherited from ' || g.scope END AS how,
       g.principal_id
FROM up
JOIN resources s ON s.id = up.subscription_id
JOIN grants g ON g.target_id = up.scope_id AND g.relation = 'azure_role'
LEFT JOIN principals p ON p.id = g.principal_id
LEFT JOIN role_definitions d ON d.kind = 'azure' AND d.resource_id = '' AND d.id = g.role_id
WHERE g.role_id IN ('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
                    'f58310d9-a9f6-439a-9e8d-f62e7b41a168')
ORDER BY subscription, up.depth, role, principal
