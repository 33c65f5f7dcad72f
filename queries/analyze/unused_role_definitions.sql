-- unused-roles: role definitions that no grant uses, active or eligible, at any scope: custom roles first, then
-- application roles, then built-in ones.
SELECT d.kind AS kind, d.id AS id, coalesce(d.name, d.id) AS name, coalesce(d.builtin, 0) AS builtin,
       d.resource_id AS resource_id, coalesce(p.display_name, '') AS application
FROM role_definitions d
LEFT JOIN principals p ON p.id = d.resource_id
WHERE NOT EXISTS (
    SELECT 1 FROM grants g
    WHERE g.role_id = d.id
      AND ((d.kind = 'directory' AND g.relation = 'directory_role')
        OR (d.kind = 'azure' AND g.relation = 'azure_role')
        OR (d.kind = 'app' AND g.relation = 'app_role' AND g.target_id = d.resource_id))
)
ORDER BY coalesce(d.builtin, 0), CASE d.kind WHEN 'app' THEN 1 ELSE 0 END, d.kind, d.name
