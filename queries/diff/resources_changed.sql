-- diff: resources in both snapshots whose properties differ; each compared field is a pair of columns,
-- "old:<field>" and "new:<field>".
SELECT n.id AS key, coalesce(n.display_name, n.name, n.id) AS name, n.kind AS object_kind,
    o.display_name AS "old:displayName", n.display_name AS "new:displayName",
    o.parent_id AS "old:parent", n.parent_id AS "new:parent",
    o.state AS "old:state", n.state AS "new:state",
    o.attrs AS "old:attributes", n.attrs AS "new:attributes"
FROM main.resources o JOIN new.resources n ON n.id = o.id
WHERE o.display_name IS NOT n.display_name OR o.parent_id IS NOT n.parent_id OR o.state IS NOT n.state OR o.attrs IS NOT n.attrs
ORDER BY n.id
