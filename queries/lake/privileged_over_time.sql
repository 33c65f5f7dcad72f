-- Privileged access over time, one row per verified, complete snapshot of each tenant, oldest first: the
-- figures the report's chart draws (`azsnap report --history`). Needs the views of views.sql.
--   privileged_holders   principals other than groups holding a privileged grant: a privileged role of their
--                        own, or membership (or ownership) of a group that holds one
--   privileged_grants    their privileged grants, each counted once whatever its states (active, eligible)
--   grants               all grant rows of the snapshot
--   effective_privileged people and other non-group principals with privileged effective access, direct or
--                        through groups however nested (`effective_access`, as `review` resolves it)
--
-- Spark SQL runs this query as it is (checked with PySpark 4.3): count(DISTINCT (a, b, …)) counts distinct
-- structs in both. Trino and Athena read `count(DISTINCT (a, b, …))` as a row too; BigQuery has no FILTER clause:
-- write countif(…) or count(DISTINCT IF(…, x, NULL)) there.

WITH series AS (
    SELECT tenant_id, snapshot_id, snapshot_fingerprint, collected_date, started_at, tenant_name,
           row_number() OVER (PARTITION BY tenant_id ORDER BY started_at, finished_at, source_file) - 1 AS idx
    FROM snapshots
    WHERE verified AND complete
),
held AS (
    SELECT g.tenant_id, g.snapshot_id, g.principal_id, g.relation, g.target_id, g.role_id, g.scope,
           g.privileged AND p.kind IS DISTINCT FROM 'group' AS counted
    FROM grants g
    LEFT JOIN principals p
      ON p.tenant_id = g.tenant_id AND p.snapshot_id = g.snapshot_id AND p.id = g.principal_id
),
per_snapshot AS (
    SELECT tenant_id, snapshot_id,
           count(DISTINCT principal_id) FILTER (WHERE counted) AS privileged_holders,
           count(DISTINCT (principal_id, relation, target_id, role_id, scope)) FILTER (WHERE counted)
               AS privileged_grants,
           count(*) AS grants
    FROM held
    GROUP BY tenant_id, snapshot_id
),
effective AS (
    SELECT tenant_id, snapshot_id, count(DISTINCT principal_id) AS effective_privileged
    FROM effective_access
    WHERE privileged AND class <> 'group'
    GROUP BY tenant_id, snapshot_id
)
SELECT s.tenant_id, s.tenant_name, s.idx, s.started_at, s.snapshot_id, s.snapshot_fingerprint,
       coalesce(h.privileged_holders, 0) AS privileged_holders,
       coalesce(h.privileged_grants, 0) AS privileged_grants,
       coalesce(h.grants, 0) AS grants,
       coalesce(e.effective_privileged, 0) AS effective_privileged
FROM series s
LEFT JOIN per_snapshot h ON h.tenant_id = s.tenant_id AND h.snapshot_id = s.snapshot_id
LEFT JOIN effective e ON e.tenant_id = s.tenant_id AND e.snapshot_id = s.snapshot_id
ORDER BY s.tenant_id, s.idx;
