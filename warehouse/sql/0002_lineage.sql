-- reusetrack warehouse, schema version 2: what pages say about themselves, learned site
-- boilerplate, version diffs, and lineage (reuse edges, stories, lineage trees, edit labels).
-- The lineage tables are derived: each ingest run rebuilds the stories it touched.

CREATE TABLE version_meta (
    version_id       BIGINT PRIMARY KEY,
    fetched_url      VARCHAR,                 -- the URL the page was read from (documents.url is the canonical one)
    canonical_url    VARCHAR,                 -- the page's rel=canonical
    site_name        VARCHAR,                 -- og:site_name or the like ("South Front")
    published_source VARCHAR,                 -- where versions.published_at was read ('meta:article:published_time'...)
    modified_at      TIMESTAMPTZ,
    other_dates      JSON,                    -- [[source, time]] from outside the page: feed pubDate, sitemap lastmod
    authors          VARCHAR[],
    tags             VARCHAR[],
    header           VARCHAR[]                -- lines between headline and body: byline, dateline, source, tags
);

CREATE TABLE blocks (
    version_id  BIGINT NOT NULL,
    position    INTEGER NOT NULL,             -- order in the version
    kind        VARCHAR NOT NULL,             -- paragraph, heading, list_item, quote, caption
    char_start  INTEGER NOT NULL,             -- half-open span of versions.text
    char_end    INTEGER NOT NULL,
    boilerplate VARCHAR,                      -- the extractor's label of a marked block (donation, disclaimer...)
    text_hash   UBIGINT NOT NULL,             -- of the normalised text, digits folded: what site boilerplate is learned on
    PRIMARY KEY (version_id, position)
);

CREATE TABLE links (
    version_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    href       VARCHAR NOT NULL,
    text       VARCHAR,
    block      INTEGER                        -- blocks.position of the link, NULL outside the text
);

CREATE TABLE credits (
    version_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,              -- original_source, source_link, canonical, quote_source, meta...
    text       VARCHAR NOT NULL,
    outlet     VARCHAR,
    url        VARCHAR,
    block      INTEGER
);

CREATE TABLE version_diffs (
    doc_id      BIGINT NOT NULL,
    old_version BIGINT NOT NULL,
    new_version BIGINT NOT NULL,
    run_id      BIGINT NOT NULL,
    labels      VARCHAR[] NOT NULL,           -- the edit labels of the new version against the old
    changes     JSON NOT NULL,                -- changed paragraphs with their word-level diffs
    PRIMARY KEY (old_version, new_version)
);

CREATE TABLE site_boilerplate (
    site      VARCHAR NOT NULL,
    text_hash UBIGINT NOT NULL,
    docs      INTEGER NOT NULL,               -- current documents of the site holding the block
    site_docs INTEGER NOT NULL,               -- current documents of the site
    sample    VARCHAR NOT NULL,               -- the block's text in one of them
    PRIMARY KEY (site, text_hash)
);

CREATE TABLE lineage_stories (
    story_id     BIGINT PRIMARY KEY,          -- the smallest doc_id of the story
    run_id       BIGINT NOT NULL,
    root_doc     BIGINT NOT NULL,             -- the root of the lineage tree
    earliest_doc BIGINT NOT NULL,             -- the document with the earliest time
    documents    INTEGER NOT NULL,
    sites        VARCHAR[] NOT NULL,
    first_time   TIMESTAMPTZ,
    last_time    TIMESTAMPTZ
);

CREATE TABLE lineage_nodes (
    story_id    BIGINT NOT NULL,
    doc_id      BIGINT NOT NULL,
    version_id  BIGINT NOT NULL,
    parent_doc  BIGINT,                       -- NULL for the root and for children of an unseen upstream
    upstream    VARCHAR,                      -- the unseen upstream node this document hangs from
    edge_id     BIGINT,                       -- the tree edge into this document
    depth       INTEGER NOT NULL,             -- hops from the root (an unseen upstream counts as one)
    doc_time    TIMESTAMPTZ,                  -- published, else another page or feed date, else first seen
    time_source VARCHAR,                      -- 'published', 'modified', 'feed', 'sitemap', 'first_seen'
    PRIMARY KEY (doc_id)
);

CREATE TABLE reuse_edges (
    edge_id          BIGINT PRIMARY KEY,
    run_id           BIGINT NOT NULL,
    story_id         BIGINT NOT NULL,
    source_doc       BIGINT NOT NULL,         -- for an undirected edge, the earlier of the two
    target_doc       BIGINT NOT NULL,
    source_version   BIGINT NOT NULL,         -- the source version the target matches best
    target_version   BIGINT NOT NULL,
    relation         VARCHAR NOT NULL,        -- 'copy' (directed), 'undirected', 'shared_upstream', 'unseen_upstream'
    directed         BOOLEAN NOT NULL,
    in_tree          BOOLEAN NOT NULL,        -- chosen for the lineage tree (its source is the target's parent)
    via_doc          BIGINT,                  -- shared_upstream: the earlier document both took the text from
    upstream         VARCHAR,                 -- unseen_upstream: the node standing for the source nobody stored
    method           VARCHAR,                 -- the agreeing signals, strongest first ('credit+dates')
    confidence       DOUBLE NOT NULL,         -- 0..1 that source -> target is the direction (0 when undirected)
    evidence         JSON NOT NULL,           -- every signal: name, vote, weight, detail
    lag_seconds      BIGINT,                  -- target time minus source time
    shared_chars_source INTEGER NOT NULL,     -- non-boilerplate characters shared, on each side
    shared_chars_target INTEGER NOT NULL,
    coverage_source  DOUBLE NOT NULL,         -- share of the source's text found in the target
    coverage_target  DOUBLE NOT NULL,
    in_order         BOOLEAN NOT NULL,
    credited         VARCHAR NOT NULL,        -- 'credited', 'credited_other', 'uncredited'
    attribution      JSON NOT NULL,           -- what credits whom, and whether it agrees with the lineage
    labels           VARCHAR[] NOT NULL,      -- edit labels: headline_changed, footer_added, numbers_changed...
    corrections      VARCHAR                  -- 'picked_up', 'missed' or NULL: later source versions vs the copy
);

CREATE TABLE edge_edits (
    edge_id      BIGINT NOT NULL,
    position     INTEGER NOT NULL,
    label        VARCHAR NOT NULL,            -- paragraph_changed, paragraph_dropped, preamble_added, headline_changed...
    source_start INTEGER,                     -- span of the source version's text, when the edit has one
    source_end   INTEGER,
    target_start INTEGER,                     -- span of the target version's text
    target_end   INTEGER,
    source_text  VARCHAR,
    target_text  VARCHAR,
    detail       JSON NOT NULL,               -- word-level diff ops and the kinds of change found
    PRIMARY KEY (edge_id, position)
);
