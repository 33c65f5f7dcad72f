-- Role-assignable groups (and any group holding a directory role): their roles and their direct members and owners.
SELECT coalesce(grp.display_name, grp.id) AS "group",
       grp.is_assignable_to_role AS role_assignable,
       (SELECT group_concat(coalesce(r.role_name, r.role_id), ', ')
        FROM grant_role r
        WHERE r.principal_id = grp.id AND r.relation = 'directory_role') AS directory_roles,
       m.relation,
       coalesce(p.display_name, p.user_principal_name, m.principal_id) AS holder,
       coalesce(p.kind, 'unknown') AS holder_kind,
       m.state,
       grp.id AS group_id
FROM principals grp
JOIN grants m ON m.target_id = grp.id AND m.relation IN ('member', 'owner')
LEFT JOIN principals p ON p.id = m.principal_id
WHERE grp.kind = 'group'
  AND (grp.is_assignable_to_role = 1
    OR EXISTS (SELECT 1 FROM grants r WHERE r.principal_id = grp.id AND r.relation = 'directory_role'))
ORDER BY "group", m.relation, holder
