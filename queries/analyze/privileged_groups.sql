-- Groups whose membership (or ownership) is privileged: groups holding a privileged directory or Azure role, and
-- the groups that are members of those, at any depth. `{schema}` is the snapshot's schema (`main`, or an attached
-- `new`); ?1 is a JSON array of privileged role ids.
WITH RECURSIVE holding(id) AS (
    SELECT DISTINCT principal_id FROM {schema}.grants
    WHERE relation IN ('directory_role', 'azure_role') AND role_id IN (SELECT value FROM json_each(?1))
    UNION
    SELECT m.principal_id FROM {schema}.grants m JOIN holding h ON m.target_id = h.id
    JOIN {schema}.principals p ON p.id = m.principal_id AND p.kind = 'group'
    WHERE m.relation = 'member'
)
SELECT id FROM holding
