-- Service principals owned by another tenant (Microsoft first-party apps excluded unless `first_party` = 1) and
-- the application permissions, delegated consents and roles granted to them.
-- param: first_party integer = 0
SELECT coalesce(p.display_name, p.id) AS application,
       p.app_owner_tenant_id AS owner_tenant,
       g.relation,
       coalesce(t.display_name, r.name, g.target_id) AS target,
       coalesce(d.name, g.role_id) AS permission,
       g.scope,
       p.id AS principal_id
FROM principals p
JOIN grants g ON g.principal_id = p.id AND g.relation <> 'member'
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
LEFT JOIN role_definitions d ON d.id = g.role_id
    AND d.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND d.resource_id = CASE WHEN g.relation IN ('directory_role', 'azure_role') THEN '' ELSE g.target_id END
WHERE p.kind = 'service_principal'
  AND p.app_owner_tenant_id IS NOT NULL
  AND p.app_owner_tenant_id <> (SELECT value FROM meta WHERE key = 'tenant_id')
  AND (:first_party = 1 OR coalesce(json_extract(p.attrs, '$.firstParty'), 0) = 0)
ORDER BY application, g.relation, target
