-- reusetrack warehouse, migration 3: the crawler's frontier, fetch log, raw pages and sources.
-- A crawl commits a batch of pages together with their documents, passages, fingerprints and the
-- frontier rows they change, in one transaction: a crawl killed at any moment loses nothing committed.

CREATE TABLE crawl_sources (
    name       VARCHAR PRIMARY KEY,           -- a [[site]] of the sources file, or the host of a URL
    site       VARCHAR,                       -- publisher label given to its documents
    config     JSON NOT NULL,                 -- the source as configured
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE frontier (
    url             VARCHAR PRIMARY KEY,      -- canonical URL
    host            VARCHAR NOT NULL,         -- politeness key: host[:port]
    source          VARCHAR,                  -- crawl_sources.name
    kind            VARCHAR NOT NULL,         -- page, feed, sitemap (a page may turn out to be either)
    depth           INTEGER NOT NULL,         -- links followed from a start page
    state           VARCHAR NOT NULL,         -- todo, done, failed, blocked
    reason          VARCHAR,                  -- why failed, blocked or deferred (outcome: message)
    attempts        INTEGER NOT NULL,         -- failed fetches since the last success
    discovered_at   TIMESTAMPTZ NOT NULL,
    discovered_from VARCHAR,                  -- the page, feed or sitemap it was found on
    next_fetch_at   TIMESTAMPTZ,              -- due time (todo), recheck (done), retry (failed)
    last_fetched_at TIMESTAMPTZ,
    last_status     INTEGER,
    etag            VARCHAR,                  -- validators for conditional GET
    last_modified   VARCHAR,
    content_sha256  VARCHAR,                  -- of the last decoded body (raw_pages.sha256)
    unchanged       INTEGER NOT NULL,         -- unchanged fetches in a row (adaptive interval)
    interval_s      DOUBLE,                   -- current recheck interval in seconds
    doc_id          BIGINT,                   -- the document its content became
    final_url       VARCHAR,                  -- after redirects
    hint_published  TIMESTAMPTZ,              -- date given where it was found (lineage evidence)
    hint_source     VARCHAR,                  -- which: 'feed' (pubDate), 'sitemap-news' (publication_date), 'sitemap' (lastmod)
    hint_title      VARCHAR
);

CREATE TABLE fetch_log (
    fetch_id     BIGINT PRIMARY KEY,
    run_id       BIGINT NOT NULL,
    url          VARCHAR NOT NULL,
    final_url    VARCHAR,
    started_at   TIMESTAMPTZ NOT NULL,
    elapsed_ms   INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,            -- 1 for the first try of this URL since its last success
    outcome      VARCHAR NOT NULL,            -- ok, not_modified, http_error, timeout, reset, too_large...
    status       INTEGER,
    error        VARCHAR,
    redirects    JSON,                        -- the hops followed, in order
    peer         VARCHAR,                     -- the address connected to
    bytes        BIGINT,                      -- decoded body size
    raw_sha256   VARCHAR,                     -- raw_pages.sha256 of the body
    content_type VARCHAR,
    kind         VARCHAR,                     -- page, feed or sitemap, as read
    result       VARCHAR,                     -- stored, unchanged, not_text, empty (reason), N links...
    version_id   BIGINT                       -- the version stored from it
);

CREATE TABLE raw_pages (
    sha256      VARCHAR PRIMARY KEY,          -- of the decoded body: content-addressed, stored once
    size        BIGINT NOT NULL,              -- decoded bytes
    compression VARCHAR NOT NULL,             -- 'zstd'
    body        BLOB NOT NULL,
    first_url   VARCHAR NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL
);
