-- `collect --skip-unused-roles`: role definitions that no grant uses, active or eligible, at any scope.
DELETE FROM role_definitions
WHERE NOT EXISTS (
    SELECT 1 FROM grants AS g
    WHERE g.role_id = role_definitions.id
      AND ((role_definitions.kind = 'directory' AND g.relation = 'directory_role')
        OR (role_definitions.kind = 'azure' AND g.relation = 'azure_role')
        OR (role_definitions.kind = 'app' AND g.relation = 'app_role' AND g.target_id = role_definitions.resource_id))
);
