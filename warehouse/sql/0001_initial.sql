-- reusetrack warehouse, schema version 1: documents, versions, passages, fingerprints, matches.
-- Ids are assigned by the single writer process in batches, so bulk loads need no sequences.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,  -- 'fingerprint_key', 'settings', 'created_by_duckdb'
    value VARCHAR NOT NULL
);

CREATE TABLE runs (
    run_id             BIGINT PRIMARY KEY,
    command            VARCHAR NOT NULL,      -- ingest, eval...
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ,
    reusetrack_version VARCHAR NOT NULL,
    fingerprint_key    VARCHAR NOT NULL,      -- digest of the settings that change signatures
    settings           JSON NOT NULL,         -- every setting used by this run
    stats              JSON                   -- counts: ingested, unchanged, skipped, failed...
);

CREATE TABLE documents (
    doc_id     BIGINT PRIMARY KEY,
    url        VARCHAR NOT NULL UNIQUE,       -- canonical URL, or file:// URL of a local file
    site       VARCHAR,                       -- publisher: host or configured label
    first_seen TIMESTAMPTZ NOT NULL
);

CREATE TABLE versions (
    version_id   BIGINT PRIMARY KEY,
    doc_id       BIGINT NOT NULL,
    run_id       BIGINT NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL,
    content_hash VARCHAR NOT NULL,            -- sha256 of the text
    title        VARCHAR,
    published_at TIMESTAMPTZ,
    source       VARCHAR,                     -- where it was read from
    text         VARCHAR NOT NULL,            -- the plain text all offsets refer to
    chars        INTEGER NOT NULL,
    tokens       INTEGER NOT NULL,
    state        VARCHAR NOT NULL             -- 'ok', or why it has no passages ('too_short')
);

CREATE TABLE passages (
    passage_id  BIGINT PRIMARY KEY,
    version_id  BIGINT NOT NULL,
    position    INTEGER NOT NULL,             -- order in the version
    kind        VARCHAR NOT NULL,             -- 'paragraph' or 'window'
    token_start INTEGER NOT NULL,
    token_end   INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,             -- half-open span of versions.text
    char_end    INTEGER NOT NULL,
    unspaced    BOOLEAN NOT NULL              -- shingled by characters
);

CREATE TABLE signatures (
    passage_id BIGINT PRIMARY KEY,
    minhash    BLOB NOT NULL                  -- num_perm little-endian uint32 values (datasketch affine32)
);

CREATE TABLE band_keys (
    key        UBIGINT NOT NULL,              -- hash of (band number, band values)
    passage_id BIGINT NOT NULL,
    version_id BIGINT NOT NULL
);

CREATE TABLE matches (
    match_id   BIGINT PRIMARY KEY,
    run_id     BIGINT NOT NULL,
    version_a  BIGINT NOT NULL,               -- version_a < version_b
    a_start    INTEGER NOT NULL,
    a_end      INTEGER NOT NULL,
    version_b  BIGINT NOT NULL,
    b_start    INTEGER NOT NULL,
    b_end      INTEGER NOT NULL,
    similarity DOUBLE NOT NULL,               -- share of aligned tokens
    kind       VARCHAR NOT NULL,              -- verbatim, near-verbatim, edited, rewritten, summary
    a_tokens   INTEGER NOT NULL,
    b_tokens   INTEGER NOT NULL
);

CREATE TABLE doc_pairs (
    version_a       BIGINT NOT NULL,
    version_b       BIGINT NOT NULL,
    run_id          BIGINT NOT NULL,
    candidates      INTEGER NOT NULL,         -- passage pairs the LSH proposed
    shared_passages INTEGER NOT NULL,         -- of those, verified by exact shingle overlap
    matches         INTEGER NOT NULL,
    shared_chars_a  INTEGER NOT NULL,
    shared_chars_b  INTEGER NOT NULL,
    coverage_a      DOUBLE NOT NULL,
    coverage_b      DOUBLE NOT NULL,
    longest_chars   INTEGER NOT NULL,
    in_order        BOOLEAN NOT NULL,
    PRIMARY KEY (version_a, version_b)
);
