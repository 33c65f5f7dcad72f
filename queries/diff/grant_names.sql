-- diff: display names for one grant's principal (?1), target (?2) and role (?3, of relation ?4), from the newer
-- snapshot when it has them, else the older one; and what tells the principal apart from others of its name (its
-- UPN, or its application id).
SELECT
    coalesce((SELECT coalesce(display_name, user_principal_name) FROM new.principals WHERE id = ?1),
             (SELECT coalesce(display_name, user_principal_name) FROM main.principals WHERE id = ?1), ?1),
    coalesce((SELECT kind FROM new.principals WHERE id = ?1), (SELECT kind FROM main.principals WHERE id = ?1), 'unknown'),
    coalesce((SELECT display_name FROM new.principals WHERE id = ?2), (SELECT display_name FROM main.principals WHERE id = ?2),
             (SELECT coalesce(display_name, name) FROM new.resources WHERE id = ?2),
             (SELECT coalesce(display_name, name) FROM main.resources WHERE id = ?2), ?2),
    coalesce((SELECT name FROM new.role_definitions WHERE id = ?3
                 AND kind = CASE ?4 WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
                 AND resource_id = CASE WHEN ?4 IN ('directory_role', 'azure_role') THEN '' ELSE ?2 END),
             (SELECT name FROM main.role_definitions WHERE id = ?3
                 AND kind = CASE ?4 WHEN 'directory_role' THEN 'directory' WHEN 'azure_role' THEN 'azure' ELSE 'app' END
                 AND resource_id = CASE WHEN ?4 IN ('directory_role', 'azure_role') THEN '' ELSE ?2 END), ?3),
    coalesce((SELECT coalesce(user_principal_name, app_id) FROM new.principals WHERE id = ?1),
             (SELECT coalesce(user_principal_name, app_id) FROM main.principals WHERE id = ?1), '')
