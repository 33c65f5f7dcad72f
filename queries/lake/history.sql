-- The history of every grant, per tenant, over the whole lake: `azsnap history DIR --all` for each tenant at
-- once. Needs the views of views.sql.
--
-- A grant is what `diff` and `history` match on: (principal, relation, target, role, scope); its state in a
-- snapshot is active, eligible, or both (a PIM-eligible grant can be active too). One row per grant and tenant:
--   first_seen, last_seen   the first and last snapshot it was seen in (0 = the tenant's oldest), with times
--   seen, snapshots         how many of the tenant's snapshots it was seen in, of how many
--   state                   its state in the newest snapshot: absent, active, eligible or active+eligible
--   changes                 how often it appeared, disappeared or changed state after the oldest snapshot
--   privileged              privileged in a snapshot it was seen in (`grants.privileged`, as `review` decides)
-- Like `azsnap history --all`, this follows each grant whether or not it is privileged in every snapshot. For the
-- timeline of `history --privileged`, where a grant counts only in snapshots where it is privileged (a membership
-- stops counting when its group loses its privileged role), add `AND g.privileged` to the join of `sightings`.
-- Only verified, complete snapshots are counted. `azsnap history` also takes in partial ones, where a grant whose
-- part was not collected is "not known" rather than gone; the `parts` table says which parts those were.
-- Grants that never changed (changes = 0) are the ones `azsnap history` lists only with --all.
--
-- Spark SQL runs this query as it is (checked with PySpark 4.3; FILTER, bit_or and max_by need Spark 3.0 or
-- later). Trino and Athena call bit_or `bitwise_or_agg`; BigQuery has BIT_OR but no FILTER clause: write
-- countif(…), or min/max(IF(…, x, NULL)), there.

WITH series AS (
    -- Each tenant's snapshots in collection order, numbered from 0 as `azsnap history` numbers them.
    SELECT tenant_id, snapshot_id, started_at,
           row_number() OVER (PARTITION BY tenant_id ORDER BY started_at, finished_at, source_file) - 1 AS idx,
           count(*) OVER (PARTITION BY tenant_id) AS snapshots
    FROM snapshots
    WHERE verified AND complete
),
sightings AS (
    -- One row per grant per snapshot it is in: its states as bits (active 1, eligible 2).
    SELECT s.tenant_id, s.idx, g.principal_id, g.relation, g.target_id, g.role_id, g.scope,
           bit_or(CASE WHEN g.state = 'eligible' THEN 2 ELSE 1 END) AS states,
           bool_or(g.privileged) AS privileged
    FROM grants g
    JOIN series s ON s.tenant_id = g.tenant_id AND s.snapshot_id = g.snapshot_id
    GROUP BY s.tenant_id, s.idx, g.principal_id, g.relation, g.target_id, g.role_id, g.scope
),
grid AS (
    -- Every grant in every snapshot of its tenant: 0 where it was absent.
    SELECT k.tenant_id, k.principal_id, k.relation, k.target_id, k.role_id, k.scope,
           s.idx, s.started_at, s.snapshot_id, s.snapshots,
           coalesce(x.states, 0) AS states, coalesce(x.privileged, false) AS privileged
    FROM (SELECT DISTINCT tenant_id, principal_id, relation, target_id, role_id, scope FROM sightings) k
    JOIN series s ON s.tenant_id = k.tenant_id
    LEFT JOIN sightings x
      ON x.tenant_id = k.tenant_id AND x.idx = s.idx AND x.principal_id = k.principal_id
     AND x.relation = k.relation AND x.target_id = k.target_id AND x.role_id = k.role_id AND x.scope = k.scope
),
steps AS (
    SELECT *, lag(states) OVER (PARTITION BY tenant_id, principal_id, relation, target_id, role_id, scope
                                ORDER BY idx) AS before
    FROM grid
),
timelines AS (
    SELECT tenant_id, principal_id, relation, target_id, role_id, scope,
           min(idx) FILTER (WHERE states > 0) AS first_seen,
           max(idx) FILTER (WHERE states > 0) AS last_seen,
           min(started_at) FILTER (WHERE states > 0) AS first_seen_at,
           max(started_at) FILTER (WHERE states > 0) AS last_seen_at,
           max_by(snapshot_id, CASE WHEN states > 0 THEN idx END) AS last_seen_in,
           count(*) FILTER (WHERE states > 0) AS seen,
           max(snapshots) AS snapshots,
           CASE max_by(states, idx) WHEN 0 THEN 'absent' WHEN 1 THEN 'active' WHEN 2 THEN 'eligible'
                ELSE 'active+eligible' END AS state,
           count(*) FILTER (WHERE idx > 0 AND states <> before) AS changes,
           bool_or(privileged) AS privileged
    FROM steps
    GROUP BY tenant_id, principal_id, relation, target_id, role_id, scope
)
SELECT t.tenant_id,
       coalesce(p.display_name, p.user_principal_name, t.principal_id) AS principal,
       t.principal_id, t.relation, t.target_id, t.role_id, t.scope,
       t.first_seen, t.first_seen_at, t.last_seen, t.last_seen_at, t.seen, t.snapshots, t.state, t.changes,
       t.privileged
FROM timelines t
-- The principal's name as the snapshot it was last seen in has it.
LEFT JOIN principals p
  ON p.tenant_id = t.tenant_id AND p.snapshot_id = t.last_seen_in AND p.id = t.principal_id
ORDER BY t.tenant_id, t.first_seen, principal, t.relation, t.role_id, t.target_id, t.scope;
