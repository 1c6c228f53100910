-- reusetrack warehouse, migration 5: what lineage still owes. The lineage tables are derived
-- state: each batch records its new versions here in its own transaction, and the lineage update
-- that takes them into account deletes them in its transaction. A run killed before its lineage
-- leaves its versions here; the next run that writes (or `reusetrack lineage --stale`) brings
-- the lineage up to date with them.

CREATE TABLE lineage_pending (
    version_id BIGINT PRIMARY KEY
);

-- Before this table, a run killed before its end never built its lineage: its versions are owed.
INSERT INTO lineage_pending
SELECT v.version_id FROM versions v JOIN runs r USING (run_id) WHERE r.finished_at IS NULL;
