-- Enabled users holding roles or app roles who have not signed in for `days` days before the collection (or
-- never); empty when sign-in activity was not collected.
-- param: days integer = 90
SELECT coalesce(p.display_name, p.user_principal_name) AS "user",
       p.user_type,
       max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, '')) AS last_sign_in,
       count(*) AS grants,
       group_concat(DISTINCT g.relation) AS relations,
       p.id AS principal_id
FROM principals p
JOIN grants g ON g.principal_id = p.id AND g.relation IN ('directory_role', 'azure_role', 'app_role', 'owner')
WHERE p.kind = 'user' AND coalesce(p.account_enabled, 1) = 1
  AND EXISTS (SELECT 1 FROM parts WHERE name = 'sign_in_activity' AND status = 'complete')
  AND (max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, '')) = ''
    OR julianday(:as_of) - julianday(max(coalesce(p.last_sign_in, ''), coalesce(p.last_non_interactive_sign_in, ''))) > :days)
GROUP BY p.id
ORDER BY last_sign_in, "user"
