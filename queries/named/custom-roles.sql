-- Custom Azure role definitions: their actions, assignable scopes and how many assignments each has.
SELECT coalesce(d.name, d.id) AS role,
       d.permissions,
       d.assignable_scopes,
       (SELECT count(*) FROM grants g WHERE g.relation = 'azure_role' AND g.role_id = d.id) AS assignments,
       d.id AS role_id
FROM role_definitions d
WHERE d.kind = 'azure' AND coalesce(d.builtin, 0) = 0
ORDER BY assignments DESC, role
