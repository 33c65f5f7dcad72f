-- diff: the grants of one snapshot whose principal id is in [?1, ?2), in primary-key order (a range scan of the
-- WITHOUT ROWID table, no sort), key columns first, then the compared values, so two snapshots merge side by side
-- in one pass. `{schema}` is `main` or `new`.
SELECT principal_id, relation, target_id, role_id, scope, state,
       start_at, end_at, assignment_type, member_type, condition
FROM {schema}.grants
WHERE principal_id >= ?1 AND principal_id < ?2
ORDER BY principal_id, relation, target_id, role_id, scope, state
