-- diff: every grant of one snapshot in primary-key order (a sequential scan of the WITHOUT ROWID table, no sort),
-- key columns first, then the compared values, so two snapshots merge side by side in one pass. `{schema}` is
-- `main` or `new`.
SELECT principal_id, relation, target_id, role_id, scope, state,
       start_at, end_at, assignment_type, member_type, condition
FROM {schema}.grants
ORDER BY principal_id, relation, target_id, role_id, scope, state
