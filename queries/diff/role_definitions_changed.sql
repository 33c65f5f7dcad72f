-- diff: role definitions in both snapshots whose properties differ; each compared field is a pair of columns,
-- "old:<field>" and "new:<field>".
SELECT n.kind || ':' || n.resource_id || ':' || n.id AS key, coalesce(n.name, n.id) AS name, n.kind AS object_kind,
    o.name AS "old:name", n.name AS "new:name",
    o.enabled AS "old:enabled", n.enabled AS "new:enabled",
    o.permissions AS "old:permissions", n.permissions AS "new:permissions",
    o.assignable_scopes AS "old:assignableScopes", n.assignable_scopes AS "new:assignableScopes",
    o.description AS "old:description", n.description AS "new:description"
FROM main.role_definitions o JOIN new.role_definitions n ON n.kind = o.kind AND n.resource_id = o.resource_id AND n.id = o.id
WHERE o.name IS NOT n.name OR o.enabled IS NOT n.enabled OR o.permissions IS NOT n.permissions
   OR o.assignable_scopes IS NOT n.assignable_scopes OR o.description IS NOT n.description
ORDER BY key
