-- Created (TEMP, so the file stays untouched) on every snapshot azsnap opens to read, for every query to use, as
-- `grant_role` over `main`; a snapshot attached as `new` gets `new_grant_role`.
-- `grant_role`: every grant with the name of the role it means. Which `role_definitions` row that is, is the one
-- rule here: a directory role by its id, an Azure role by its id, an app role (or a delegated scope) by its id among
-- the roles of the grant's target service principal.
CREATE TEMP VIEW {view} AS
SELECT g.*, d.name AS role_name
FROM {schema}.grants g
LEFT JOIN {schema}.role_definitions d ON d.id = g.role_id
    AND d.kind = CASE g.relation WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
    AND d.resource_id = CASE WHEN g.relation IN ('directory_role', 'azure_role') THEN '' ELSE g.target_id END;
