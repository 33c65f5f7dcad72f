-- Service principals owned by another tenant (Microsoft first-party apps excluded unless `first_party` = 1) and
-- the application permissions, delegated consents and roles granted to them.
-- param: first_party integer = 0
SELECT coalesce(p.display_name, p.id) AS application,
       p.app_owner_tenant_id AS owner_tenant,
       g.relation,
       coalesce(t.display_name, r.name, g.target_id) AS target,
       coalesce(g.role_name, g.role_id) AS permission,
       g.scope,
       p.id AS principal_id
FROM principals p
JOIN grant_role g ON g.principal_id = p.id AND g.relation <> 'member'
LEFT JOIN principals t ON t.id = g.target_id
LEFT JOIN resources r ON r.id = g.target_id
WHERE p.kind = 'service_principal'
  AND p.app_owner_tenant_id IS NOT NULL
  AND p.app_owner_tenant_id <> (SELECT value FROM meta WHERE key = 'tenant_id')
  AND (:first_party = 1 OR coalesce(json_extract(p.attrs, '$.firstParty'), 0) = 0)
ORDER BY application, g.relation, target
