-- reusetrack warehouse, migration 6: every URL a document was read from. A document is stored
-- under one URL (documents.url), but is read from others too: an AMP twin or a URL with tracking
-- parameters whose same-site canonical names it. version_meta.fetched_url records the URL of each
-- stored version only, so an alias read after its document, with the same text ("unchanged"),
-- left no trace and no command found the document by it. Each batch records here, in its own
-- transaction, the URL every document it read was read from, stored or unchanged.

CREATE TABLE document_urls (
    doc_id     BIGINT NOT NULL,
    url        VARCHAR NOT NULL,              -- as read: fetched URL, WARC target URI, record's url, file:// URL
    first_seen TIMESTAMPTZ NOT NULL,          -- when the document was first read from it
    PRIMARY KEY (doc_id, url)
);

-- What earlier runs recorded: the URL each stored version was read from (its own URL when none).
INSERT INTO document_urls
SELECT v.doc_id, coalesce(m.fetched_url, d.url), min(v.fetched_at)
FROM versions v JOIN documents d USING (doc_id) LEFT JOIN version_meta m USING (version_id)
GROUP BY ALL;
