-- reusetrack warehouse, migration 5: what lineage still owes. The lineage tables are derived
-- state: each batch records its new versions here in its own transaction, and the lineage update
-- that takes them into account deletes them in its transaction. A run killed before its lineage
-- leaves its versions here; the next run that writes (or `reusetrack lineage --stale`) brings
-- the lineage up to date with them.

CREATE TABLE lineage_pending (
    version_id BIGINT PRIMARY KEY
);

-- Before this table, a run killed before its end never built its lineage, and every lineage was
-- built reading a date-only time as its midnight UTC (migration 4 keeps precisions from now on):
-- all of it is owed, so the next run that writes (or `lineage --stale`) rebuilds it.
INSERT INTO lineage_pending SELECT version_id FROM versions;
