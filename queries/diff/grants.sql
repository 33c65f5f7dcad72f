-- diff: grants present in only one snapshot, or in both with other time bounds, PIM type or condition. Grants
-- are matched on what they mean (principal, relation, target, role, scope, state), never on assignment ids. One
-- pass over the new grants (probing the old primary key) finds additions and changes; one anti-join over the old
-- grants finds removals. Old values of changed grants follow the new ones. Names come from either snapshot.
WITH both_sides AS (
    SELECT CASE WHEN o.principal_id IS NULL THEN 'added' ELSE 'changed' END AS change,
        n.principal_id, n.relation, n.target_id, n.role_id, n.scope, n.state,
        n.start_at, n.end_at, n.assignment_type, n.member_type, n.condition,
        o.start_at AS old_start_at, o.end_at AS old_end_at, o.assignment_type AS old_assignment_type,
        o.member_type AS old_member_type, o.condition AS old_condition
    FROM new.grants n
    LEFT JOIN main.grants o ON o.principal_id = n.principal_id AND o.relation = n.relation AND o.target_id = n.target_id
        AND o.role_id = n.role_id AND o.scope = n.scope AND o.state = n.state
    WHERE o.principal_id IS NULL OR o.start_at IS NOT n.start_at OR o.end_at IS NOT n.end_at
        OR o.assignment_type IS NOT n.assignment_type OR o.member_type IS NOT n.member_type OR o.condition IS NOT n.condition
    UNION ALL
    SELECT 'removed', o.principal_id, o.relation, o.target_id, o.role_id, o.scope, o.state,
        o.start_at, o.end_at, o.assignment_type, o.member_type, o.condition, NULL, NULL, NULL, NULL, NULL
    FROM main.grants o
    WHERE NOT EXISTS (SELECT 1 FROM new.grants n WHERE n.principal_id = o.principal_id AND n.relation = o.relation
        AND n.target_id = o.target_id AND n.role_id = o.role_id AND n.scope = o.scope AND n.state = o.state)
)
SELECT g.change, g.principal_id, g.relation, g.target_id, g.role_id, g.scope, g.state, g.start_at, g.end_at,
    coalesce(np.display_name, op.display_name, np.user_principal_name, op.user_principal_name, g.principal_id),
    coalesce(np.kind, op.kind, 'unknown'),
    coalesce(nt.display_name, ot.display_name, nr.display_name, nr.name, orr.display_name, orr.name, g.target_id),
    coalesce(nd.name, od.name, g.role_id),
    g.old_start_at, g.start_at, g.old_end_at, g.end_at, g.old_assignment_type, g.assignment_type,
    g.old_member_type, g.member_type, g.old_condition, g.condition
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
