-- reusetrack warehouse, migration 7: watchlists and the alerts they raise. A watch names a site, a
-- document or a passage of text; the lineage update that takes in new documents raises, in its own
-- transaction, one alert per watch and new copy (a document first stored after the watch was
-- added): an alert is never lost to a killed run (its lineage, alerts included, is still owed) and
-- never raised twice (one per watch and copy, also when lineage is rebuilt).

CREATE TABLE watches (
    watch_id      BIGINT PRIMARY KEY,
    kind          VARCHAR NOT NULL,           -- 'site', 'document' or 'text'
    target        VARCHAR NOT NULL,           -- the site, the document's URL, or the text file as given
    site          VARCHAR,                    -- kind 'site': the site (documents.site) watched
    doc_id        BIGINT,                     -- kind 'document': the document watched
    text          VARCHAR,                    -- kind 'text': the passage watched for
    name          VARCHAR,
    note          VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL,
    after_version BIGINT NOT NULL,            -- the last version stored before the watch: documents first stored after it are new
    removed_at    TIMESTAMPTZ                 -- `watch remove`: raises no more alerts; the ones raised stay
);

CREATE TABLE alerts (
    alert_id            BIGINT PRIMARY KEY,
    watch_id            BIGINT NOT NULL,
    run_id              BIGINT NOT NULL,      -- the run whose lineage update raised it
    raised_at           TIMESTAMPTZ NOT NULL,
    copy_doc            BIGINT NOT NULL,      -- the new copy
    copy_version        BIGINT NOT NULL,
    copy_time           TIMESTAMPTZ,          -- its time in the lineage (published, else feed date, else first seen)
    copy_time_precision VARCHAR,
    source_doc          BIGINT,               -- the document it copies (NULL for a text watch)
    source_version      BIGINT,
    relation            VARCHAR,              -- the reuse edge's: 'copy' or 'undirected'; 'text' for a text watch
    directed            BOOLEAN,
    method              VARCHAR,
    confidence          DOUBLE,
    lag_seconds         BIGINT,
    coverage_source     DOUBLE,               -- share of the source (or of the watched passage) found in the copy
    coverage_target     DOUBLE,               -- share of the copy that is the source's (or the passage's) text
    credited            VARCHAR,              -- 'credited', 'credited_other', 'uncredited'; NULL for a text watch
    labels              VARCHAR[] NOT NULL,   -- the copy's edit labels against its source
    evidence            JSON NOT NULL,        -- the edge's direction signals, or the passage's matched spans
    seen_at             TIMESTAMPTZ,          -- `alerts --mark-seen`
    UNIQUE (watch_id, copy_doc)
);

CREATE TABLE webhooks (
    url         VARCHAR PRIMARY KEY,          -- where `crawl --webhook URL` POSTs new alerts
    added_at    TIMESTAMPTZ NOT NULL,
    after_alert BIGINT NOT NULL               -- the last alert raised before it was first given: later ones are owed to it
);

CREATE TABLE alert_deliveries (
    alert_id        BIGINT NOT NULL,
    url             VARCHAR NOT NULL,         -- webhooks.url
    attempts        INTEGER NOT NULL,         -- POSTs tried, over all runs
    last_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      VARCHAR,                  -- why the last attempt failed (NULL once delivered)
    delivered_at    TIMESTAMPTZ,              -- NULL: still owed, retried at the next run
    PRIMARY KEY (alert_id, url)
);
