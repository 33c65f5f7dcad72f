-- diff: every grant of one snapshot in primary-key order (a sequential scan of the WITHOUT ROWID table), as two
-- strings: the key (principal, relation, target, role, scope, state) and the compared values (start, end,
-- assignment type, member type, condition), fields joined by NUL and NULL written as \x01, so two snapshots merge
-- side by side in one pass. `{schema}` is `main` or `new`.
SELECT principal_id || char(0) || relation || char(0) || target_id || char(0) || role_id || char(0) || scope
           || char(0) || state,
       ifnull(start_at, char(1)) || char(0) || ifnull(end_at, char(1)) || char(0) || ifnull(assignment_type, char(1))
           || char(0) || ifnull(member_type, char(1)) || char(0) || ifnull(condition, char(1))
FROM {schema}.grants
ORDER BY principal_id, relation, target_id, role_id, scope, state
