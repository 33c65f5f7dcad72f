-- identities: every principal with the facts its class is decided from, and how much access it holds directly
-- and through groups (transitively), counting privileged grants apart. ?1 is a JSON array of privileged role ids.
-- With ?2 = 1, only principals that may not be people: neither users nor groups, or users with a non-personal
-- mailbox (the class decides; this only spares expanding everyone else's groups).
WITH RECURSIVE
  subjects(id) AS (
    SELECT id FROM principals
    WHERE ?2 = 0 OR kind NOT IN ('user', 'group') OR mailbox_purpose IN ('shared', 'room', 'equipment', 'others')
  ),
  member_of(principal_id, group_id) AS (
    SELECT principal_id, target_id FROM grants
    WHERE relation = 'member' AND state = 'active' AND (?2 = 0 OR principal_id IN (SELECT id FROM subjects))
    UNION
    SELECT m.principal_id, g.target_id FROM member_of m JOIN grants g ON g.principal_id = m.group_id
    WHERE g.relation = 'member' AND g.state = 'active'
  ),
  holders(principal_id, via) AS (
    SELECT id, id FROM subjects
    UNION
    SELECT principal_id, group_id FROM member_of
  ),
  access(principal_id, n, privileged) AS (
    SELECT h.principal_id, count(g.relation),
           sum(CASE WHEN g.relation IN ('directory_role', 'azure_role') AND g.role_id IN (SELECT value FROM json_each(?1)) THEN 1 ELSE 0 END)
    FROM holders h JOIN grants g ON g.principal_id = h.via
    WHERE g.relation <> 'member' OR h.via = h.principal_id
    GROUP BY h.principal_id
  )
SELECT p.id AS id, coalesce(p.display_name, p.user_principal_name, p.id) AS name, p.kind AS kind, p.origin AS origin,
       p.user_type AS user_type, p.mailbox_purpose AS mailbox_purpose, p.account_enabled AS account_enabled,
       p.service_principal_type AS service_principal_type, p.managed_identity_type AS managed_identity_type,
       p.app_owner_tenant_id AS owner_tenant, coalesce(json_extract(p.attrs, '$.firstParty'), 0) AS first_party,
       coalesce(a.n, 0) AS access, coalesce(a.privileged, 0) AS privileged_access,
       (SELECT value FROM meta WHERE key = 'tenant_id') AS tenant_id
FROM principals p LEFT JOIN access a ON a.principal_id = p.id
WHERE ?2 = 0 OR p.id IN (SELECT id FROM subjects)
ORDER BY coalesce(a.privileged, 0) DESC, coalesce(a.n, 0) DESC, p.kind, p.display_name
