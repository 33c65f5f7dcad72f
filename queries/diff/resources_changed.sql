-- diff: resources and role definitions in both snapshots whose properties differ; old/new column pairs.
SELECT 'resource', n.id, coalesce(n.display_name, n.name, n.id), n.kind,
    o.display_name, n.display_name,
    o.parent_id, n.parent_id,
    o.state, n.state,
    o.attrs, n.attrs,
    NULL, NULL
FROM main.resources o JOIN new.resources n ON n.id = o.id
WHERE o.display_name IS NOT n.display_name OR o.parent_id IS NOT n.parent_id OR o.state IS NOT n.state OR o.attrs IS NOT n.attrs
UNION ALL
SELECT 'role_definition', n.kind || ':' || n.resource_id || ':' || n.id, coalesce(n.name, n.id), n.kind,
    o.name, n.name,
    o.enabled, n.enabled,
    o.permissions, n.permissions,
    o.assignable_scopes, n.assignable_scopes,
    o.description, n.description
FROM main.role_definitions o JOIN new.role_definitions n ON n.kind = o.kind AND n.resource_id = o.resource_id AND n.id = o.id
WHERE o.name IS NOT n.name OR o.enabled IS NOT n.enabled OR o.permissions IS NOT n.permissions
   OR o.assignable_scopes IS NOT n.assignable_scopes OR o.description IS NOT n.description
ORDER BY 1, 2
