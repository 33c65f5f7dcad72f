-- diff: grants with the same meaning in both snapshots whose time bounds, PIM type or condition differ.
SELECT n.principal_id, n.relation, n.target_id, n.role_id, n.scope, n.state,
    coalesce(p.display_name, p.user_principal_name, n.principal_id), coalesce(p.kind, 'unknown'),
    coalesce(t.display_name, r.display_name, r.name, n.target_id), coalesce(d.name, n.role_id),
    o.start_at, n.start_at, o.end_at, n.end_at, o.assignment_type, n.assignment_type,
    o.member_type, n.member_type, o.condition, n.condition
FROM main.grants o
JOIN new.grants n ON n.principal_id = o.principal_id AND n.relation = o.relation AND n.target_id = o.target_id
    AND n.role_id = o.role_id AND n.scope = o.scope AND n.state = o.state
LEFT JOIN new.principals p ON p.id = n.principal_id
LEFT JOIN new.principals t ON t.id = n.target_id
LEFT JOIN new.resources r ON r.id = n.target_id
LEFT JOIN new.role_definitions d ON d.id = n.role_id
    AND d.kind = CASE n.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND (d.kind <> 'app' OR d.resource_id = n.target_id)
WHERE o.start_at IS NOT n.start_at OR o.end_at IS NOT n.end_at OR o.assignment_type IS NOT n.assignment_type
   OR o.member_type IS NOT n.member_type OR o.condition IS NOT n.condition
ORDER BY 1, 2, 3, 4, 5, 6
