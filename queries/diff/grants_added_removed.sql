-- diff: grants present in only one snapshot, matched on what they mean (principal, relation, target, role, scope,
-- state), never on assignment ids. Names come from whichever snapshot has them.
WITH added AS (
    SELECT 'added' AS change, n.* FROM new.grants n
    WHERE NOT EXISTS (SELECT 1 FROM main.grants o WHERE o.principal_id = n.principal_id AND o.relation = n.relation
        AND o.target_id = n.target_id AND o.role_id = n.role_id AND o.scope = n.scope AND o.state = n.state)
), removed AS (
    SELECT 'removed' AS change, o.* FROM main.grants o
    WHERE NOT EXISTS (SELECT 1 FROM new.grants n WHERE n.principal_id = o.principal_id AND n.relation = o.relation
        AND n.target_id = o.target_id AND n.role_id = o.role_id AND n.scope = o.scope AND n.state = o.state)
), both_sides AS (SELECT * FROM added UNION ALL SELECT * FROM removed)
SELECT g.change, g.principal_id, g.relation, g.target_id, g.role_id, g.scope, g.state, g.start_at, g.end_at,
    coalesce(np.display_name, op.display_name, np.user_principal_name, op.user_principal_name, g.principal_id),
    coalesce(np.kind, op.kind, 'unknown'),
    coalesce(nt.display_name, ot.display_name, nr.display_name, nr.name, orr.display_name, orr.name, g.target_id),
    coalesce(nd.name, od.name, g.role_id)
FROM both_sides g
LEFT JOIN new.principals np ON np.id = g.principal_id
LEFT JOIN main.principals op ON op.id = g.principal_id
LEFT JOIN new.principals nt ON nt.id = g.target_id
LEFT JOIN main.principals ot ON ot.id = g.target_id
LEFT JOIN new.resources nr ON nr.id = g.target_id
LEFT JOIN main.resources orr ON orr.id = g.target_id
LEFT JOIN new.role_definitions nd ON nd.id = g.role_id
    AND nd.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND (nd.kind <> 'app' OR nd.resource_id = g.target_id)
LEFT JOIN main.role_definitions od ON od.id = g.role_id
    AND od.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND (od.kind <> 'app' OR od.resource_id = g.target_id)
ORDER BY g.principal_id, g.relation, g.target_id, g.role_id, g.scope, g.state, g.change
