-- diff: principals, resources and role definitions present in only one of the two snapshots (main = old, new =
-- the attached newer snapshot). One row per object: change, kind of object, key, kind, name.
SELECT 'added' AS change, 'principal' AS item_type, n.id AS key, n.kind AS object_kind,
    coalesce(n.display_name, n.user_principal_name, n.id) AS name
FROM new.principals n WHERE NOT EXISTS (SELECT 1 FROM main.principals o WHERE o.id = n.id)
UNION ALL
SELECT 'removed', 'principal', o.id, o.kind, coalesce(o.display_name, o.user_principal_name, o.id)
FROM main.principals o WHERE NOT EXISTS (SELECT 1 FROM new.principals n WHERE n.id = o.id)
UNION ALL
SELECT 'added', 'resource', n.id, n.kind, coalesce(n.display_name, n.name, n.id)
FROM new.resources n WHERE NOT EXISTS (SELECT 1 FROM main.resources o WHERE o.id = n.id)
UNION ALL
SELECT 'removed', 'resource', o.id, o.kind, coalesce(o.display_name, o.name, o.id)
FROM main.resources o WHERE NOT EXISTS (SELECT 1 FROM new.resources n WHERE n.id = o.id)
UNION ALL
SELECT 'added', 'role_definition', n.kind || ':' || n.resource_id || ':' || n.id, n.kind, coalesce(n.name, n.id)
FROM new.role_definitions n
WHERE NOT EXISTS (SELECT 1 FROM main.role_definitions o WHERE o.kind = n.kind AND o.resource_id = n.resource_id AND o.id = n.id)
UNION ALL
SELECT 'removed', 'role_definition', o.kind || ':' || o.resource_id || ':' || o.id, o.kind, coalesce(o.name, o.id)
FROM main.role_definitions o
WHERE NOT EXISTS (SELECT 1 FROM new.role_definitions n WHERE n.kind = o.kind AND n.resource_id = o.resource_id AND n.id = o.id)
ORDER BY 2, 3, 1
