-- diff: groups that hold a privileged role in either snapshot (membership or ownership of them is privileged).
-- ?1 is a JSON array of privileged role ids.
SELECT DISTINCT principal_id FROM main.grants
WHERE relation IN ('directory_role', 'azure_role') AND role_id IN (SELECT value FROM json_each(?1))
UNION
SELECT DISTINCT principal_id FROM new.grants
WHERE relation IN ('directory_role', 'azure_role') AND role_id IN (SELECT value FROM json_each(?1))
