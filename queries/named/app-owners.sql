-- Owners of enterprise applications (service principals) and the app roles and directory roles those apps hold.
SELECT coalesce(a.display_name, a.id) AS application,
       a.app_id,
       coalesce(o.display_name, o.user_principal_name, g.principal_id) AS owner,
       coalesce(o.kind, 'unknown') AS owner_kind,
       o.account_enabled AS owner_enabled,
       (SELECT count(*) FROM grants x WHERE x.principal_id = a.id AND x.relation IN ('app_role', 'directory_role', 'azure_role'))
           AS roles_held_by_app,
       a.id AS application_id
FROM grants g
JOIN principals a ON a.id = g.target_id AND a.kind IN ('service_principal', 'managed_identity')
LEFT JOIN principals o ON o.id = g.principal_id
WHERE g.relation = 'owner'
ORDER BY roles_held_by_app DESC, application, owner
