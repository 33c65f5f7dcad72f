-- diff: display names for one grant's principal (?1), target (?2) and role (?3, of relation ?4), from the newer
-- snapshot when it has them, else the older one; and what tells the principal apart from others of its name (its
-- UPN, or its application id).
SELECT
    coalesce((SELECT coalesce(display_name, user_principal_name) FROM new.principals WHERE id = ?1),
             (SELECT coalesce(display_name, user_principal_name) FROM main.principals WHERE id = ?1), ?1) AS principal_name,
    coalesce((SELECT kind FROM new.principals WHERE id = ?1), (SELECT kind FROM main.principals WHERE id = ?1), 'unknown') AS principal_kind,
    coalesce((SELECT display_name FROM new.principals WHERE id = ?2), (SELECT display_name FROM main.principals WHERE id = ?2),
             (SELECT coalesce(display_name, name) FROM new.resources WHERE id = ?2),
             (SELECT coalesce(display_name, name) FROM main.resources WHERE id = ?2), ?2) AS target_name,
    coalesce((SELECT role_name FROM new_grant_role WHERE principal_id = ?1 AND relation = ?4 AND target_id = ?2
                 AND role_id = ?3 AND role_name IS NOT NULL LIMIT 1),
             (SELECT role_name FROM grant_role WHERE principal_id = ?1 AND relation = ?4 AND target_id = ?2
                 AND role_id = ?3 AND role_name IS NOT NULL LIMIT 1), ?3) AS role_name,
    coalesce((SELECT coalesce(user_principal_name, app_id) FROM new.principals WHERE id = ?1),
             (SELECT coalesce(user_principal_name, app_id) FROM main.principals WHERE id = ?1), '') AS principal_detail
