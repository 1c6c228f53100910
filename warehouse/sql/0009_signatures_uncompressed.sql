-- reusetrack warehouse, migration 9: signatures stored without compression.
-- A MinHash signature is random bytes: DuckDB's string compression (dictionary and FSST) finds
-- nothing to take out of it, but trying cost every commit and checkpoint that wrote signatures
-- (a 1M-passage ingest: 12.1 s of commits, 7.0 s with this). The table is rebuilt once, the same rows.

CREATE TABLE signatures_rebuilt (
    passage_id BIGINT PRIMARY KEY,
    minhash    BLOB NOT NULL USING COMPRESSION uncompressed  -- num_perm little-endian uint32 values (datasketch affine32)
);
INSERT INTO signatures_rebuilt SELECT passage_id, minhash FROM signatures;
DROP TABLE signatures;
ALTER TABLE signatures_rebuilt RENAME TO signatures;
