-- The lake as DuckDB views, one per table, over the Hive-partitioned Parquet files `azsnap export --lake DIR`
-- writes. Set the lake's location first, then read this file:
--
--   SET VARIABLE lake = '/data/azsnap-lake';
--   .read queries/lake/views.sql
--
-- `tenant_id` and `collected_date` come from the partition directories; `union_by_name` lets files written by
-- different azsnap versions (a column added later) be read together. Only snapshots with a row in `snapshots`
-- are whole: that row is written last, so join on it (the queries here do) to never see half a snapshot.
--
-- Spark SQL: there are no variables and no read_parquet; register each table from PySpark instead:
--   spark.read.option("basePath", lake).option("mergeSchema", "true").parquet(f"{lake}/grants")
--        .createOrReplaceTempView("grants")
-- or, in Spark SQL, `CREATE TEMPORARY VIEW grants USING parquet OPTIONS (path '/data/azsnap-lake/grants',
-- mergeSchema 'true')`. Partition discovery gives the same two columns (collected_date as a DATE).

-- One table of the lake: every part file under DIR/<name>/, with the two partition columns.
CREATE OR REPLACE MACRO lake_table(name) AS TABLE
SELECT * FROM read_parquet(getvariable('lake') || '/' || name || '/*/*/*.parquet', hive_partitioning = true,
    union_by_name = true, hive_types = {'tenant_id': VARCHAR, 'collected_date': DATE});

CREATE OR REPLACE VIEW snapshots AS SELECT * FROM lake_table('snapshots');
CREATE OR REPLACE VIEW principals AS SELECT * FROM lake_table('principals');
CREATE OR REPLACE VIEW resources AS SELECT * FROM lake_table('resources');
CREATE OR REPLACE VIEW role_definitions AS SELECT * FROM lake_table('role_definitions');
CREATE OR REPLACE VIEW grants AS SELECT * FROM lake_table('grants');
CREATE OR REPLACE VIEW effective_access AS SELECT * FROM lake_table('effective_access');
CREATE OR REPLACE VIEW parts AS SELECT * FROM lake_table('parts');
CREATE OR REPLACE VIEW request_stats AS SELECT * FROM lake_table('request_stats');
